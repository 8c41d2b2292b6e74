"""Scheduled triggers: start runs for due cron slots over the record mirror (services/sync.py
keeps it fresh, as its own scheduled task)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from django.utils import timezone

from connectors.base import RecordRef
from salesops.models import Connection, CrmRecordMirror, Run, Sop
from salesops.services import agent_batches
from salesops.services.connections import sop_connections
from salesops.services.ratelimit import connection_schedulable
from salesops.services.runs import run_create
from salesops.services.sops import sop_spec_get
from salesops.specs.model import ExpressionError

logger = logging.getLogger(__name__)

# A slot older than this is not started late: after downtime we skip to the next slot.
CATCH_UP = timedelta(minutes=15)


def mirror_document(mirror: CrmRecordMirror, *, now: datetime) -> dict[str, Any]:
    """A selector's view of a mirrored record: its properties plus the derived day counts."""
    doc: dict[str, Any] = {
        "id": mirror.record_id,
        "object": mirror.object_type,
        **mirror.properties,
    }
    last = doc.get("last_activity_at")
    doc["days_since_last_activity"] = (
        (now - datetime.fromisoformat(last)).days if isinstance(last, str) and last else None
    )
    if mirror.object_type == "deal":
        close = doc.get("close_date")
        doc["days_to_close"] = (
            (datetime.fromisoformat(close).date() - now.date()).days
            if isinstance(close, str) and close
            else None
        )
    return doc


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
    mirrors = CrmRecordMirror.objects.filter(
        connection=connection, object_type=sop.object_type, deleted_at__isnull=True
    )
    for mirror in mirrors.iterator(chunk_size=500):
        if trigger.where is not None:
            activation = {
                "record": mirror_document(mirror, now=now),
                "now": now.isoformat(),
                "today": now.date().isoformat(),
            }
            try:
                if trigger.where.evaluate(activation) is not True:
                    continue
            except ExpressionError as exc:
                logger.info("where of %s skipped %s: %s", sop.name, mirror, exc)
                continue
        run, created = run_create(
            sop=sop,
            ref=RecordRef(sop.object_type, mirror.record_id),
            trigger=Run.Trigger.SCHEDULE,
            event_key=f"schedule:{index}:{slot.isoformat()}",
            connection=connection,
            enqueue=not batching,
        )
        started += int(created)
        # A queued run never sent (a tick that died before dispatch) is picked up again.
        unsent = batching and run.state == Run.State.QUEUED
        if unsent and (created or not agent_batches.run_batched(run=run)):
            fresh.append(run)
    if fresh:
        agent_batches.runs_dispatch(runs=fresh)
    return started


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
