"""Salesforce from the environment: JWT bearer, refresh-token or session sign-in, the Outbound
Message secret, org id and API version reach the connection under the connector's option names;
half-given groups and bad values stop start-up naming the variable (never a secret's value)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

from connectors.salesforce.connector import SalesforceConnector
from salesops.env import ConfigError, env_connections
from salesops.models import Connection
from salesops.services.connections import connector_options
from salesops.services.connections_env import connections_env_apply

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
SECRET = "k3Vq-outbound-secret-000000000001"
JWT = {
    "SALESFORCE_CONSUMER_KEY": "3MVG9-consumer-key",
    "SALESFORCE_USERNAME": "integration@acme.example",
}
REFRESH = {
    "SALESFORCE_REFRESH_TOKEN": "5Aep861-refresh",
    "SALESFORCE_CLIENT_ID": "3MVG9-client",
    "SALESFORCE_CLIENT_SECRET": "client-secret",
}


@pytest.fixture
def env(monkeypatch):
    """Set only these SALESFORCE_* variables (the rest of this process's cleared)."""
    for name in list(os.environ):
        if name.startswith("SALESFORCE_"):
            monkeypatch.delenv(name)

    def use(**values: str) -> list[dict[str, object]]:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return [s for s in env_connections() if s["kind"] == "salesforce"]

    return use


def test_jwt_bearer_with_a_key_file_and_every_option(env, tmp_path: Path) -> None:
    key = tmp_path / "salesforce.key"
    key.write_text(PEM + "\n")
    [spec] = env(
        **JWT,
        SALESFORCE_PRIVATE_KEY_FILE=str(key),
        SALESFORCE_LOGIN_URL="https://acme.my.salesforce.com/",
        SALESFORCE_OUTBOUND_SECRET=SECRET,
        SALESFORCE_ORG_ID="00D5g000004SLsfEAG",
        SALESFORCE_API_VERSION="62.0",
        SALESFORCE_CONNECTION_SLUG="sf-prod",
    )
    assert (spec["slug"], spec["account_id"]) == ("sf-prod", "00D5g000004SLsfEAG")
    given = {k: v for k, v in spec["credentials"].items() if v is not None}
    assert given == {
        "consumer_key": "3MVG9-consumer-key",
        "username": "integration@acme.example",
        "private_key": PEM,
        "outbound_secret": SECRET,
        "login_url": "https://acme.my.salesforce.com",
        "api_version": "62.0",
    }


def test_a_refresh_token_or_a_session_is_enough(env) -> None:
    [spec] = env(**REFRESH)
    assert spec["account_id"] is None  # unset: the connection keeps what it has
    assert spec["credentials"]["refresh_token"] == "5Aep861-refresh"
    assert spec["credentials"]["login_url"] is None  # the default
    [session] = env(
        SALESFORCE_INSTANCE_URL="https://acme.my.salesforce.com",
        SALESFORCE_ACCESS_TOKEN="00D!session",
    )
    assert session["credentials"]["access_token"] == "00D!session"


def test_nothing_set_is_no_connection(env) -> None:
    assert env() == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SALESFORCE_CONSUMER_KEY": "k"}, "SALESFORCE_USERNAME, SALESFORCE_PRIVATE_KEY not"),
        (
            {"SALESFORCE_REFRESH_TOKEN": "r", "SALESFORCE_CLIENT_ID": "c"},
            "SALESFORCE_CLIENT_SECRET not (refresh token sign-in",
        ),
        ({"SALESFORCE_ACCESS_TOKEN": "t"}, "SALESFORCE_INSTANCE_URL not"),
        ({"SALESFORCE_OUTBOUND_SECRET": SECRET}, "set without a Salesforce sign-in"),
        ({"SALESFORCE_PASSWORD": "pw"}, "username + password login is not supported"),
        ({**REFRESH, "SALESFORCE_ORG_ID": "00D-nope"}, "not a 15- or 18-character org id"),
        ({**REFRESH, "SALESFORCE_API_VERSION": "v61"}, "not a version like 61.0"),
        ({**REFRESH, "SALESFORCE_LOGIN_URL": "login.salesforce.com"}, "is not a base URL"),
        ({**REFRESH, "SALESFORCE_OUTBOUND_SECRET": "short/secret"}, "24 to 128 letters"),
    ],
)
def test_bad_or_half_given_variables_are_refused_naming_them(env, values, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("+", r"\+")) as bad:
        env(**values)
    assert "short/secret" not in str(bad.value)


@pytest.mark.django_db
def test_the_connection_holds_only_options_the_connector_takes(env, settings) -> None:
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENV_CONNECTIONS": env(
            **JWT,
            **REFRESH,
            SALESFORCE_PRIVATE_KEY=PEM,
            SALESFORCE_INSTANCE_URL="https://acme.my.salesforce.com",
            SALESFORCE_ACCESS_TOKEN="00D!session",
            SALESFORCE_LOGIN_URL="https://test.salesforce.com",
            SALESFORCE_OUTBOUND_SECRET=SECRET,
            SALESFORCE_ORG_ID="00D5g000004SLsf",
            SALESFORCE_API_VERSION="61.0",
        ),
    }
    assert connections_env_apply() == ["salesforce"]
    options = connector_options(Connection.objects.get(slug="salesforce"))
    accepted = set(inspect.signature(SalesforceConnector).parameters)
    assert set(options) <= accepted, set(options) - accepted
    assert options["account"] == "00D5g000004SLsf" and options["outbound_secret"] == SECRET
