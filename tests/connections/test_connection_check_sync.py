"""`connection_check` warns (never blocks) when a published SOP running on a connection has a
trigger `where` reading a field the connection's sync leaves out of the record mirror
(`capabilities.sync_omits`: HubSpot's property-history fields unless `sync_history`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import CheckLine
from salesops.models import Connection, Sop
from salesops.services.connection_checks import SYNC_HISTORY_FIX, connection_check
from salesops.services.connections import connection_credentials_set, connections_reset
from salesops.services.sops import library_dir, sop_version_create
from tests.connectors.hubspot_seed import PORTAL, TOKEN, emulator_start
from tests.emulators.hubspot_api import HubSpotEmulator

pytestmark = pytest.mark.django_db

SHIPPED = (library_dir() / "deal-review.md").read_text()
SCHEDULE_WHERE = "    where: \"record.stage != 'closedwon' && record.stage != 'closedlost'\""
EVENT_WHERE = "    where: \"event.value != 'closedwon' && event.value != 'closedlost'\""


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start(seed=True)
    try:
        yield emulator
    finally:
        emulator.stop()


def hubspot_connection(emu: HubSpotEmulator, slug: str = "hubspot", **extra: str) -> Connection:
    connection = Connection.objects.create(kind="hubspot", slug=slug, account_id=str(PORTAL))
    credentials = {"access_token": TOKEN, "base_url": emu.base_url, **extra}
    connection_credentials_set(connection, {"client_secret": emu.client_secret, **credentials})
    connections_reset()
    return connection


def sync_lines(connection: Connection) -> list[CheckLine]:
    connections_reset()
    return [line for line in connection_check(connection).lines if line.topic == "sync"]


def deal_review_reading_history() -> None:
    """Publish a deal-review whose schedule and event selectors read history fields."""
    assert SCHEDULE_WHERE in SHIPPED and EVENT_WHERE in SHIPPED
    text = SHIPPED.replace(
        SCHEDULE_WHERE, SCHEDULE_WHERE[:-1] + " && record['close_date_changes'] >= 2\""
    ).replace(
        EVENT_WHERE,
        EVENT_WHERE[:-1] + ' && has(record.stage_entered_at)"',
    )
    sop_version_create(sop_name="deal-review", text=text, publish=True)


def test_the_shipped_sops_read_no_omitted_field(emu, library) -> None:
    [line] = sync_lines(hubspot_connection(emu))
    assert line.status == "ok" and not line.blocking
    assert "deal.close_date_changes, deal.stage_entered_at" in line.message


def test_a_selector_on_a_history_field_warns_with_the_fix(emu, library) -> None:
    connection = hubspot_connection(emu)
    deal_review_reading_history()
    lines = sync_lines(connection)
    assert [(line.status, line.blocking, line.fix) for line in lines] == [
        ("warning", False, SYNC_HISTORY_FIX)
    ] * 2
    messages = sorted(line.message for line in lines)
    assert messages[0].startswith("deal-review: a schedule trigger's where reads deal.close_")
    assert messages[1].startswith("deal-review: an event trigger's where reads deal.stage_")
    assert "HUBSPOT_SYNC_HISTORY=true" in SYNC_HISTORY_FIX
    report = connection_check(connection)
    assert not [line for line in report.blocking if line.topic == "sync"]


def test_sync_history_on_silences_the_warning(emu, library) -> None:
    connection = hubspot_connection(emu, sync_history="true")
    deal_review_reading_history()
    assert sync_lines(connection) == []  # nothing omitted, nothing to say


def test_an_sop_running_on_another_connection_is_not_this_ones_concern(emu, library) -> None:
    connection = hubspot_connection(emu)
    other = hubspot_connection(emu, slug="hubspot-b")
    deal_review_reading_history()
    Sop.objects.get(name="deal-review").connections.set([other])
    assert [line.status for line in sync_lines(connection)] == ["ok"]
    assert [line.status for line in sync_lines(other)] == ["warning", "warning"]
