"""The Redis broker with one client per process, named by Q_CLUSTER["broker_class"].

It keeps django-q2's class name, `Redis`, so it reads as the Redis broker wherever one is named.

django-q2's `get_broker()` builds a new `redis.Redis` (its own connection pool, so a new TCP
connection, CLIENT SETINFO and a package-metadata read) on every call, and `async_task` calls
it for every task not given `broker=`. Ours hands every broker of a process the same
client, so the call sites we do not route through `queue_broker` (escalation writes, syncs,
batch items, the sweeper, django-q2's own inline mode) share one connection too.
"""

from __future__ import annotations

import functools
import os

from django_q.brokers import redis_broker
from redis import Redis as RedisClient


class Redis(redis_broker.Redis):
    """django-q2's Redis broker, over this process's one client (see the module docstring)."""

    @staticmethod
    def get_connection(list_key: str | None = None) -> RedisClient:
        # Keyed on the pid: a forked cluster process gets its own client, never its parent's.
        return _client(os.getpid())


@functools.lru_cache(maxsize=4)
def _client(pid: int) -> RedisClient:
    return redis_broker.Redis.get_connection()


def shared_clients_reset() -> None:
    """Forget the cached clients (tests that switch REDIS_URL)."""
    _client.cache_clear()
