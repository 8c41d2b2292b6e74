"""System checks `manage.py check --deploy` runs: settings a production site must not skip."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SALESOPS_ENCRYPTION_KEYS is set and every key is a Fernet key."""
    keys = list(settings.SALESOPS.get("ENCRYPTION_KEYS") or [])
    if not keys:
        return [
            Warning(
                "SALESOPS_ENCRYPTION_KEYS is not set: connection credentials are encrypted "
                "with a key derived from SECRET_KEY, so rotating SECRET_KEY loses them.",
                hint="Set SALESOPS_ENCRYPTION_KEYS (or _FILE) to a key from "
                "Fernet.generate_key(); see docs/connectors.md, key rotation.",
                id="salesops.W001",
            )
        ]
    problems: list[CheckMessage] = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(
                Error(
                    f"SALESOPS_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet "
                    "key (32 url-safe base64-encoded bytes).",
                    id="salesops.E001",
                )
            )
    return problems
