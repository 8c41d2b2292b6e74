"""Connections: the CRM accounts salesops talks to, and the connector each one builds."""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from connectors import registry
from connectors.base import CrmConnector
from salesops.models import Connection, Sop
from salesops.services.credentials import credentials_decrypt, credentials_encrypt
from salesops.services.ratelimit import connector_limited

LOCAL_SLUG = "local"
log = logging.getLogger(__name__)


def connection_default() -> Connection:
    """The connection used when none is named (SALESOPS["CONNECTION"]; the local CRM by
    default, created on first use so a fresh install needs no admin clicks)."""
    slug = settings.SALESOPS["CONNECTION"]
    found = Connection.objects.filter(slug=slug).first()
    if found is not None:
        return found
    if slug != LOCAL_SLUG:
        raise Connection.DoesNotExist(f"no connection {slug!r} (SALESOPS_CONNECTION)")
    return connection_local()


def connection_local() -> Connection:
    """The built-in local CRM's connection, created when missing."""
    with transaction.atomic():
        connection, _ = Connection.objects.get_or_create(
            slug=LOCAL_SLUG,
            defaults={"kind": Connection.Kind.LOCAL, "name": "Local CRM", "account_id": "local"},
        )
    return connection


def sop_connections(sop: Sop) -> QuerySet[Connection]:
    """The enabled connections `sop` runs on: those it is limited to, else all of them."""
    chosen = Connection.objects.filter(enabled=True)
    if sop.connections.exists():
        chosen = chosen.filter(sops=sop)
    return chosen


def connection_for_account(kind: str, account_id: str) -> Connection:
    """The connection of `kind` for a vendor account; the local CRM's default account gets
    its connection created on first use."""
    found = Connection.objects.filter(kind=kind, account_id=account_id).order_by("pk").first()
    if found is not None:
        return found
    if kind == Connection.Kind.LOCAL and account_id == "local":
        return connection_local()
    raise Connection.DoesNotExist(f"no {kind} connection for account {account_id!r}")


def connection_get(slug: str) -> Connection:
    """The connection `slug`; raises Connection.DoesNotExist naming it."""
    try:
        return Connection.objects.get(slug=slug)
    except Connection.DoesNotExist:
        raise Connection.DoesNotExist(f"no connection {slug!r}") from None


def connection_credentials_set(connection: Connection, values: dict[str, Any]) -> None:
    """Store `values` as the connection's credentials, encrypted; never logged or shown."""
    connection.credentials = credentials_encrypt(values)
    connection.save(update_fields=["credentials", "updated_at"])


def connection_credentials_merge(pk: int, values: dict[str, Any]) -> None:
    """Merge `values` into connection `pk`'s stored credentials (None removes a key): a
    renewed OAuth token, stored so every process uses it instead of renewing its own. A
    failure is logged, never raised: the caller already holds a working token."""
    try:
        with transaction.atomic():
            connection = Connection.objects.select_for_update().get(pk=pk)
            stored = credentials_decrypt(connection.credentials)
            stored.update(values)
            kept = {k: v for k, v in stored.items() if v is not None}
            connection.credentials = credentials_encrypt(kept)
            connection.save(update_fields=["credentials", "updated_at"])
    except Exception as exc:  # a lost save costs one more renewal, no more
        log.warning("connection %s: renewed token not stored (%s)", pk, type(exc).__name__)


def connection_connector(connection: Connection) -> CrmConnector:
    """The connector for `connection`, built once per process per saved state."""
    return _connector(connection.pk, connection.updated_at)


@functools.lru_cache(maxsize=64)
def _connector(pk: int, updated_at: datetime | None) -> CrmConnector:
    # Keyed on updated_at: a credentials or mapping change builds a new client, while runs of
    # an unchanged connection share one (its SDK keeps a connection pool).
    connection = Connection.objects.get(pk=pk)
    connector = registry.connector_get(
        connection.kind,
        connectors=settings.SALESOPS["CONNECTORS"],
        **connector_options(connection),
    )
    listen = getattr(connector, "credentials_listen", None)
    if listen is not None:  # renewed OAuth tokens are stored for the other processes
        listen(functools.partial(connection_credentials_merge, pk))
    # Behind the connection's shared rate limiter and usage counters (services/ratelimit.py).
    return connector_limited(connection, connector)


def connector_options(connection: Connection) -> dict[str, Any]:
    """Constructor options: the kind's settings defaults, the connection's account and value
    mapping (every connector takes both), then its decrypted credentials."""
    defaults: dict[str, Any] = settings.SALESOPS.get("CONNECTOR_OPTIONS", {}).get(
        connection.kind, {}
    )
    options = {**defaults, "mapping": connection.mapping or {}}
    if connection.account_id:
        options["account"] = connection.account_id
    options.update({k: v for k, v in credentials_decrypt(connection.credentials).items() if v})
    return options


def connections_reset() -> None:
    """Forget built connectors (tests change settings)."""
    _connector.cache_clear()
