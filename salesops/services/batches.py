"""Start runs of one SOP over a selection of records (the run_sop command and the main job)."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from connectors.base import RecordRef
from salesops.models import Connection, CrmRecordMirror, Run, Sop
from salesops.services.connections import connection_connector, connection_default
from salesops.services.runs import run_execute, runs_create
from salesops.services.schedules import mirror_document
from salesops.services.sync import connection_sync
from salesops.specs import compile_expression
from salesops.specs.model import ExpressionError
from salesops.specs.scope import ExpressionScope


def sop_get(*, name: str) -> Sop:
    """The SOP called `name`, with a clear error listing the known ones."""
    try:
        return Sop.objects.select_related("published_version").get(name=name)
    except Sop.DoesNotExist:
        known = ", ".join(Sop.objects.order_by("name").values_list("name", flat=True)) or "none"
        raise ValueError(f"no SOP named {name!r} (known: {known}); run load_sops first") from None


def records_select(
    *, sop: Sop, where: str | None = None, connection: Connection | None = None
) -> list[str]:
    """Ids of mirrored records of the SOP's object, filtered by a CEL `where` over `record`
    (the connection's mirror is synced first, so a manual batch sees fresh records)."""
    connection = connection or connection_default()
    # Skipped while a scheduled sync holds the lease: that sync is bringing the mirror up.
    connection_sync(connection=connection)
    mirrors = CrmRecordMirror.objects.filter(
        connection=connection, object_type=sop.object_type, deleted_at__isnull=True
    )
    if not where:
        return sorted(mirrors.values_list("record_id", flat=True))
    expr = compile_expression(
        where, scope=ExpressionScope.for_sop(sop.object_type), source="--where", field="where"
    )
    now = timezone.now()
    chosen = []
    for mirror in mirrors.order_by("record_id"):
        activation = {
            "record": mirror_document(mirror, now=now),
            "now": now.isoformat(),
            "today": now.date().isoformat(),
        }
        try:
            if expr.evaluate(activation) is True:
                chosen.append(mirror.record_id)
        except ExpressionError:
            continue
    return chosen


def runs_start(
    *,
    sop: Sop,
    record_ids: list[str],
    batch: str | None = None,
    shadow: bool = False,
    user: Any = None,
    enqueue: bool = True,
    connection: Connection | None = None,
) -> tuple[list[Run], int]:
    """Create one manual run per record (idempotent per `batch` label); returns (runs, new)."""
    batch = batch or f"manual:{uuid.uuid4().hex}"
    version = sop.published_version
    return runs_create(
        sop=sop,
        refs=[RecordRef(sop.object_type, record_id) for record_id in record_ids],
        trigger=Run.Trigger.MANUAL,
        event_key=f"{batch}:v{version.number if version else 0}",
        shadow=shadow,
        user=user,
        enqueue=enqueue,
        connection=connection,
    )


def runs_execute_inline(runs: list[Run]) -> list[Run]:
    """Execute runs in this process (no queue): for `--sync` and shadow tries in admin."""
    return [run_execute(run_id=run.pk) for run in runs]


def records_missing(
    *, sop: Sop, record_ids: list[str], connection: Connection | None = None
) -> list[str]:
    """The ids among `record_ids` that the CRM does not have."""
    connector = connection_connector(connection or connection_default())
    found = {r.id for r in connector.get_many(sop.object_type, record_ids)}
    return [rid for rid in record_ids if rid not in found]
