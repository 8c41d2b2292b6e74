"""Scheduled triggers: start runs for due cron slots over the record mirror (services/sync.py
keeps it fresh, as its own scheduled task)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from django.utils import timezone

from salesops.models import AgentBatchItem, Connection, Run, Sop
from salesops.services import agent_batches
from salesops.services.connections import sop_connections
from salesops.services.ratelimit import connection_schedulable
from salesops.services.selection import Chunk, mirror_ids_selected, runs_create_chunks
from salesops.services.selection import mirror_document as mirror_document  # re-exported
from salesops.services.sops import sop_spec_get

# A slot older than this is not started late: after downtime we skip to the next slot.
CATCH_UP = timedelta(minutes=15)


def schedule_tick(*, now: datetime | None = None) -> int:
    """Start runs for every schedule trigger whose latest slot is due. Idempotent per slot."""
    now = now or timezone.now()
    started = 0
    sops = Sop.objects.filter(enabled=True, published_version__isnull=False).select_related(
        "published_version__sop"
    )
    for sop in sops:
        assert sop.published_version is not None  # filtered on published_version__isnull=False
        spec = sop_spec_get(sop.published_version)
        for index, trigger in enumerate(spec.triggers):
            if not trigger.schedule:
                continue
            slot = croniter(trigger.schedule, now).get_prev(datetime)
            if now - slot > CATCH_UP:
                continue
            for connection in sop_connections(sop):
                if not connection_schedulable(connection):  # near its daily CRM budget
                    continue
                started += _start_slot(sop, connection, trigger, index, slot, now)
    return started


def _start_slot(
    sop: Sop, connection: Connection, trigger: Any, index: int, slot: datetime, now: datetime
) -> int:
    started = 0
    # With batching on, the slot's new runs are sent as Message Batches once all are created.
    batching = agent_batches.batch_scheduled_runs()
    fresh: list[Run] = []
    selected = mirror_ids_selected(
        connection=connection, object_type=sop.object_type, where=trigger.where, now=now
    )
    for chunk in runs_create_chunks(
        sop=sop,
        record_ids=selected,
        trigger=Run.Trigger.SCHEDULE,
        event_key=f"schedule:{index}:{slot.isoformat()}",
        connection=connection,
        enqueue=not batching,
    ):
        started += len(chunk.created)
        if batching:
            fresh += _unsent(chunk)
    if fresh:
        agent_batches.runs_dispatch(runs=fresh)
    return started


def _unsent(chunk: Chunk) -> list[Run]:
    """The chunk's queued runs never sent: the new ones, and those a tick that died before
    dispatch left behind (queued, in no batch), which are picked up again."""
    created = {run.pk for run in chunk.created}
    queued = {run.pk: run for run in chunk.runs if run.state == Run.State.QUEUED}
    batched = set(
        AgentBatchItem.objects.filter(run_id__in=set(queued) - created).values_list(
            "run_id", flat=True
        )
    )
    return [run for pk, run in queued.items() if pk in created or pk not in batched]


# (schedule name, task): each runs every minute. The tick only reads the mirror; the sync
# schedule enqueues one sync task per connection (each skips while one is already running).
_SCHEDULES = (
    ("salesops-schedule-tick", "salesops.tasks.schedule_tick"),
    ("salesops-sync", "salesops.tasks.syncs_enqueue"),
    ("salesops-batch-poll", "salesops.tasks.agent_batches_poll"),
    ("salesops-runs-sweep", "salesops.tasks.runs_sweep"),
)


def schedules_install() -> None:
    """Create (once) the django-q2 schedules, every minute: the tick, the CRM syncs, the batch
    poll and the sweeper that takes back runs a dead worker or a lost task left behind."""
    from django_q.models import Schedule

    for name, func in _SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": 1,
                "repeats": -1,
            },
        )
