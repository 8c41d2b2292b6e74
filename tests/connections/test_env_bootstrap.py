"""Environment variables create or update one connection per CRM at start-up (12-factor),
idempotently; bad or incomplete variables stop the process with the variable's name."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from salesops.models import Connection
from salesops.services.connections_env import (
    ConnectionEnvError,
    connections_env_apply,
    connections_env_ensure,
)
from salesops.services.credentials import credentials_decrypt
from tests.settings.conftest import clean_env, settings_of, settings_probe

pytestmark = pytest.mark.django_db


def env_specs(**env: str) -> list[dict[str, object]]:
    """What settings make of these variables, read in a fresh process as at start-up."""
    return settings_of(clean_env(**env), "SALESOPS")["SALESOPS"]["ENV_CONNECTIONS"]  # type: ignore[index]


def use_env(settings, **env: str) -> None:
    settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": env_specs(**env)}


HUBSPOT = {
    "HUBSPOT_ACCESS_TOKEN": "pat-na1-aaa",
    "HUBSPOT_PORTAL_ID": "4711",
    "HUBSPOT_CLIENT_SECRET": "client-secret",
}


def test_it_creates_a_hubspot_connection_from_the_environment(settings):
    use_env(settings, **HUBSPOT)
    assert connections_env_apply() == ["hubspot"]
    hubspot = Connection.objects.get(slug="hubspot")
    assert (hubspot.kind, hubspot.account_id, hubspot.from_env) == ("hubspot", "4711", True)
    assert "pat-na1-aaa" not in hubspot.credentials
    assert credentials_decrypt(hubspot.credentials) == {
        "access_token": "pat-na1-aaa",
        "client_secret": "client-secret",
    }
    assert Connection.objects.filter(slug="local", kind="local").exists()


def test_applying_the_same_environment_again_writes_nothing(settings):
    use_env(settings, **HUBSPOT)
    connections_env_apply()
    before = Connection.objects.get(slug="hubspot")
    assert connections_env_apply() == []
    after = Connection.objects.get(slug="hubspot")
    assert (after.updated_at, after.credentials) == (before.updated_at, before.credentials)


def test_a_changed_token_updates_the_connection_and_a_removed_secret_goes(settings):
    use_env(settings, **HUBSPOT)
    connections_env_apply()
    before = Connection.objects.get(slug="hubspot")
    use_env(settings, HUBSPOT_ACCESS_TOKEN="pat-na1-bbb", HUBSPOT_PORTAL_ID="4711")
    assert connections_env_apply() == ["hubspot"]
    after = Connection.objects.get(slug="hubspot")
    assert after.updated_at > before.updated_at
    assert credentials_decrypt(after.credentials) == {"access_token": "pat-na1-bbb"}


def test_a_salesforce_login_and_a_local_webhook_secret_come_from_the_environment(settings):
    use_env(
        settings,
        SALESFORCE_CONSUMER_KEY="3MVG9-consumer",
        SALESFORCE_USERNAME="ops@acme.example",
        SALESFORCE_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        SALESFORCE_ORG_ID="00D000000000001",
        SALESFORCE_CONNECTION_SLUG="sf-prod",
        SALESOPS_LOCAL_WEBHOOK_SECRET="local-hmac",
    )
    assert sorted(connections_env_apply()) == ["local", "sf-prod"]
    sf = Connection.objects.get(slug="sf-prod")
    assert (sf.kind, sf.account_id, sf.from_env) == ("salesforce", "00D000000000001", True)
    assert credentials_decrypt(sf.credentials) == {
        "consumer_key": "3MVG9-consumer",
        "username": "ops@acme.example",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
    }
    local = Connection.objects.get(slug="local")
    assert local.from_env
    assert credentials_decrypt(local.credentials) == {"webhook_secret": "local-hmac"}


def test_a_slug_taken_by_another_kind_is_refused_with_both_named(settings):
    Connection.objects.create(kind="salesforce", slug="hubspot", account_id="x")
    use_env(settings, **HUBSPOT)
    with pytest.raises(ConnectionEnvError, match="'hubspot' is a salesforce connection"):
        connections_env_apply()
    connections_env_ensure()  # the first-use hook logs it instead of failing a request


def test_connection_check_applies_the_environment_first(settings):
    use_env(settings, **HUBSPOT)
    with pytest.raises(Exception, match="runs are blocked on: hubspot"):
        call_command("connection_check", "hubspot")
    assert Connection.objects.get(slug="hubspot").from_env


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SALESFORCE_USERNAME": "u"},
            "SALESFORCE_USERNAME set but SALESFORCE_CONSUMER_KEY, SALESFORCE_PRIVATE_KEY not",
        ),
        (
            {"SALESFORCE_INSTANCE_URL": "https://x.my.salesforce.com"},
            "SALESFORCE_INSTANCE_URL set but SALESFORCE_ACCESS_TOKEN not",
        ),
        ({"HUBSPOT_PORTAL_ID": "1"}, "HUBSPOT_PORTAL_ID set without HUBSPOT_ACCESS_TOKEN"),
        ({"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_CONNECTION_SLUG": "a b"}, "is not a slug"),
        ({"SALESOPS_ENCRYPTION_KEYS": "KEYS-secret-ish"}, "key 1 of 1 is not a Fernet key"),
    ],
)
def test_bad_connection_variables_stop_the_process_naming_them(env, message):
    proc = settings_probe(clean_env(**env), "DEBUG")
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and message in proc.stderr
    for value in env.values():
        if "KEYS" in value:  # a key is a secret: the message names its position only
            assert value not in proc.stderr
