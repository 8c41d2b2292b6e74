"""Connections fixtures: Fernet keys, a HubSpot connection (no connector yet), clean env state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet

from salesops.models import Connection
from salesops.services.connections import connections_reset
from salesops.services.connections_env import connections_env_forget
from salesops.services.credentials import credentials_encrypt

SECRET = "pat-na1-5ecret-t0ken-never-shown"


@pytest.fixture
def keys() -> tuple[str, str]:
    """Two Fernet keys: (old, new)."""
    return Fernet.generate_key().decode(), Fernet.generate_key().decode()


def salesops_settings(settings: Any, **changes: Any) -> None:
    """Replace entries of settings.SALESOPS for one test."""
    settings.SALESOPS = {**settings.SALESOPS, **changes}


@pytest.fixture
def use_keys(settings: Any):
    """Configure SALESOPS_ENCRYPTION_KEYS (newest first) for the rest of the test."""

    def use(*keys: str) -> None:
        salesops_settings(settings, ENCRYPTION_KEYS=list(keys))

    return use


@pytest.fixture(autouse=True)
def _fresh_connections() -> Iterator[None]:
    connections_reset()
    connections_env_forget()
    yield
    connections_reset()
    connections_env_forget()


@pytest.fixture
def hubspot(db) -> Connection:
    """A HubSpot portal with an access token; no HubSpot connector is installed yet."""
    return Connection.objects.create(
        kind="hubspot",
        slug="hubspot-eu",
        name="HubSpot EU",
        account_id="4711",
        credentials=credentials_encrypt({"access_token": SECRET}),
    )
