"""Start runs of one SOP over a selection of records (the run_sop command and the main job)."""

from __future__ import annotations

import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.utils import timezone

from salesops.models import Connection, Run, Sop
from salesops.services.connections import connection_connector, connection_default
from salesops.services.runs import run_execute
from salesops.services.selection import CHUNK, Chunk, mirror_ids_selected, runs_create_chunks
from salesops.services.sync import connection_sync
from salesops.specs import compile_expression
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
    return list(records_select_iter(sop=sop, where=where, connection=connection))


def records_select_iter(
    *, sop: Sop, where: str | None = None, connection: Connection | None = None
) -> Iterator[str]:
    """`records_select` streamed from the database in id order; the sync and the compile of
    `where` (and its errors) happen now, the reading as the ids are consumed."""
    connection = connection or connection_default()
    # Skipped while a scheduled sync holds the lease: that sync is bringing the mirror up.
    connection_sync(connection=connection)
    expr = (
        compile_expression(
            where, scope=ExpressionScope.for_sop(sop.object_type), source="--where", field="where"
        )
        if where
        else None
    )
    return mirror_ids_selected(
        connection=connection, object_type=sop.object_type, where=expr, now=timezone.now()
    )


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
    runs: list[Run] = []
    new = 0
    for chunk in _manual_chunks(sop, record_ids, batch, shadow, user, enqueue, connection):
        runs += chunk.runs
        new += len(chunk.created)
    return runs, new


def runs_start_ids(
    *,
    sop: Sop,
    record_ids: Iterable[str],
    batch: str | None = None,
    shadow: bool = False,
    enqueue: bool = True,
    connection: Connection | None = None,
) -> array[int]:
    """`runs_start` for a selection of any size: the run ids only, in the order of
    `record_ids` (8 bytes a run), the runs created and enqueued a chunk at a time."""
    ids: array[int] = array("q")
    for chunk in _manual_chunks(sop, record_ids, batch, shadow, None, enqueue, connection):
        ids.extend(run.pk for run in chunk.runs)
    return ids


def _manual_chunks(
    sop: Sop,
    record_ids: Iterable[str],
    batch: str | None,
    shadow: bool,
    user: Any,
    enqueue: bool,
    connection: Connection | None,
) -> Iterator[Chunk]:
    batch = batch or f"manual:{uuid.uuid4().hex}"
    version = sop.published_version
    return runs_create_chunks(
        sop=sop,
        record_ids=record_ids,
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


def run_execute_inline(run_id: int) -> Run:
    """Execute one run in this process (no queue): `run_sop --sync`, one run at a time."""
    return run_execute(run_id=run_id)


def records_missing(
    *, sop: Sop, record_ids: list[str], connection: Connection | None = None
) -> list[str]:
    """The ids among `record_ids` that the CRM does not have."""
    connector = connection_connector(connection or connection_default())
    found = {r.id for r in connector.get_many(sop.object_type, record_ids)}
    return [rid for rid in record_ids if rid not in found]


def runs_wait_ids(
    run_ids: Sequence[int],
    *,
    timeout: float,
    on_progress: Callable[[int], None] | None = None,
    poll: float = 0.2,
) -> bool:
    """Block until every run is final (True) or `timeout` seconds pass (False); like
    `selectors.runs_wait` for any number of runs: each poll reads only the runs still
    pending, CHUNK ids a query."""
    deadline = time.monotonic() + timeout
    pending: Sequence[int] = run_ids
    done_before = -1
    while True:
        pending = array("q", _still_pending(pending))
        done = len(run_ids) - len(pending)
        if on_progress and done != done_before:
            on_progress(done)
            done_before = done
        if not pending:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)


def _still_pending(run_ids: Sequence[int]) -> Iterator[int]:
    final = [*Run.TERMINAL, Run.State.VERIFIED]
    for i in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[i : i + CHUNK])
        yield from (
            Run.objects.filter(pk__in=chunk).exclude(state__in=final).values_list("pk", flat=True)
        )


def runs_in_order(run_ids: Sequence[int]) -> Iterator[Run]:
    """The runs, CHUNK at a time in the order of `run_ids`, each chunk sorted by record id (a
    selection's ids come in record-id order, so the whole is too)."""
    for i in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[i : i + CHUNK])
        yield from Run.objects.filter(pk__in=chunk).order_by("record_id")
