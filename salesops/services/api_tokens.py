"""API tokens for service accounts, stored hashed: the secret is shown once, at issue.

DRF's authtoken table keeps its key in plain text, so anyone who can read the database (a
backup, a replica, the admin's token list) could act as every integration. Here its `key`
column holds the SHA-256 of the secret instead (the first 40 hex digits: 160 bits, all the
column holds), and requests are matched by hashing the presented secret. A fast hash is
enough: the secrets are 256 random bits, so there is nothing to guess from a leaked hash.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

PREFIX = "sot_"  # recognisable in logs and secret scanners


def token_hash(secret: str) -> str:
    """What the token table stores for `secret`."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def token_issue(*, user: Any) -> str:
    """A new secret for `user`, replacing any earlier one (which stops working at once)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        Token.objects.create(user=user, key=token_hash(secret))
    return secret


def token_revoke(*, user: Any) -> bool:
    """Remove `user`'s token; True if there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


def token_user(*, secret: str) -> Any | None:
    """The active user holding `secret`, or None."""
    token = Token.objects.select_related("user").filter(key=token_hash(secret)).first()
    if token is None or not token.user.is_active:
        return None
    return token.user
