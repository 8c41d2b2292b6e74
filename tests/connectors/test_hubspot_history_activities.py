"""Parity with the local CRM on two reads: a contact's timeline includes its deals'
activities, and, with `sync_history`, the sync feed's deals carry `stage_entered_at` and
`close_date_changes` (property history), at a measured call cost. Without it (the default)
the feed leaves them out and costs what contacts cost: test_hubspot_sync_cost.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import CrmRecord, RecordRef
from tests.connectors.hubspot_seed import HubSpotSeeder, connector_for, emulator_start, feed_records
from tests.emulators.hubspot_api import HubSpotEmulator

NOW = datetime(2025, 3, 4, tzinfo=UTC)


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def seeded() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start(seed=True, second_pipeline=True)
    try:
        yield emulator
    finally:
        emulator.stop()


def test_a_contacts_timeline_includes_its_deals_activities_once(emu: HubSpotEmulator) -> None:
    seed = HubSpotSeeder(emu)
    ada = seed.seed_contact({"first_name": "Ada"})
    other = seed.seed_contact({"first_name": "Other"})
    deal = seed.seed_deal({"name": "D"}, contact_ids=[ada])
    contact_ref, deal_ref = RecordRef("contact", ada), RecordRef("deal", deal)
    seed.seed_activity(contact_ref, kind="call", timestamp=NOW - timedelta(days=3), subject="c")
    demo = seed.seed_activity(
        deal_ref, kind="meeting", timestamp=NOW - timedelta(days=1), subject="demo"
    )
    # One note on both the contact and its deal: listed once, as the local CRM's DISTINCT.
    both = seed.seed_activity(deal_ref, kind="note", timestamp=NOW - timedelta(days=2), body="x")
    seed.store.associate("notes", both, "contacts", ada)
    seed.seed_activity(RecordRef("contact", other), kind="email", timestamp=NOW, subject="not")
    connector = connector_for(emu)
    before = connector.calls

    timeline = connector.activities(contact_ref)

    assert [(a.kind, a.subject) for a in timeline] == [
        ("meeting", "demo"),
        ("note", ""),
        ("call", "c"),
    ]
    assert timeline[0].id == f"meeting-{demo}"
    # 5 association reads from the contact, 1 to its deals, 5 from the deals (one batch each
    # however many deals), then one batch read per type that has any (3): never a search.
    assert connector.calls - before == 5 + 1 + 5 + 3
    assert emu.calls_total("POST /crm/v3/objects/meetings/search") == 0
    # A deal's own timeline is unchanged: only its own activities.
    assert {a.kind for a in connector.activities(deal_ref)} == {"meeting", "note"}


def test_a_contact_whose_deals_have_no_activity_needs_no_existence_read(
    emu: HubSpotEmulator,
) -> None:
    seed = HubSpotSeeder(emu)
    ada = seed.seed_contact({"first_name": "Ada"})
    seed.seed_deal({"name": "D"}, contact_ids=[ada])
    connector = connector_for(emu)
    before = connector.calls
    assert connector.activities(RecordRef("contact", ada)) == []
    assert connector.calls - before == 5 + 1 + 5  # the deal association proves it exists
    assert emu.calls["GET /crm/v3/objects/contacts/{objectId}"] == 0


def _history(record: CrmRecord) -> tuple:
    return record.properties["stage_entered_at"], record.properties["close_date_changes"]


def test_synced_deals_carry_history_fields_as_get_many_does(seeded: HubSpotEmulator) -> None:
    connector = connector_for(seeded, sync_history=True)
    ids = [d.id for d in seeded.portal().live("deals")]
    expected = {r.id: _history(r) for r in connector.get_many("deal", ids)}
    assert any(v[0] is not None for v in expected.values())
    assert any((v[1] or 0) > 0 for v in expected.values()), "no seeded close-date change"

    backfilled, cursor = feed_records(connector, "deal", backfill=True)
    assert {r.id: _history(r) for r in backfilled} == expected

    incremental, _ = feed_records(
        connector, "deal", backfill=False
    )  # the change feed from the start (search)
    assert {r.id: _history(r) for r in incremental} == expected

    # An edit read back through the feed carries its new history.
    deal = seeded.portal().live("deals")[0]
    seeded.portal().update("deals", deal.id, {"closedate": "2031-01-31T00:00:00.000Z"})
    changed, _ = feed_records(connector, "deal", cursor, backfill=False)
    mine = next(r for r in changed if r.id == deal.id)
    assert mine.properties["close_date_changes"] == (expected[deal.id][1] or 0) + 1


def test_history_costs_one_batch_read_per_50_deals(emu: HubSpotEmulator) -> None:
    store = emu.portal()
    for i in range(120):
        store.create("deals", {"dealname": f"D{i}", "dealstage": "appointmentscheduled"})
    connector = connector_for(emu, sync_history=True)
    emu.calls.clear()
    backfilled, _ = feed_records(connector, "deal", backfill=True)
    assert len(backfilled) == 120
    # HubSpot caps a list page asking for history at 50: 3 pages, no extra reads.
    assert emu.calls["GET /crm/v3/objects/deals"] == 3 + 1  # + the archived listing
    assert emu.calls["POST /crm/v3/objects/deals/batch/read"] == 0
    assert all(r.properties["stage_entered_at"] is not None for r in backfilled)

    emu.calls.clear()
    incremental, _ = feed_records(connector, "deal", backfill=False)
    assert len({r.id for r in incremental}) == 120
    # One search page of 120, then one history batch read per 50 records (3).
    assert emu.calls["POST /crm/v3/objects/deals/search"] == 1
    assert emu.calls["POST /crm/v3/objects/deals/batch/read"] == 3
    assert all(r.properties["stage_entered_at"] is not None for r in incremental)


def test_the_emulator_refuses_51_history_reads_as_hubspot_does(emu: HubSpotEmulator) -> None:
    connector = connector_for(emu)
    store = emu.portal()
    ids = [store.create("deals", {"dealname": f"D{i}"}).id for i in range(51)]
    body = {
        "inputs": [{"id": i} for i in ids],
        "properties": [],
        "propertiesWithHistory": ["dealstage"],
    }
    with pytest.raises(Exception, match="property histories is 50"):
        connector.client.call("crm.objects.batch_api", "read", "deals", body)
    assert len(connector.get_many("deal", ids)) == 51  # two batch reads of 50 and 1
