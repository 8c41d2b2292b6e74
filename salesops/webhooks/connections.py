"""The connection a webhook URL names, cached per process for a few seconds.

Every delivery needs its connection (enabled? which kind, account, secret?), and reading the row
was a third of a single-event request. A cached connection is used for at most
`CONNECTION_TTL_SECONDS`: a connection disabled, deleted or given new credentials in another
process stops being used that long after (in this process, at once: saving or deleting a
connection forgets the cache). Inside a transaction the row is always read, so a caller sees its
own changes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connections as db_connections
from django.db import router
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from salesops.models import Connection
from salesops.services.connections import LOCAL_SLUG, connection_local

# How long a disabled or changed connection may still be accepted by another process.
CONNECTION_TTL_SECONDS = 5.0

_cache: dict[tuple[str, str], tuple[float, Connection]] = {}
_lock = threading.Lock()


def webhook_connection(kind: str, slug: str) -> Connection | None:
    """The enabled connection `slug` of `kind`, or None (unknown, disabled, another kind)."""
    key = (kind, slug)
    cacheable = not db_connections[router.db_for_read(Connection)].in_atomic_block
    if cacheable:
        hit = _cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
    found = _connection_read(kind, slug)
    if cacheable:
        with _lock:
            if found is None:
                _cache.pop(key, None)
            else:
                _cache[key] = (time.monotonic() + CONNECTION_TTL_SECONDS, found)
    return found


def _connection_read(kind: str, slug: str) -> Connection | None:
    found = Connection.objects.filter(slug=slug).first()
    if found is None and slug == LOCAL_SLUG and kind == Connection.Kind.LOCAL:
        found = connection_local()  # the built-in CRM's connection exists by default
    if found is None or not found.enabled or found.kind != kind:
        return None
    return found


def webhook_connections_forget(*_args: Any, **_kwargs: Any) -> None:
    """Drop every cached connection (a connection changed here, or the tables were reset)."""
    with _lock:
        _cache.clear()


# A change made in this process applies to its next delivery; other processes wait out the TTL.
# post_migrate also follows a test database flush, which sends no delete signals.
receiver(post_save, sender=Connection, dispatch_uid="webhook-connection-saved")(
    webhook_connections_forget
)
receiver(post_delete, sender=Connection, dispatch_uid="webhook-connection-deleted")(
    webhook_connections_forget
)
receiver(post_migrate, dispatch_uid="webhook-connections-migrated")(webhook_connections_forget)
