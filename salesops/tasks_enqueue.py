"""Enqueue helpers used by the edges and services, so views never name task paths themselves.

django-q2's `async_task` builds a new broker (for Redis, a new client and TCP connection) on
every call unless given `broker=`; that was half of a webhook request's time. `queue_broker`
keeps one per queue name per process instead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.tasks import async_task


def queue_broker(cluster: str | None = None) -> Broker:
    """This process's broker for `cluster`'s queue (None: the main cluster), built once."""
    # Keyed on the pid too: a forked worker must not share its parent's socket.
    return _broker(cluster or Conf.CLUSTER_NAME, os.getpid())


@functools.lru_cache(maxsize=8)
def _broker(list_key: str, pid: int) -> Broker:
    return get_broker(list_key)


def queue_brokers_reset() -> None:
    """Forget the cached brokers (tests that switch broker settings)."""
    _broker.cache_clear()


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
