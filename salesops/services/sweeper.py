"""The sweeper, every minute on a django-q2 schedule: take back what a dead worker or a lost task
left behind, whatever its history, so no run stays `running`, `writing` or `queued` for good.

Runs claimed but abandoned (past their lease, or released by a stopped worker) go back to the
queue, or fail once they used SALESOPS_Q_MAX_ATTEMPTS. Queued runs whose task is not waiting in
the broker (a killed cluster took it: Redis pops without an ack, the ORM locks it until `retry`)
are enqueued again. Runs `retrying` after a retriable CRM error (429, 5xx, timeout) are handed
to a worker once their `retry_at` has passed: the decision to retry and its due time are one
UPDATE of the run, and this sweep is the only thing that enqueues them, so a crash between
"retry later" and "enqueued" cannot lose one (a retry starts up to a sweep, a minute, late).
A duplicate delivery is harmless: `run_execute` claims before it acts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from salesops.models import Run
from salesops.services.runs import BATCH_HELD, run_enqueue, run_give_up, runs_abandoned

logger = logging.getLogger(__name__)

# Per sweep: enough for any crash (a cluster holds at most a few tasks per worker), bounded
# so one sweep stays short whatever the backlog.
BATCH = 500
# Tasks read from the broker to learn which runs are waiting there; a longer backlog is moving
# anyway, and its lost runs are found once it is shorter.
SCAN = 10_000
RUN_TASK = "salesops.tasks.run_execute"


@dataclass(frozen=True)
class Sweep:
    """What one sweep did."""

    reclaimed: int = 0  # abandoned runs handed back to the queue
    failed: int = 0  # abandoned runs that had used their attempts
    requeued: int = 0  # queued runs whose task was lost
    retried: int = 0  # `retrying` runs whose retry was due

    @property
    def total(self) -> int:
        return self.reclaimed + self.failed + self.requeued + self.retried


def runs_sweep(*, now: datetime | None = None) -> Sweep:
    """Reclaim abandoned runs and re-enqueue queued runs whose task was lost; see the module."""
    now = now or timezone.now()
    waiting = _waiting_run_ids()
    reclaimed = failed = 0
    abandoned = runs_abandoned(now=now).order_by("started_at").values_list("pk", flat=True)
    for run_id in list(abandoned[:BATCH]):
        if run_give_up(run_id=run_id, now=now) is not None:
            failed += 1
        elif waiting is None or run_id not in waiting:
            # The delivery reclaims it (run_execute's claim), resuming where the run stopped.
            run_enqueue(run=Run.objects.get(pk=run_id))
            reclaimed += 1
    requeued = 0
    if waiting is not None:
        requeued = _requeue_lost(now, waiting)
    retried = _retries_due(now, waiting)
    sweep = Sweep(reclaimed=reclaimed, failed=failed, requeued=requeued, retried=retried)
    if sweep.total:
        logger.warning("sweeper: %s", sweep)
    return sweep


def _requeue_lost(now: datetime, waiting: set[int]) -> int:
    old = now - timedelta(seconds=settings.SALESOPS["REQUEUE_AFTER"])
    queued = (
        Run.objects.filter(state=Run.State.QUEUED, queued_at__lt=old)
        .exclude(agent_batch_item__status__in=BATCH_HELD)
        .exclude(pk__in=waiting)
        .order_by("queued_at")
    )
    count = 0
    for run in queued[:BATCH]:
        run_enqueue(run=run)
        count += 1
    return count


def _retries_due(now: datetime, waiting: set[int] | None) -> int:
    """Enqueue `retrying` runs whose retry is due (an approved escalation's write included:
    `run_execute` hands that to `escalation_write`). Without a readable broker every due run
    is enqueued; a second delivery finds it claimed."""
    due = Run.objects.filter(state=Run.State.RETRYING, retry_at__lte=now).order_by("retry_at")
    if waiting:
        due = due.exclude(pk__in=waiting)
    count = 0
    for run in due[:BATCH]:
        run_enqueue(run=run)
        count += 1
    return count


def _waiting_run_ids() -> set[int] | None:
    """Runs whose task waits in the broker, not yet taken by a cluster; None when the broker
    cannot be read (another broker, or a backlog longer than SCAN)."""
    broker = get_broker(settings.SALESOPS["RUN_CLUSTER"] or None)
    payloads = _waiting_payloads(broker)
    if payloads is None:
        return None
    ids = set()
    for payload in payloads:
        try:
            task = SignedPackage.loads(payload)
        except Exception:  # a task the pusher will refuse too
            continue
        if task.get("func") == RUN_TASK and task.get("args"):
            ids.add(int(task["args"][0]))
    return ids


def _waiting_payloads(broker: Broker) -> list[str] | list[bytes] | None:
    if isinstance(broker, ORM):
        # A locked row was taken by a cluster, live or dead: only unlocked rows are waiting.
        rows = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key, lock__lte=timezone.now())
        payloads: list[str] = list(rows.values_list("payload", flat=True)[: SCAN + 1])
        return None if len(payloads) > SCAN else payloads
    if isinstance(broker, Redis):
        # Tasks popped by a cluster are in its memory only: the list holds the waiting ones.
        if broker.connection.llen(broker.list_key) > SCAN:
            return None
        return list(broker.connection.lrange(broker.list_key, 0, SCAN))
    logger.warning("sweeper: cannot read %s; lost queued runs are not re-enqueued", broker)
    return None
