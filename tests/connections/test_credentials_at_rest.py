"""Credentials are stored encrypted, rotate to the newest key in one transaction, and a token
no key opens stops the rotation with the connection's name and nothing changed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError

from salesops.models import Connection
from salesops.services.connections import connection_credentials_set, connector_options
from salesops.services.credentials import (
    CredentialsError,
    credentials_decrypt,
    credentials_encrypt,
    credentials_update,
)

pytestmark = pytest.mark.django_db


def test_it_stores_credentials_encrypted_and_reads_them_back(keys, use_keys):
    use_keys(keys[0])
    connection = Connection.objects.create(kind="hubspot", slug="hs", account_id="1")
    connection_credentials_set(
        connection, {"access_token": "pat-123", "client_secret": "cs-long-secret"}
    )
    stored = Connection.objects.get(pk=connection.pk).credentials
    assert "pat-123" not in stored and "cs-long-secret" not in stored
    assert Fernet(keys[0]).decrypt(stored.encode())  # a Fernet token under the configured key
    assert credentials_decrypt(stored) == {
        "access_token": "pat-123",
        "client_secret": "cs-long-secret",
    }


def test_it_refuses_a_token_encrypted_under_a_key_it_does_not_have(keys, use_keys):
    use_keys(keys[0])
    token = credentials_encrypt({"access_token": "x"})
    use_keys(keys[1])
    with pytest.raises(CredentialsError, match="cannot be decrypted"):
        credentials_decrypt(token)


def test_blank_values_keep_and_cleared_keys_go(keys, use_keys):
    use_keys(keys[0])
    token = credentials_encrypt({"access_token": "a", "client_secret": "b"})
    assert credentials_update(token, values={"access_token": ""}, clear=set()) == token
    changed = credentials_update(token, values={"access_token": "new"}, clear={"client_secret"})
    assert credentials_decrypt(changed) == {"access_token": "new"}


def test_rotation_re_encrypts_every_connection_under_the_newest_key(keys, use_keys):
    old, new = keys
    use_keys(old)
    for slug in ("a", "b"):
        connection = Connection.objects.create(kind="hubspot", slug=slug, account_id=slug)
        connection_credentials_set(connection, {"access_token": f"token-{slug}"})
    Connection.objects.create(kind="local", slug="empty", account_id="e")  # no credentials
    before = {c.slug: c.credentials for c in Connection.objects.exclude(credentials="")}
    with pytest.raises(InvalidToken):
        Fernet(new).decrypt(before["a"].encode())

    use_keys(new, old)  # the new key in front, the old one still readable
    assert credentials_decrypt(before["a"]) == {"access_token": "token-a"}
    updated_at = Connection.objects.get(slug="a").updated_at
    out = _call("rotate_credentials")

    assert "Re-encrypted the credentials of 2 connections" in out
    after = {c.slug: c.credentials for c in Connection.objects.exclude(credentials="")}
    assert after["a"] != before["a"]
    assert Fernet(new).decrypt(after["a"].encode())
    use_keys(new)  # the old key dropped
    assert credentials_decrypt(after["a"]) == {"access_token": "token-a"}
    assert credentials_decrypt(after["b"]) == {"access_token": "token-b"}
    # Same values: the connector cache, keyed on updated_at, is kept.
    assert Connection.objects.get(slug="a").updated_at == updated_at


def test_an_undecryptable_token_fails_the_rotation_naming_it_and_changes_nothing(keys, use_keys):
    old, new = keys
    use_keys(old)
    good = Connection.objects.create(kind="hubspot", slug="a-good", account_id="1")
    connection_credentials_set(good, {"access_token": "fine"})
    lost = Fernet.generate_key().decode()
    use_keys(lost)
    bad = Connection.objects.create(kind="hubspot", slug="z-lost-key", account_id="2")
    connection_credentials_set(bad, {"access_token": "gone"})
    before = dict(Connection.objects.values_list("slug", "credentials"))

    use_keys(new, old)
    with pytest.raises(CommandError, match=r"'z-lost-key'.*cannot be decrypted"):
        call_command("rotate_credentials")

    assert dict(Connection.objects.values_list("slug", "credentials")) == before


def test_connectors_get_the_decrypted_credentials_over_the_kind_defaults(keys, use_keys, settings):
    use_keys(keys[0])
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {"local": {"webhook_secret": "default", "page_size": 7}},
    }
    connection = Connection.objects.create(kind="local", slug="local-b", account_id="b")
    connection_credentials_set(connection, {"webhook_secret": "own"})
    options = connector_options(connection)
    assert (options["webhook_secret"], options["page_size"]) == ("own", 7)


def _call(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
