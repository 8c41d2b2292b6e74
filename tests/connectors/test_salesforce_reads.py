"""The Salesforce feed and reads by id against the emulator, over real HTTPS: Leads and
Contacts in one feed, tombstones, look-back, history fields, bound SOQL and call counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from connectors.base import PermanentCRMError, RecordRef
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.soql import Like
from tests.connectors.salesforce_seed import (
    OTHER_ORG,
    SalesforceSeeder,
    connector_for,
    emulator_start,
    feed_pages,
)
from tests.emulators.salesforce_api import SalesforceEmulator


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = emulator_start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def seed(emu: SalesforceEmulator) -> SalesforceSeeder:
    return SalesforceSeeder(emu)


def ids_of(pages: list) -> list[str]:
    return [r.id for p in pages for r in p.records]


def test_leads_and_contacts_share_one_feed_one_sobject_after_the_other(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    company = seed.seed_company({"name": "Acme"})
    leads, contacts = [], []
    for i in range(5):
        leads.append(seed.seed_contact({"first_name": f"L{i}"}))  # a Lead
        contacts.append(seed.seed_contact({"first_name": f"C{i}"}, company_id=company))
    connector = connector_for(emu, page_size=3)
    before = connector.calls
    pages, _ = feed_pages(connector, "contact")

    # Contacts to their end, then Leads, each in stamp order; nothing repeated, and the page
    # that ends the Contacts fills up with Leads.
    assert ids_of(pages) == contacts + leads
    assert [len(p.records) for p in pages] == [3, 3, 3, 1]
    # Every query's rows are delivered: 4 pages of Contact then Lead reads (5 queries, the
    # page ending the Contacts reads both) and the two deletes queries when caught up.
    assert connector.calls - before == 5 + 2


def test_a_converted_lead_is_a_tombstone_and_deletes_are_reported(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    company = seed.seed_company({"name": "Acme"})
    lead = seed.seed_contact({"first_name": "Lee"})
    gone = seed.seed_contact({"first_name": "Gone"}, company_id=company)
    connector = connector_for(emu)
    _, cursor = feed_pages(connector, "contact")

    contact = seed.seed_contact({"first_name": "Lee"}, company_id=company)
    emu.clock.advance(1)  # type: ignore[attr-defined]
    seed.store.convert_lead(lead, contact, company)
    seed.seed_delete(RecordRef("contact", gone))
    pages, _ = feed_pages(connector, "contact", cursor)

    deleted = {i for p in pages for i in p.deleted_ids}
    assert {lead, gone} <= deleted
    assert contact in ids_of(pages) and lead not in ids_of(pages)
    # The converted Lead's id answers with its Contact.
    (found,) = connector.get_many("contact", [lead])
    assert found.id == contact


def test_caught_up_the_feed_looks_back_for_rows_committed_late(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    seed.seed_contact({"first_name": "A"})
    connector = connector_for(emu, lookback_seconds=5)
    _, cursor = feed_pages(connector, "contact")
    # A long transaction commits a Lead stamped two seconds before the newest row read.
    late = seed.store.insert(
        "Lead",
        {
            "LastName": "Late",
            "Company": "X",
            "SystemModstamp": seed.store.now() - timedelta(seconds=2),
        },
    )
    pages, _ = feed_pages(connector, "contact", cursor)
    assert late in ids_of(pages)


def test_deal_pages_carry_history_fields(emu: SalesforceEmulator, seed: SalesforceSeeder) -> None:
    deal = seed.seed_deal({"name": "D", "close_date": date(2025, 4, 1)})
    for close in (date(2025, 5, 1), date(2025, 6, 1)):
        seed.seed_update(RecordRef("deal", deal), {"close_date": close})
    seed.seed_update(RecordRef("deal", deal), {"stage": "contractsent"})
    stage_at = seed.store.now()
    seed.seed_deal({"name": "Other"})
    connector = connector_for(emu)

    pages, _ = feed_pages(connector, "deal")
    (fed,) = [r for r in pages[0].records if r.id == deal]
    (read,) = connector.get_many("deal", [deal])

    for record in (fed, read):
        assert record.properties["close_date_changes"] == 2
        assert record.properties["stage_entered_at"] == stage_at
        assert record.properties["stage"] == "contractsent"


def test_a_sync_costs_about_one_call_per_thousand_records(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    store, total = seed.store, 10_000
    for i in range(total):
        fields = {"Name": f"D{i}", "StageName": "Prospecting", "CloseDate": date(2025, 6, 1)}
        deal = store.insert("Opportunity", fields)
        if i % 10 == 0:  # some deals moved stage: history rows to read
            store.update("Opportunity", deal, {"StageName": "Qualification"})
        if i % 50 == 0:
            emu.clock.advance(1)  # type: ignore[attr-defined]
        store.insert("Lead" if i % 2 else "Contact", {"LastName": f"L{i}"})
    connector = connector_for(emu)
    connector.client.login()
    cost = {}
    for object_type in ("deal", "contact"):
        before = connector.calls
        pages, _ = feed_pages(connector, object_type)
        assert len({r.id for p in pages for r in p.records}) == total
        cost[object_type] = connector.calls - before
    # Deals: per 2,000 a query and one history query (changes only), then an empty
    # caught-up page and the deletes query: 5 x 2 + 2. Contacts: 5,000 Contacts then 5,000
    # Leads, 2,000 a query (the page ending the Contacts fills up with Leads: 6 queries),
    # an empty caught-up query and two deletes queries: 9.
    assert cost == {"deal": 12, "contact": 9}
    assert all(calls / total * 1000 <= 1.2 for calls in cost.values())


def test_get_many_reads_associations_and_lifecycle_in_few_calls(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    company = seed.seed_company({"name": "Acme"})
    contacts = [seed.seed_contact({"first_name": f"C{i}"}, company_id=company) for i in range(250)]
    won = seed.seed_deal(
        {"name": "Won", "stage": "closedwon"}, company_id=company, contact_ids=contacts[:1]
    )
    lead = seed.seed_contact({"first_name": "Lead"})
    connector = connector_for(emu)
    connector.client.login()

    before = connector.calls
    records = connector.get_many("contact", [*contacts, lead, "not-an-id", "003' OR Id != '"])
    calls = connector.calls - before

    assert [r.id for r in records] == [*contacts, lead]
    # Leads (1), Contacts (2 chunks of 200), their roles (2 chunks).
    assert calls == 6  # + the Account a Lead's Company names (Lead-to-Account match)
    first = records[0]
    assert first.associations == {"company": [company], "deals": [won]}
    assert first.properties["lifecycle_stage"] == "customer"
    assert records[1].properties["lifecycle_stage"] == "salesqualifiedlead"
    assert records[-1].properties["lifecycle_stage"] == "lead"
    (account,) = connector.get_many("company", [company])
    assert account.associations == {"contacts": sorted(contacts), "deals": [won]}


def test_hostile_values_stay_values_in_the_emulators_soql_parser(
    emu: SalesforceEmulator, seed: SalesforceSeeder
) -> None:
    tricky = 'o\'brien\\\n"x"_%@acme.test'
    mine = seed.seed_contact({"last_name": "Tricky", "email": tricky})
    seed.seed_contact({"last_name": "Other", "email": "other@acme.test"})
    reader = connector_for(emu).reader

    def emails(tail: str, **params: object) -> list[str]:
        return [r["Id"] for r in reader.select("Lead", tail, **params)]

    assert emails("WHERE Email = :e", e=tricky) == [mine]
    for hostile in ("x' OR Email != '", "x\\' OR Email != null OR Email = '", "' OR ''='"):
        assert emails("WHERE Email = :e", e=hostile) == []
    assert emails("WHERE Email LIKE :e", e=Like("_%", before="%", after="%")) == [mine]
    assert emails("WHERE Email LIKE :e", e=Like("%")) == []


def test_cursors_are_bound_to_their_feed_and_org(emu: SalesforceEmulator) -> None:
    connector = connector_for(emu)
    _, cursor = feed_pages(connector, "contact")
    with pytest.raises(PermanentCRMError):
        connector.read_page("deal", cursor)
    with pytest.raises(PermanentCRMError):
        connector_for(emu, OTHER_ORG).read_page("contact", cursor)
    with pytest.raises(PermanentCRMError):
        connector.read_page("contact", cursor[:-4] + "AAAA")


def test_an_org_without_our_fields_is_still_read(emu: SalesforceEmulator) -> None:
    store = emu.org_add("00D5g00000NOPRVEAW", "bare@org.example", provisioned=False)
    lead = store.insert("Lead", {"LastName": "Bare", "Company": "X"})
    connector: SalesforceConnector = connector_for(emu, "00D5g00000NOPRVEAW")

    pages, _ = feed_pages(connector, "contact")
    (record,) = connector.get_many("contact", [lead])

    assert ids_of(pages) == [lead]
    assert record.properties["ai_score"] is None and record.properties["last_name"] == "Bare"
