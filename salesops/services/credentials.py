"""Connection credentials at rest: JSON encrypted with MultiFernet (newest key first).

Keys come from SALESOPS_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first); a
rotation adds a new key in front, runs `manage.py rotate_credentials` (re-encrypts every
connection under the newest key) and then drops the old key. Without the variable a key is
derived from SECRET_KEY, which `check --deploy` refuses in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from salesops.models import Connection


class CredentialsError(Exception):
    """Stored credentials cannot be read with the configured keys."""


def encryption_keys() -> list[bytes]:
    """The configured Fernet keys, newest first (or one derived from SECRET_KEY)."""
    configured: list[str] = list(settings.SALESOPS.get("ENCRYPTION_KEYS") or [])
    if configured:
        return [key.encode() for key in configured]
    digest = hashlib.sha256(f"salesops-credentials:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in encryption_keys()])


def credentials_encrypt(values: dict[str, Any]) -> str:
    """`values` as a token under the newest key ("" for no credentials)."""
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def credentials_decrypt(token: str) -> dict[str, Any]:
    """The credentials in `token`. Raises CredentialsError when no configured key opens it."""
    if not token:
        return {}
    try:
        values = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsError(
            "stored credentials cannot be decrypted with SALESOPS_ENCRYPTION_KEYS "
            "(was the key that encrypted them removed before rotate_credentials ran?)"
        ) from None
    if not isinstance(values, dict):
        raise CredentialsError("stored credentials are not an object")
    return values


def credentials_rotate_token(token: str) -> str:
    """`token` re-encrypted under the newest key (MultiFernet.rotate)."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsError("credentials cannot be decrypted with any configured key") from None


def credentials_update(token: str, *, values: dict[str, Any], clear: set[str]) -> str:
    """`token` with `values` set and the `clear` keys removed, re-encrypted ("" when empty).

    Blank values are ignored (the admin's "blank keeps the stored secret"). Raises
    CredentialsError when the stored token cannot be read.
    """
    current = credentials_decrypt(token)
    merged = {k: v for k, v in current.items() if k not in clear}
    merged.update({k: v for k, v in values.items() if v not in (None, "")})
    if merged == current:
        return token  # unchanged: no new token, so nothing looks modified
    return credentials_encrypt(merged)


def connections_credentials_rotate() -> int:
    """Re-encrypt every connection's credentials under the newest key; the count rotated.

    One transaction: a token no configured key opens raises CredentialsError naming its
    connection and nothing is changed, so a rotation is never left half done.
    """
    rotated = 0
    with transaction.atomic():
        rows = Connection.objects.select_for_update().exclude(credentials="").order_by("pk")
        for connection in rows:
            try:
                token = credentials_rotate_token(connection.credentials)
            except CredentialsError:
                raise CredentialsError(
                    f"connection {connection.slug!r}: its credentials cannot be decrypted with "
                    "any key of SALESOPS_ENCRYPTION_KEYS (add back the key that encrypted them, "
                    "or enter the credentials again in the admin); nothing was rotated"
                ) from None
            # update(), not save(): re-encrypting changes no value, so updated_at stays and
            # built connectors (cached on it) are kept.
            Connection.objects.filter(pk=connection.pk).update(credentials=token)
            rotated += 1
    return rotated
