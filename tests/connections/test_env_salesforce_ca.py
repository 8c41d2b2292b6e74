"""SALESFORCE_CA_CERT: a CA bundle file reaches the connection as the connector's `ca_cert`;
a path that is not a file stops start-up."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from salesops.env import ConfigError, env_connections

JWT = {
    "SALESFORCE_CONSUMER_KEY": "3MVG9-consumer-key",
    "SALESFORCE_USERNAME": "integration@acme.example",
    "SALESFORCE_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
}


@pytest.fixture
def env(monkeypatch) -> Callable[..., list[dict[str, object]]]:
    """Set only these SALESFORCE_* variables (the rest of this process's cleared)."""
    for name in list(os.environ):
        if name.startswith("SALESFORCE_"):
            monkeypatch.delenv(name)

    def use(**values: str) -> list[dict[str, object]]:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return [s for s in env_connections() if s["kind"] == "salesforce"]

    return use


def test_a_ca_bundle_file_becomes_the_connectors_ca_cert(env, tmp_path: Path) -> None:
    bundle = tmp_path / "proxy-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    [spec] = env(**JWT, SALESFORCE_CA_CERT=str(bundle))
    assert spec["credentials"]["ca_cert"] == str(bundle)


def test_unset_it_is_no_credential(env) -> None:
    [spec] = env(**JWT)
    assert spec["credentials"]["ca_cert"] is None


def test_a_path_that_is_not_a_file_stops_start_up(env, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"SALESFORCE_CA_CERT=.* is not a file"):
        env(**JWT, SALESFORCE_CA_CERT=str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match=r"SALESFORCE_CA_CERT=.* is not a file"):
        env(**JWT, SALESFORCE_CA_CERT=str(tmp_path))  # a directory


def test_it_alone_is_no_connection_but_an_error(env, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    with pytest.raises(ConfigError, match="SALESFORCE_CA_CERT set without"):
        env(SALESFORCE_CA_CERT=str(bundle))
