"""HubSpot write-back: associations, owners, exactly-once notes and tasks by salesops_key
across timeouts, drops and 429/500 storms, and 207 multi-status handled per record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest

from connectors.base import (
    Action,
    ActionResult,
    NoteAction,
    PropertyUpdate,
    RecordRef,
    RetriableCRMError,
    TaskAction,
)
from connectors.hubspot.connector import HubSpotConnector
from tests.connectors.hubspot_seed import HubSpotSeeder, connector_for, emulator_start
from tests.emulators.framework import Drop, RateLimited, ServerError, Slow
from tests.emulators.hubspot_api import HubSpotEmulator

LABELS = "GET /crm/v4/associations/{fromObjectType}/{toObjectType}/labels"


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def records(emu: HubSpotEmulator) -> dict[str, str]:
    seed = HubSpotSeeder(emu)
    owner = "70000001"
    emu.portal().owners.append({"id": owner, "email": "rep@x.io", "archived": False})
    company = seed.seed_company({"name": "Acme"})
    ada = seed.seed_contact({"first_name": "Ada", "owner": owner}, company_id=company)
    deal = seed.seed_deal({"name": "Big", "owner": owner}, company_id=company, contact_ids=[ada])
    return {"owner": owner, "company": company, "ada": ada, "deal": deal}


def apply_until_done(
    connector: HubSpotConnector, actions: list[Action]
) -> tuple[list[ActionResult], int]:
    """What a run's retries do: apply again after each retriable failure."""
    for attempt in range(30):
        try:
            results = connector.apply(actions)
        except RetriableCRMError:
            continue
        if not any(r.retriable for r in results):
            return results, attempt
    raise AssertionError("never done")


def test_notes_and_tasks_are_linked_and_owned(
    emu: HubSpotEmulator, records: dict[str, str]
) -> None:
    seed = HubSpotSeeder(emu)
    connector = connector_for(emu)
    deal, ada = RecordRef("deal", records["deal"]), RecordRef("contact", records["ada"])
    results = connector.apply(
        [
            NoteAction(deal, "AI note\n\nRun: https://salesops.test/run/1", "k-n1"),
            TaskAction(deal, "[AI] Call", "Agenda", date(2025, 3, 6), "k-t1"),
            NoteAction(ada, "AI note on Ada", "k-n2"),
        ]
    )
    assert [r.status for r in results] == ["created", "created", "created"]
    assert seed.fetch_notes(deal) == ["AI note\n\nRun: https://salesops.test/run/1"]
    (task,) = seed.fetch_tasks(deal)
    assert task["owner"] == records["owner"]  # the record's owner
    assert task["due_date"] == date(2025, 3, 6)
    note = emu.portal().objects["notes"][results[0].external_id]
    assert note.properties["salesops_key"] == "k-n1"
    # The HUBSPOT_DEFINED type ids came from the labels API, once per pair, then cached.
    connector.apply([NoteAction(deal, "again", "k-n3"), NoteAction(ada, "again", "k-n4")])
    assert emu.calls[LABELS] == 3  # notes->deals, tasks->deals, notes->contacts
    links = emu.portal().associated("notes", results[0].external_id, "deals")
    assert links == {records["deal"]: {214}}  # note_to_deal, read from the API


def test_a_timed_out_upsert_is_not_written_twice(
    emu: HubSpotEmulator, records: dict[str, str]
) -> None:
    seed = HubSpotSeeder(emu)
    connector = connector_for(emu, timeout=0.3, retries=0)
    ref = RecordRef("contact", records["ada"])
    emu.fail(Slow(0.6), endpoint="POST /crm/v3/objects/notes/batch/upsert")
    with pytest.raises(RetriableCRMError):
        connector.apply([NoteAction(ref, "once", "k-slow")])
    time.sleep(0.5)  # the server finishes the write the client gave up on

    (result,) = connector.apply([NoteAction(ref, "once", "k-slow")])

    assert result.status == "exists"
    assert seed.fetch_notes(ref) == ["once"]  # written once, and linked by the retry


def test_a_dropped_link_is_repaired_by_the_retry(
    emu: HubSpotEmulator, records: dict[str, str]
) -> None:
    seed = HubSpotSeeder(emu)
    connector = connector_for(emu, retries=0)
    ref = RecordRef("deal", records["deal"])
    emu.fail(
        Drop(), endpoint="POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create"
    )
    with pytest.raises(RetriableCRMError):
        connector.apply([TaskAction(ref, "t", "", date(2025, 3, 6), "k-drop")])
    assert seed.fetch_tasks(ref) == []  # created but not linked yet

    (result,) = connector.apply([TaskAction(ref, "t", "", date(2025, 3, 6), "k-drop")])

    assert result.status == "exists" and len(seed.fetch_tasks(ref)) == 1
    assert len(emu.portal().live("tasks")) == 1


