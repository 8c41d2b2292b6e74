"""A renewed OAuth token is stored on its connection (encrypted), so another process (a new
connector after `connections_reset`) uses it instead of renewing its own, and restarting with
the same environment keeps it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salesops.models import Connection
from salesops.services.connections import (
    connection_connector,
    connection_credentials_merge,
    connection_credentials_set,
    connections_reset,
)
from salesops.services.connections_env import connections_env_apply
from salesops.services.credentials import credentials_decrypt
from tests.connectors.hubspot_seed import PORTAL, HubSpotSeeder, emulator_start
from tests.emulators.hubspot_api import HubSpotEmulator

pytestmark = pytest.mark.django_db
TOKEN_POST = "POST /oauth/v1/token"


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start()
    connections_reset()
    try:
        yield emulator
    finally:
        connections_reset()
        emulator.stop()


def oauth_spec(emu: HubSpotEmulator, refresh: str) -> dict[str, object]:
    return {
        "kind": "hubspot",
        "slug": "hubspot",
        "account_id": str(PORTAL),
        "credentials": {
            "client_secret": emu.client_secret,
            "refresh_token": refresh,
            "client_id": "client-id",
            "base_url": emu.base_url,
        },
    }


def test_a_renewed_token_serves_the_next_process_and_survives_a_restart(emu, settings) -> None:
    _, refresh = emu.oauth_token(PORTAL)
    ada = HubSpotSeeder(emu).seed_contact({"first_name": "Ada"})
    settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": [oauth_spec(emu, refresh)]}
    assert connections_env_apply() == ["hubspot"]
    hubspot = Connection.objects.get(slug="hubspot")
    assert "access_token" not in credentials_decrypt(hubspot.credentials)

    [record] = connection_connector(hubspot).get_many("contact", [ada])
    assert record.properties["first_name"] == "Ada"
    assert emu.calls[TOKEN_POST] == 1
    hubspot.refresh_from_db()
    stored = credentials_decrypt(hubspot.credentials)
    assert stored["access_token"].startswith("oauth-") and stored["access_token"] in emu.tokens
    assert stored["access_token"] not in hubspot.credentials  # encrypted at rest
    assert stored["expires_at"] > 0 and stored["refresh_token"] == refresh

    # Another process, after a restart with the same environment: no renewal.
    connections_reset()
    assert connections_env_apply() == []  # nothing to change: the stored token stays
    hubspot.refresh_from_db()
    assert credentials_decrypt(hubspot.credentials)["access_token"] == stored["access_token"]
    [again] = connection_connector(hubspot).get_many("contact", [ada])
    assert again.id == ada
    assert emu.calls[TOKEN_POST] == 1


def test_merging_removes_none_keys_and_a_missing_connection_is_only_logged(caplog) -> None:
    connection = Connection.objects.create(kind="hubspot", slug="hs", account_id="1")
    connection_credentials_set(connection, {"refresh_token": "r", "expires_at": 5.0})
    connection_credentials_merge(connection.pk, {"access_token": "a", "expires_at": None})
    connection.refresh_from_db()
    assert credentials_decrypt(connection.credentials) == {
        "refresh_token": "r",
        "access_token": "a",
    }
    connection_credentials_merge(connection.pk + 999, {"access_token": "b"})
    assert "renewed token not stored (DoesNotExist)" in caplog.text
    assert "'b'" not in caplog.text
