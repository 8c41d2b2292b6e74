"""`sync_history`: off (the default), the sync feed reads deals as cheaply as contacts and
leaves `stage_entered_at` / `close_date_changes` out of its records (absent keys), while
`get_many` (what a run reads) still has them; on, the feed carries them at about twice the
calls. Calls are counted at the emulator (every request it received)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.hubspot.connector import HubSpotConnector
from tests.connectors.hubspot_seed import connector_for, emulator_start, feed_records
from tests.emulators.framework import FakeClock
from tests.emulators.hubspot_api import HubSpotEmulator

HISTORY = ("stage_entered_at", "close_date_changes")
DEALS, EDITS = 2000, 1000


@pytest.fixture
def seeded() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start(seed=True, second_pipeline=True)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def clocked() -> Iterator[tuple[HubSpotEmulator, FakeClock]]:
    clock = FakeClock(datetime(2025, 3, 4, tzinfo=UTC))
    emulator = emulator_start(clock=clock)
    try:
        yield emulator, clock
    finally:
        emulator.stop()


def test_the_capabilities_declare_what_sync_pages_omit() -> None:
    assert HubSpotConnector(access_token="t").capabilities.sync_omits == (
        "deal.close_date_changes",
        "deal.stage_entered_at",
    )
    assert HubSpotConnector(access_token="t", sync_history=True).capabilities.sync_omits == ()
    # A credential typed in admin arrives as text.
    assert HubSpotConnector(access_token="t", sync_history="true").capabilities.sync_omits == ()
    with pytest.raises(ValueError, match="sync_history must be true or false"):
        HubSpotConnector(access_token="t", sync_history="maybe")


def test_without_sync_history_feed_deals_lack_history_keys_and_get_many_has_them(
    seeded: HubSpotEmulator,
) -> None:
    connector = connector_for(seeded)
    ids = [d.id for d in seeded.portal().live("deals")]
    full = {r.id: r for r in connector.get_many("deal", ids)}
    assert any(r.properties["stage_entered_at"] is not None for r in full.values())

    backfilled, _ = feed_records(connector, "deal", backfill=True)
    incremental, _ = feed_records(
        connector, "deal", backfill=False
    )  # the change feed from the start (search)
    for records in (backfilled, incremental):
        assert {r.id for r in records} == set(full)
        for record in records:
            assert not set(HISTORY) & set(record.properties), record.id  # absent, not None
            # Everything else is what a run reads.
            wanted = {k: v for k, v in full[record.id].properties.items() if k not in HISTORY}
            assert record.properties == wanted, record.id
            assert record.associations == full[record.id].associations, record.id
    assert seeded.calls["POST /crm/v3/objects/deals/batch/read"] == 1  # get_many's only


# Incremental, off: a feed page is up to five searches of 200 (a full one delivers 199: its
# last stamp is re-read by the next query, keyset) and then two associations v4 reads
# (company, contacts) for all of them: 7 calls per ~1,000 records; here, with 1,000 edits,
# the tail search and the archived listing make it 9. On: a history read per 50 more.
@pytest.mark.parametrize(
    ("sync_history", "backfill_max", "incremental_max"),
    [(False, 11.0, 10.0), (True, 21.0, 30.0)],
)
def test_calls_per_1000_deals_synced(
    clocked: tuple[HubSpotEmulator, FakeClock],
    sync_history: bool,
    backfill_max: float,
    incremental_max: float,
) -> None:
    emu, clock = clocked
    store = emu.portal()
    deals = [
        store.create("deals", {"dealname": f"D{i}", "dealstage": "appointmentscheduled"}).id
        for i in range(DEALS)
    ]
    connector = connector_for(emu, sync_history=sync_history)
    clock.advance(3600)  # the creates lie beyond the feed's look-back
    emu.calls.clear()
    backfilled, cursor = feed_records(connector, "deal", backfill=True)
    assert len(backfilled) == DEALS
    backfill = emu.calls_total() / DEALS * 1000
    lists = emu.calls["GET /crm/v3/objects/deals"] - 1  # less the archived listing
    assert lists == DEALS // (50 if sync_history else 100)

    for i, deal in enumerate(deals[:EDITS]):
        store.update("deals", deal, {"hs_next_step": f"edited {i}"}, source="CRM_UI")
    clock.advance(3600)
    emu.calls.clear()
    changed, _ = feed_records(connector, "deal", cursor, backfill=False)
    assert {r.id for r in changed} >= set(deals[:EDITS])
    incremental = emu.calls_total() / len({r.id for r in changed}) * 1000
    searches = emu.calls["POST /crm/v3/objects/deals/search"]
    assert searches <= -(-len(changed) // 199) + 1
    history_reads = emu.calls["POST /crm/v3/objects/deals/batch/read"]
    assert (0 < history_reads <= 4 * searches) if sync_history else history_reads == 0
    associations = emu.calls_total() - searches - history_reads - 1  # - the archived listing
    assert associations == 2 * -(-searches // 5)  # company, contacts: once per feed page
    assert all(("stage_entered_at" in r.properties) is sync_history for r in changed)
    print(f"sync_history={sync_history}: backfill {backfill:.1f}, incremental {incremental:.1f}")
    assert backfill <= backfill_max
    assert incremental <= incremental_max
