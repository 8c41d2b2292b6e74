"""Syncing a Salesforce org through the platform (`connection_sync`, the shared limiter, the
record mirror): the daily API limit reached mid-sync stops it cleanly with its cursor kept
(the budget read from Sforce-Limit-Info), and the next sync, once the budget is back,
finishes the job without reading a page twice; a Salesforce refusal (REQUEST_LIMIT_EXCEEDED)
stops it the same way; a session that expires mid-sync is renewed (JWT bearer) and the sync
goes on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from salesops.models import Connection, CrmRecordMirror, SyncState
from salesops.services.connections import (
    connection_connector,
    connection_credentials_set,
    connections_reset,
)
from salesops.services.sync import connection_sync
from tests.connectors.salesforce_seed import emulator_start
from tests.emulators.salesforce_api import SalesforceEmulator

pytestmark = pytest.mark.django_db
ACCOUNTS, PAGE = 300, 50
QUERIES = ("GET /services/data/v61.0/query", "GET /services/data/v61.0/query/{locator}")


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = emulator_start()
    connections_reset()
    try:
        yield emulator
    finally:
        connections_reset()
        emulator.stop()


@pytest.fixture
def connection(emu: SalesforceEmulator) -> Connection:
    org = emu.org()
    for i in range(ACCOUNTS):
        org.insert("Account", {"Name": f"Account {i:03}"})
        if i % 10 == 0:
            emu.clock.advance(1)  # type: ignore[attr-defined]
    connection = Connection.objects.create(kind="salesforce", slug="sf", account_id=org.org_id)
    connection_credentials_set(
        connection,
        {
            "login_url": emu.base_url,
            "consumer_key": emu.consumer_key,
            "username": org.username,
            "private_key": emu.private_key_pem,
            "ca_cert": emu.ca_path,
            "page_size": PAGE,
        },
    )
    return connection


def mirrored(connection: Connection) -> set[str]:
    rows = CrmRecordMirror.objects.filter(connection=connection, object_type="company")
    return set(rows.values_list("record_id", flat=True))


def record_queries(emu: SalesforceEmulator) -> int:
    return sum(1 for r in emu.requests if r.endpoint in QUERIES and "Account" in str(r.query))


def test_the_daily_limit_mid_sync_stops_it_and_the_next_sync_resumes(emu, connection) -> None:
    org = emu.org()
    emu.api_usage_set(org.api_max - 3)  # three calls left today: three pages
    first = connection_sync(connection=connection, object_types=["company"])
    [outcome] = first.objects
    # Sforce-Limit-Info said the budget was spent: the shared limiter stopped before
    # Salesforce had to refuse (no REQUEST_LIMIT_EXCEEDED 403), with three pages stored.
    assert outcome.retriable and "daily CRM budget of sf is spent" in outcome.error
    assert not [r for r in emu.requests if r.status == 403]
    stored = mirrored(connection)
    assert len(stored) == 3 * PAGE
    state = SyncState.objects.get(connection=connection, object_type="company")
    assert state.cursor and "budget" in state.last_error

    # A second sync today refuses at once, without asking Salesforce.
    before = len(emu.requests)
    again = connection_sync(connection=connection, object_types=["company"])
    assert again.objects[0].retriable and len(emu.requests) == before

    # The next day: the budget is back, and the limiter lets a call find out.
    emu.api_usage_set(0)
    emu.reset_log()
    connection_connector(connection).clock = lambda: datetime.now(UTC) + timedelta(days=1)  # type: ignore[attr-defined]
    done = connection_sync(connection=connection, object_types=["company"])
    assert not done.errors
    assert mirrored(connection) == {r["Id"] for r in org.rows("Account")}
    # From the kept cursor: only the pages not stored yet (and the caught-up query).
    assert record_queries(emu) <= (ACCOUNTS - len(stored)) // PAGE + 1


def test_salesforces_own_refusal_stops_the_sync_and_keeps_its_cursor(emu, connection) -> None:
    # Another client spent the budget between our calls: Salesforce refuses with a 403.
    emu.fault_next("REQUEST_LIMIT_EXCEEDED")
    result = connection_sync(connection=connection, object_types=["company"])
    assert result.objects[0].retriable and "REQUEST_LIMIT_EXCEEDED" in result.objects[0].error
    assert not mirrored(connection)
    # Its header said the budget was spent: nothing more today; the next day, the sync ends.
    assert connection_sync(connection=connection, object_types=["company"]).errors
    connection_connector(connection).clock = lambda: datetime.now(UTC) + timedelta(days=1)  # type: ignore[attr-defined]
    done = connection_sync(connection=connection, object_types=["company"])
    assert not done.errors and len(mirrored(connection)) == ACCOUNTS


def test_a_session_expiring_mid_sync_is_renewed_and_the_sync_goes_on(emu, connection) -> None:
    limited = connection_connector(connection)
    inner = limited.inner  # type: ignore[attr-defined]
    pages = 0
    read_page = inner.read_page

    def expiring(*args, **kwargs):
        nonlocal pages
        pages += 1
        if pages == 3:
            emu.expire_sessions()  # every token issued so far is now refused
        return read_page(*args, **kwargs)

    inner.read_page = expiring
    result = connection_sync(connection=connection, object_types=["company"])
    assert not result.errors and pages > 3
    assert mirrored(connection) == {r["Id"] for r in emu.org().rows("Account")}
    refused = [r for r in emu.requests if r.status == 401]
    tokens = [r for r in emu.requests if r.endpoint == "POST /services/oauth2/token"]
    assert len(refused) == 1 and len(tokens) == 2  # one refusal, one renewal
