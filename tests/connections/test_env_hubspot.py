"""HubSpot from the environment: base URL, tier and a public app's OAuth (refresh token,
client id, client secret) reach the connection and its connector; bad values stop start-up
naming the variable."""

from __future__ import annotations

import os

import pytest

from connectors.hubspot.connector import TIERS, HubSpotConnector
from salesops.env import HUBSPOT_TIERS, ConfigError, env_connections
from salesops.models import Connection
from salesops.services.connections import connection_connector, connections_reset
from salesops.services.connections_env import connections_env_apply
from salesops.services.credentials import credentials_decrypt
from tests.settings.conftest import clean_env, settings_probe

OAUTH = {
    "HUBSPOT_REFRESH_TOKEN": "refresh-abc",
    "HUBSPOT_CLIENT_ID": "client-id-1",
    "HUBSPOT_CLIENT_SECRET": "client-secret",
    "HUBSPOT_BASE_URL": "http://127.0.0.1:8765/",
    "HUBSPOT_TIER": "Starter",
}


@pytest.fixture
def env(monkeypatch):
    """Set only these HUBSPOT_* variables (the rest of this process's cleared)."""
    for name in list(os.environ):
        if name.startswith("HUBSPOT_"):
            monkeypatch.delenv(name)

    def use(**values: str) -> list[dict[str, object]]:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return [s for s in env_connections() if s["kind"] == "hubspot"]

    return use


def test_the_tiers_settings_accept_are_the_connectors() -> None:
    assert set(HUBSPOT_TIERS) == set(TIERS)


def test_a_public_apps_oauth_needs_no_access_token(env) -> None:
    [spec] = env(**OAUTH)
    assert spec["credentials"] == {  # no access_token: a renewed one stored stays
        "client_secret": "client-secret",
        "refresh_token": "refresh-abc",
        "client_id": "client-id-1",
        "base_url": "http://127.0.0.1:8765",
        "tier": "starter",
        "sync_history": None,  # unset: the connection keeps what it has
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"HUBSPOT_REFRESH_TOKEN": "r", "HUBSPOT_CLIENT_SECRET": "s"}, "HUBSPOT_CLIENT_ID is not"),
        ({"HUBSPOT_REFRESH_TOKEN": "r", "HUBSPOT_CLIENT_ID": "c"}, "HUBSPOT_CLIENT_SECRET is not"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_CLIENT_ID": "c"}, "without HUBSPOT_REFRESH_TOKEN"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_TIER": "gold"}, "HUBSPOT_TIER='gold' is not one"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_BASE_URL": "api.hubapi.com"}, "not a base URL"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_BASE_URL": "ftp://x.io"}, "not a base URL"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_BASE_URL": "http://h:99999"}, "not a base URL"),
        ({"HUBSPOT_BASE_URL": "http://127.0.0.1:8765"}, "HUBSPOT_BASE_URL set without"),
        ({"HUBSPOT_TIER": "starter"}, "HUBSPOT_TIER set without HUBSPOT_ACCESS_TOKEN"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_SYNC_HISTORY": "maybe"}, "not a boolean"),
        ({"HUBSPOT_SYNC_HISTORY": "true"}, "HUBSPOT_SYNC_HISTORY set without"),
    ],
)
def test_bad_or_incomplete_hubspot_variables_are_config_errors(env, values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        env(**values)


def test_a_bad_tier_stops_the_process_at_start_up() -> None:
    proc = settings_probe(clean_env(HUBSPOT_ACCESS_TOKEN="t", HUBSPOT_TIER="platinum"), "DEBUG")
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and "HUBSPOT_TIER='platinum'" in proc.stderr


@pytest.mark.django_db
def test_base_url_tier_and_oauth_reach_the_connector(env, settings) -> None:
    settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": env(**OAUTH)}
    connections_reset()
    try:
        assert connections_env_apply() == ["hubspot"]
        hubspot = Connection.objects.get(slug="hubspot")
        assert "refresh-abc" not in hubspot.credentials  # encrypted at rest
        assert credentials_decrypt(hubspot.credentials)["tier"] == "starter"
        connector = connection_connector(hubspot)
        client = connector.client  # type: ignore[attr-defined]
        assert client.base_url == "http://127.0.0.1:8765"
        assert (client.refresh_token, client.client_id) == ("refresh-abc", "client-id-1")
        assert client.can_refresh and client.token_due()  # renewed before its first call
        # The tier's buckets, not the default (professional) ones.
        starter = HubSpotConnector(access_token="t", tier="starter").capabilities.rate_limits
        default = HubSpotConnector(access_token="t").capabilities.rate_limits
        assert connector.capabilities.rate_limits == starter != default
    finally:
        connections_reset()


@pytest.mark.django_db
def test_sync_history_reaches_the_connector_and_false_is_the_default(env, settings) -> None:
    try:
        for value, omits in (
            ("true", ()),
            ("false", ("deal.close_date_changes", "deal.stage_entered_at")),
        ):
            specs = env(HUBSPOT_ACCESS_TOKEN="t", HUBSPOT_SYNC_HISTORY=value)
            assert specs[0]["credentials"]["sync_history"] is (value == "true")
            settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": specs}
            connections_reset()
            connections_env_apply()
            hubspot = Connection.objects.get(slug="hubspot")
            assert connection_connector(hubspot).capabilities.sync_omits == omits
    finally:
        connections_reset()
