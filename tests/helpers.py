"""Helpers shared by tests and benchmarks."""

from __future__ import annotations

from connectors.base import RecordRef
from salesops.models import Run, Sop
from salesops.services.runs import run_create, run_execute


def run_now(sop_name: str, record_id: str, *, key: str = "t", shadow: bool = False) -> Run:
    """Create a manual run and execute it in this process, as the queue task would."""
    sop = Sop.objects.get(name=sop_name)
    run, _ = run_create(
        sop=sop,
        ref=RecordRef(sop.object_type, record_id),
        trigger="manual",
        event_key=key,
        shadow=shadow,
        enqueue=False,
    )
    return run_execute(run_id=run.pk)


def mirror_sync() -> int:
    """Sync the default connection's record mirror (the scheduled sync task's job); records."""
    from salesops.services.connections import connection_default
    from salesops.services.sync import connection_sync

    return connection_sync(connection=connection_default(), force=True).records