def test_a_429_and_500_storm_ends_with_every_write_once(
    emu: HubSpotEmulator, records: dict[str, str]
) -> None:
    seed = HubSpotSeeder(emu)
    connector = connector_for(emu)
    deal, ada = RecordRef("deal", records["deal"]), RecordRef("contact", records["ada"])
    actions: list[Action] = [
        NoteAction(deal, "deal note", "k-s1"),
        NoteAction(ada, "ada note", "k-s2"),
        TaskAction(deal, "deal task", "", date(2025, 3, 7), "k-s3"),
        TaskAction(ada, "ada task", "", date(2025, 3, 8), "k-s4"),
        PropertyUpdate(ada, {"ai_score": 80, "lead_status": "OPEN"}, "k-s5"),
        PropertyUpdate(deal, {"ai_health": "red"}, "k-s6"),
    ]
    storm = [RateLimited(30), ServerError(500), ServerError(503), Drop(), RateLimited(1)] * 6
    emu.fail(*storm)

    results, attempts = apply_until_done(connector, actions)

    assert attempts > 0 and [r.status for r in results if r.status == "failed"] == []
    assert seed.fetch_notes(deal) == ["deal note"] and seed.fetch_notes(ada) == ["ada note"]
    assert len(seed.fetch_tasks(deal)) == 1 and len(seed.fetch_tasks(ada)) == 1
    assert len(emu.portal().live("notes")) == 2 and len(emu.portal().live("tasks")) == 2
    assert seed.fetch_properties(ada)["ai_score"] == 80
    assert seed.fetch_properties(deal)["ai_health"] == "red"


def test_one_refused_update_fails_alone(emu: HubSpotEmulator, records: dict[str, str]) -> None:
    connector = connector_for(emu)
    ada, deal = RecordRef("contact", records["ada"]), RecordRef("deal", records["deal"])
    seed = HubSpotSeeder(emu)
    bo = RecordRef("contact", seed.seed_contact({"first_name": "Bo"}))
    results = connector.apply(
        [
            PropertyUpdate(ada, {"lead_status": "NOT_A_STATUS"}, "k-u1"),
            PropertyUpdate(bo, {"lead_status": "CONNECTED"}, "k-u2"),
            PropertyUpdate(deal, {"stage": "closedwon"}, "k-u3"),
        ]
    )
    assert [r.status for r in results] == ["failed", "updated", "updated"]
    assert not results[0].retriable and "NOT_A_STATUS" in results[0].error
    assert seed.fetch_properties(bo)["lead_status"] == "CONNECTED"
    assert emu.portal().objects["deals"][deal.id].properties["dealstage"] == "closedwon"


def test_a_207_is_split_per_record(emu: HubSpotEmulator, records: dict[str, str]) -> None:
    connector = connector_for(emu)
    ada = RecordRef("contact", records["ada"])
    gone = RecordRef("contact", HubSpotSeeder(emu).seed_contact({"first_name": "Gone"}))
    batch = [
        (0, PropertyUpdate(ada, {"job_title": "CEO"}, "k-a"), {"jobtitle": "CEO"}),
        (1, PropertyUpdate(gone, {"job_title": "x"}, "k-b"), {"jobtitle": "x"}),
    ]
    emu.portal().archive("contacts", gone.id)  # deleted after the connector looked

    out = connector.writer._update_batch("contacts", batch)  # type: ignore[arg-type]

    assert out[0].status == "updated"
    assert out[1].status == "failed" and not out[1].retriable
    assert "OBJECT_NOT_FOUND" in out[1].error


def test_task_owner_must_exist(emu: HubSpotEmulator, records: dict[str, str]) -> None:
    connector = connector_for(emu)
    ref = RecordRef("deal", records["deal"])
    (bad,) = connector.apply([TaskAction(ref, "t", "", date(2025, 3, 6), "k-o", owner_id="1")])
    assert bad.status == "failed" and "unknown owner" in bad.error


def test_without_provisioning_notes_fail_and_check_blocks(
    emu: HubSpotEmulator, records: dict[str, str]
) -> None:
    connector = connector_for(emu, provision=False)
    (result,) = connector.apply([NoteAction(RecordRef("contact", records["ada"]), "n", "k-np")])
    assert result.status == "failed" and not result.retriable and "salesops_key" in result.error
    report = connector.check()
    assert any("salesops_key" in line.message for line in report.blocking)
    provisioned = connector.check(provision=True)
    assert provisioned.blocking == []
    assert emu.portal().properties["notes"]["salesops_key"]["hasUniqueValue"] is True
    assert emu.portal().properties["contacts"]["ai_score"]["groupName"] == "salesops"
