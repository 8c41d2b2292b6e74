"""A record's timeline from Tasks and Events against the emulator: kinds, directions,
outcomes, notes vs to-dos, a contact's deals, our own rows, missing records and call cost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.base import NoteAction, RecordNotFound, RecordRef
from tests.connectors.salesforce_seed import SalesforceSeeder, connector_for, emulator_start
from tests.emulators.salesforce_api import SalesforceEmulator

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


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


@pytest.fixture
def people(seed: SalesforceSeeder) -> dict[str, str]:
    company = seed.seed_company({"name": "Acme"})
    ada = seed.seed_contact({"first_name": "Ada"}, company_id=company)
    deal = seed.seed_deal({"name": "Acme deal"}, company_id=company, contact_ids=[ada])
    return {"company": company, "ada": ada, "deal": deal}


def task(seed: SalesforceSeeder, **fields: object) -> str:
    return seed.store.insert("Task", fields)


def test_tasks_and_events_become_neutral_kinds(
    emu: SalesforceEmulator, seed: SalesforceSeeder, people: dict[str, str]
) -> None:
    ada = people["ada"]
    done = {"Status": "Completed", "WhoId": ada}
    task(
        seed,
        TaskSubtype="Call",
        CallType="Inbound",
        CallDisposition="Left Voicemail",
        Subject="Call",
        CreatedDate=T0,
        CompletedDateTime=T0,
        **done,
    )
    task(
        seed,
        TaskSubtype="Email",
        Subject="Inbound: Pricing?",
        Description="How much?",
        CreatedDate=T0 + timedelta(hours=1),
        CompletedDateTime=T0 + timedelta(hours=1),
        **done,
    )
    task(
        seed,
        TaskSubtype="Email",
        Subject="Email: Re: Pricing",
        CreatedDate=T0 + timedelta(hours=2),
        CompletedDateTime=T0 + timedelta(hours=2),
        **done,
    )
    task(
        seed,
        Subject="Met at the fair",
        CreatedDate=T0 + timedelta(hours=3),
        CompletedDateTime=T0 + timedelta(hours=3),
        **done,
    )
    task(
        seed,
        Subject="Send the deck",
        Status="Not Started",
        WhoId=ada,
        ActivityDate=date(2025, 3, 10),
    )
    seed.seed_activity(
        RecordRef("contact", ada), kind="meeting", timestamp=T0 + timedelta(days=1), subject="Demo"
    )

    found = connector_for(emu).activities(RecordRef("contact", ada))

    shape = [(a.kind, a.subject, a.direction, a.outcome) for a in found]
    assert shape == [
        ("task", "Send the deck", "", "not_started"),
        ("meeting", "Demo", "", ""),
        ("note", "Met at the fair", "", ""),
        ("email", "Re: Pricing", "outbound", ""),
        ("email", "Pricing?", "inbound", ""),
        ("call", "Call", "inbound", "left_voicemail"),
    ]
    assert found[-1].timestamp == T0 and not any(a.ai_generated for a in found)


def test_a_contacts_timeline_holds_its_deals_activities(
    emu: SalesforceEmulator, seed: SalesforceSeeder, people: dict[str, str]
) -> None:
    deal = RecordRef("deal", people["deal"])
    seed.seed_activity(deal, kind="call", timestamp=T0, subject="On the deal")
    seed.seed_activity(
        RecordRef("company", people["company"]), kind="call", timestamp=T0, subject="On the account"
    )

    contact = connector_for(emu).activities(RecordRef("contact", people["ada"]))
    on_deal = connector_for(emu).activities(deal)

    assert [a.subject for a in contact] == ["On the deal"]
    assert [a.subject for a in on_deal] == ["On the deal"]


def test_our_notes_are_ai_generated_and_the_limit_holds(
    emu: SalesforceEmulator, seed: SalesforceSeeder, people: dict[str, str]
) -> None:
    ref = RecordRef("contact", people["ada"])
    connector = connector_for(emu)
    for days in range(3):
        seed.seed_activity(
            ref, kind="call", timestamp=T0 - timedelta(days=days), subject=f"c{days}"
        )
    (result,) = connector.apply([NoteAction(ref, "Tier A: 500 staff.", "k-1")])
    assert result.ok

    connector.client.login()
    before = connector.calls
    two = connector.activities(ref, limit=2)

    assert connector.calls - before <= 4  # the record, its deals, Tasks, Events
    assert [a.kind for a in two] == ["note", "call"] and two[0].ai_generated
    assert two[1].subject == "c0" and not two[1].ai_generated


@pytest.mark.parametrize("kind", ["missing", "wrong_type", "not_an_id"])
def test_a_missing_record_is_not_found(
    emu: SalesforceEmulator, seed: SalesforceSeeder, people: dict[str, str], kind: str
) -> None:
    ref = {
        "missing": RecordRef("contact", seed.missing_id("contact")),
        "wrong_type": RecordRef("deal", people["ada"]),
        "not_an_id": RecordRef("contact", "003' OR Id != '"),
    }[kind]
    with pytest.raises(RecordNotFound):
        connector_for(emu).activities(ref)


def test_a_converted_leads_timeline_is_its_contacts(
    emu: SalesforceEmulator, seed: SalesforceSeeder, people: dict[str, str]
) -> None:
    lead = seed.seed_contact({"first_name": "Ada"})
    seed.seed_activity(
        RecordRef("contact", people["ada"]), kind="call", timestamp=T0, subject="After conversion"
    )
    seed.store.convert_lead(lead, people["ada"], people["company"])

    found = connector_for(emu).activities(RecordRef("contact", lead))

    assert [a.subject for a in found] == ["After conversion"]
