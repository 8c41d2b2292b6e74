"""Enqueue helpers used by the edges and services, so views never name task paths themselves.

django-q2's `async_task` builds a new broker (for Redis, a new client and TCP connection) on
every call unless given `broker=`; that was half of a webhook request's time. `queue_broker`
keeps one per queue name per process instead.

Run tasks are enqueued with `save=False`: our `Run` row already holds every outcome, so a
successful run task is acknowledged without django-q2 writing (and pruning) a result row; a
task that raises is still saved, which django-q2's `max_attempts` count relies on. That
matters for throughput: with `save_limit` > 0 django-q2's monitor (one process per cluster)
locks and unpickles every kept success row for each finished task; at save_limit 1000 that
was 81% of its time and capped the cluster at ~50 runs/s (issue 13).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

RUN_TASK = "salesops.tasks.run_execute"
# Tasks per broker round trip (one RPUSH, or one INSERT of this many OrmQ rows).
PUSH_CHUNK = 500


def queue_broker(cluster: str | None = None) -> Broker:
    """This process's broker for `cluster`'s queue (None: the main cluster), built once."""
    # Keyed on the pid too: a forked worker must not share its parent's socket.
    return _broker(cluster or Conf.CLUSTER_NAME, os.getpid())


@functools.lru_cache(maxsize=8)
def _broker(list_key: str, pid: int) -> Broker:
    return get_broker(list_key)


def queue_brokers_reset() -> None:
    """Forget the cached brokers (tests that switch broker settings)."""
    from salesops.services.queue import shared_clients_reset

    _broker.cache_clear()
    shared_clients_reset()


def runs_enqueue(run_ids: Sequence[int], *, sop_id: int | None = None) -> None:
    """Hand runs to django-q2, one `run_execute` task per run, in a few broker round trips.

    Call it once the runs are committed. `sop_id` (when all runs share it) spares the query
    that names each task's group. One task per run, not per chunk: the claim, the sweeper's
    view of waiting runs and django-q2's timeout all count in runs.
    """
    ids = [int(i) for i in run_ids]
    if not ids:
        return
    cluster = settings.SALESOPS["RUN_CLUSTER"]
    broker = queue_broker(cluster or None)
    for start in range(0, len(ids), PUSH_CHUNK):
        chunk = ids[start : start + PUSH_CHUNK]
        sops = {i: sop_id for i in chunk} if sop_id is not None else _sop_ids(chunk)
        collect = _Collect(broker.list_key)
        for run_id in chunk:
            # async_task signs the package exactly as for one task; _Collect keeps it (in
            # django-q2's inline mode, Conf.SYNC, it runs the task instead and keeps nothing).
            async_task(
                RUN_TASK,
                run_id,
                task_name=f"run-{run_id}",
                group=f"sop:{sops.get(run_id)}",
                cluster=cluster,
                save=False,
                broker=collect,
            )
        packages_push(broker, collect.packages)


def packages_push(broker: Broker, packages: list[str]) -> None:
    """Put signed task packages on `broker`'s queue in order: one RPUSH on Redis, one INSERT
    on the ORM broker, one call per package on any other broker."""
    # Imported here: the redis package costs start-up time in commands that never enqueue.
    from django_q.brokers.orm import ORM
    from django_q.brokers.redis_broker import Redis
    from django_q.models import OrmQ

    if not packages:
        return
    if isinstance(broker, Redis):
        broker.connection.rpush(broker.list_key, *packages)
    elif isinstance(broker, ORM):
        now = timezone.now()
        key = broker.list_key or Conf.CLUSTER_NAME
        rows = [OrmQ(key=key, payload=package, lock=now) for package in packages]
        broker.get_connection().bulk_create(rows)
    else:
        for package in packages:
            broker.enqueue(package)


class _Collect(Broker):
    """A broker that keeps what `async_task` enqueues, for `packages_push` to send at once."""

    def __init__(self, list_key: str) -> None:
        self.list_key = list_key
        self.connection = None
        self.cache = None
        self._info = None
        self.packages: list[str] = []

    def enqueue(self, task: str) -> int:
        self.packages.append(task)
        return len(self.packages)


def _sop_ids(run_ids: list[int]) -> dict[int, int]:
    from salesops.models import Run

    return dict(Run.objects.filter(pk__in=run_ids).values_list("pk", "sop_id"))


def webhook_events_route_enqueue(webhook_event_ids: Sequence[int]) -> None:
    """Route one delivery's stored events in the background, in order, with one task,
    after the rows are committed."""
    ids = list(webhook_event_ids)
    if not ids:
        return
    transaction.on_commit(
        lambda: async_task(
            "salesops.tasks.webhook_events_route",
            ids,
            task_name=f"events-{ids[0]}-{len(ids)}",
            broker=queue_broker(),
        )
    )
