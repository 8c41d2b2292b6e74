"""`check --deploy` warns without SALESOPS_ENCRYPTION_KEYS and refuses a key that is not one."""

from __future__ import annotations

from cryptography.fernet import Fernet

from salesops.checks import encryption_keys_check


def ids(settings, keys: list[str]) -> list[str]:
    settings.SALESOPS = {**settings.SALESOPS, "ENCRYPTION_KEYS": keys}
    return [message.id for message in encryption_keys_check()]


def test_no_keys_is_a_deploy_warning(settings):
    assert ids(settings, []) == ["salesops.W001"]


def test_a_key_that_is_not_a_fernet_key_is_an_error(settings):
    assert ids(settings, [Fernet.generate_key().decode(), "short"]) == ["salesops.E001"]


def test_valid_keys_pass(settings):
    assert ids(settings, [Fernet.generate_key().decode(), Fernet.generate_key().decode()]) == []
