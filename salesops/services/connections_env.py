"""12-factor bootstrap: the connections the environment defines, created or updated at start-up.

settings.SALESOPS["ENV_CONNECTIONS"] holds what `salesops.env.env_connections` read from
HUBSPOT_*, SALESFORCE_* and SALESOPS_LOCAL_WEBHOOK_SECRET (validated when settings load). The
local connection always exists. Every value a spec carries is stored as an (encrypted)
credential, the non-secret ones too (HubSpot's `base_url`, `tier`, `client_id`,
`sync_history`): the connection then holds all its connector's options (`connector_options`
passes them through), so a connection added in admin needs no environment at all. Applying
is idempotent: a connection whose kind, account and credentials already match is not written,
so `updated_at` (and the connector cache keyed on it) only moves on a real change.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from salesops.models import Connection
from salesops.services.connections import connection_local
from salesops.services.credentials import (
    CredentialsError,
    credentials_decrypt,
    credentials_encrypt,
)

log = logging.getLogger(__name__)


class ConnectionEnvError(Exception):
    """The environment names a connection that clashes with a stored one."""


def connections_env_apply() -> list[str]:
    """Create or update the connections the environment defines; the slugs written.

    Raises:
        ConnectionEnvError: a slug the environment names belongs to a connection of another
            kind (the message names both).
        CredentialsError: the stored credentials of that connection cannot be decrypted.
    """
    written: list[str] = []
    with transaction.atomic():
        connection_local()
        for spec in settings.SALESOPS.get("ENV_CONNECTIONS", []):
            if _connection_apply(spec):
                written.append(str(spec["slug"]))
    return written


def _connection_apply(spec: dict[str, Any]) -> bool:
    kind, slug = spec["kind"], spec["slug"]
    connection = Connection.objects.select_for_update().filter(slug=slug).first()
    if connection is None:
        connection = Connection(kind=kind, slug=slug, name=f"{kind} (environment)")
    elif connection.kind != kind:
        raise ConnectionEnvError(
            f"the environment defines a {kind} connection {slug!r}, but {slug!r} is a "
            f"{connection.kind} connection; set another slug (e.g. {kind.upper()}_CONNECTION_SLUG)"
        )
    current = credentials_decrypt(connection.credentials)
    wanted = {k: v for k, v in current.items() if k not in spec["credentials"]}
    wanted.update({k: v for k, v in spec["credentials"].items() if v is not None})
    account_id = connection.account_id if spec["account_id"] is None else spec["account_id"]
    if (
        connection.pk is not None
        and connection.from_env
        and wanted == current
        and account_id == connection.account_id
    ):
        return False
    connection.account_id = account_id
    connection.from_env = True
    if wanted != current:
        connection.credentials = credentials_encrypt(wanted)
    connection.save()
    return True


_applied = False
_lock = threading.Lock()


def connections_env_ensure() -> None:
    """Apply the environment's connections once per process (later calls return at once).

    A database that is not ready yet (not migrated, unreachable) or a clash is logged, not
    raised, and tried again on the next call: this runs on a process's first request or task,
    which must not fail because of it; `migrate` (post_migrate) and `connection_check` apply
    it loudly instead.
    """
    global _applied
    if _applied:
        return
    with _lock:
        if _applied:
            return
        try:
            connections_env_apply()
        except (DatabaseError, ConnectionEnvError, CredentialsError) as exc:
            log.warning("connections from the environment not applied yet: %s", exc)
            return
        except Exception:
            # A start-up convenience must never fail the request or task that triggered it.
            log.exception("connections from the environment not applied yet")
            return
        _applied = True


def connections_env_forget() -> None:
    """Apply again on the next `connections_env_ensure` (tests change the environment)."""
    global _applied
    _applied = False
