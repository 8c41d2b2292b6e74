"""A connection created without its account id (SALESFORCE_ORG_ID or HUBSPOT_PORTAL_ID unset)
learns it from its first check, so webhooks (checked against it) are not all refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salesops.models import Connection
from salesops.services.connection_checks import connection_check
from salesops.services.connections import connection_credentials_set, connections_reset
from tests.connectors.salesforce_seed import OUTBOUND_SECRET, emulator_start
from tests.emulators.salesforce_api import SalesforceEmulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = emulator_start()
    connections_reset()
    try:
        yield emulator
    finally:
        connections_reset()
        emulator.stop()


def salesforce(emu: SalesforceEmulator, account_id: str = "") -> Connection:
    connection = Connection.objects.create(kind="salesforce", slug="sf", account_id=account_id)
    connection_credentials_set(
        connection,
        {
            "login_url": emu.base_url,
            "consumer_key": emu.consumer_key,
            "username": emu.org().username,
            "private_key": emu.private_key_pem,
            "ca_cert": emu.ca_path,
            "outbound_secret": OUTBOUND_SECRET,
        },
    )
    return connection


def test_the_first_check_stores_the_org_it_reached(emu) -> None:
    connection = salesforce(emu)
    report = connection_check(connection)
    assert report.account_id == emu.org().org_id
    connection.refresh_from_db()
    assert connection.account_id == emu.org().org_id


def test_a_configured_account_is_never_replaced(emu) -> None:
    connection = salesforce(emu, account_id="00D000000000002AAA")
    report = connection_check(connection)
    assert any(line.blocking and line.topic == "identity" for line in report.lines)
    connection.refresh_from_db()
    assert connection.account_id == "00D000000000002AAA"
