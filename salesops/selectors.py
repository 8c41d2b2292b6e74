"""Reads, named `<entity>_<what>`: queries the admin, the API and the commands share."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from salesops.models import Run, WriteBack


def runs_pending(run_ids: Iterable[int]) -> int:
    """How many of these runs have not reached a final state yet."""
    return (
        Run.objects.filter(pk__in=list(run_ids))
        .exclude(state__in=[*Run.TERMINAL, Run.State.VERIFIED])
        .count()
    )


def runs_wait(
    run_ids: list[int],
    *,
    timeout: float,
    on_progress: Callable[[int], None] | None = None,
    poll: float = 0.2,
) -> bool:
    """Block until every run is final (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    done_before = -1
    while True:
        pending = runs_pending(run_ids)
        done = len(run_ids) - pending
        if on_progress and done != done_before:
            on_progress(done)
            done_before = done
        if pending == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)


@dataclass
class SopRunSummary:
    """One line of the main job's summary table."""

    sop: str
    runs: int
    written: int
    escalated: int
    failed: int
    skipped: int
    writes: int
    seconds: float


def runs_summary(run_ids: list[int], *, since: datetime) -> list[SopRunSummary]:
    """Per SOP: runs, outcomes, CRM writes made since `since`, and wall time of the batch."""
    rows = (
        Run.objects.filter(pk__in=run_ids)
        .values("sop__name")
        .annotate(
            runs=Count("id"),
            written=Count("id", filter=Q(state=Run.State.WRITTEN)),
            escalated=Count("id", filter=Q(state=Run.State.ESCALATED)),
            failed=Count("id", filter=Q(state=Run.State.FAILED)),
            skipped=Count("id", filter=Q(state=Run.State.SKIPPED)),
            first=Min("queued_at"),
            last=Max("finished_at"),
        )
        .order_by("sop__name")
    )
    writes = dict(
        WriteBack.objects.filter(
            run_id__in=run_ids, status=WriteBack.Status.DONE, updated_at__gte=since
        )
        .exclude(result="exists")
        .values("run__sop__name")
        .annotate(n=Count("id"))
        .values_list("run__sop__name", "n")
    )
    return [
        SopRunSummary(
            sop=row["sop__name"],
            runs=row["runs"],
            written=row["written"],
            escalated=row["escalated"],
            failed=row["failed"],
            skipped=row["skipped"],
            writes=writes.get(row["sop__name"], 0),
            seconds=(row["last"] - row["first"]).total_seconds()
            if row["last"] and row["first"]
            else 0.0,
        )
        for row in rows
    ]
