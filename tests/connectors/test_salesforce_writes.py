"""Salesforce write-back: SOQL literals and sObject choice (pure), then over HTTPS against the
emulator: notes and tasks exactly once, updates, per-record errors, chunks of 200, storms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from connectors.base import NoteAction, PropertyUpdate, RecordRef, RetriableCRMError, TaskAction
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.writes import Writer, sobject_of, soql_literal
from tests.emulators.salesforce_api import SalesforceEmulator

TODAY = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ("a\\b", "'a\\\\b'"),
        ("x' OR Id != '", "'x\\' OR Id != \\''"),
        ('say "hi"\n', "'say \\\"hi\\\"\\n'"),
    ],
)
def test_soql_literals_escape_every_special_character(value: str, literal: str) -> None:
    assert soql_literal(value) == literal


@pytest.mark.parametrize(
    ("ref", "sobject"),
    [
        (RecordRef("contact", "0035g00000AbCdEAAV"), "Contact"),
        (RecordRef("contact", "00Q5g00000AbCdEAAV"), "Lead"),
        (RecordRef("company", "0015g00000AbCdEAAV"), "Account"),
        (RecordRef("deal", "0065g00000AbCdEAAV"), "Opportunity"),
        (RecordRef("ticket", "5005g00000AbCdEAAV"), None),
    ],
)
def test_a_neutral_ref_names_its_sobject(ref: RecordRef, sobject: str | None) -> None:
    assert sobject_of(ref) == sobject


# -- over HTTPS against the emulator ---------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def writer_for(emu: SalesforceEmulator) -> Writer:
    client = SalesforceClient.connect(
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=emu.username,
        private_key=emu.private_key_pem,
        ca_cert=emu.ca_path,
        sleep=lambda s: None,
    )
    return Writer(client, clock=lambda: TODAY)


def tasks_by_key(emu: SalesforceEmulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in emu.org().rows("Task"):
        key = row.get("Salesops_Key__c")
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_a_note_is_a_completed_ai_task_on_the_contact_once(emu: SalesforceEmulator) -> None:
    org = emu.org()
    ada = org.insert("Contact", {"LastName": "Lovelace", "OwnerId": org.user_id})
    note = NoteAction(RecordRef("contact", ada), "Qualified: budget confirmed\nsee run 7", "n-1")
    writer = writer_for(emu)
    [first] = writer.apply([note])
    assert first.status == "created" and first.external_id
    task = org.get("Task", first.external_id)
    assert task is not None
    assert task["Subject"] == "[AI] Qualified: budget confirmed"
    assert task["Status"] == "Completed" and task["WhoId"] == ada
    assert task["Description"] == note.body
    assert str(task["ActivityDate"])[:10] == TODAY.date().isoformat()
    [again] = writer.apply([note])
    assert again.status == "exists" and again.external_id == first.external_id
    assert tasks_by_key(emu) == {"n-1": 1}


def test_a_task_goes_to_the_records_owner_with_priority_and_due_date(
    emu: SalesforceEmulator,
) -> None:
    org = emu.org()
    deal = org.insert(
        "Opportunity",
        {
            "Name": "Big",
            "StageName": "Prospecting",
            "CloseDate": "2026-06-30",
            "OwnerId": org.user_id,
        },
    )
    action = TaskAction(
        RecordRef("deal", deal), "Call the buyer", "why", date(2026, 3, 9), "t-1", priority="HIGH"
    )
    [result] = writer_for(emu).apply([action])
    task = org.get("Task", result.external_id)
    assert task is not None and result.status == "created"
    assert (task["Subject"], task["Priority"], task["WhatId"]) == (
        "Call the buyer",  # the SOP's subject; the body carries the AI label and run link
        "High",
        deal,
    )
    assert str(task["ActivityDate"])[:10] == "2026-03-09" and task["OwnerId"] == org.user_id


def test_missing_records_and_refused_values_fail_only_their_actions(
    emu: SalesforceEmulator,
) -> None:
    org = emu.org()
    ada = org.insert("Contact", {"LastName": "Lovelace"})
    gone = org.insert("Contact", {"LastName": "Gone"})
    org.delete("Contact", gone)
    results = writer_for(emu).apply(
        [
            NoteAction(RecordRef("contact", gone), "x", "n-gone"),
            PropertyUpdate(RecordRef("contact", ada), {"job_title": "CTO"}, "p-1"),
            PropertyUpdate(RecordRef("contact", ada), {"email_opt_out": "maybe"}, "p-2"),
        ]
    )
    assert [r.status for r in results] == ["failed", "updated", "failed"]
    assert "not found" in results[0].error and not results[0].retriable
    assert org.get("Contact", ada)["Title"] == "CTO"  # type: ignore[index]


def test_more_than_200_actions_go_in_calls_of_200(emu: SalesforceEmulator) -> None:
    org = emu.org()
    acme = org.insert("Account", {"Name": "Acme"})
    notes = [NoteAction(RecordRef("company", acme), f"note {i}", f"k-{i}") for i in range(450)]
    results = writer_for(emu).apply(notes)
    assert all(r.status == "created" for r in results)
    upserts = [r for r in emu.requests if "composite/sobjects/Task" in r.path]
    assert len(upserts) == 3  # 200 + 200 + 50
    assert len(tasks_by_key(emu)) == 450


def test_a_storm_during_write_back_ends_with_every_write_done_once(
    emu: SalesforceEmulator,
) -> None:
    org = emu.org()
    acme = org.insert("Account", {"Name": "Acme"})
    notes = [NoteAction(RecordRef("company", acme), f"note {i}", f"s-{i}") for i in range(30)]
    writer = writer_for(emu)
    emu.fault_next("UNABLE_TO_LOCK_ROW", times=5)
    first = writer.apply(notes)
    locked = [r for r in first if not r.ok]
    assert len(locked) == 5 and all(r.retriable for r in locked)
    emu.fault_next("429", times=6, retry_after=0)
    emu.fault_next("500", times=6)
    for _ in range(6):  # the platform retries the whole call until it goes through
        try:
            second = writer.apply(notes)
            break
        except RetriableCRMError:
            continue
    assert all(r.ok for r in second)
    assert tasks_by_key(emu) == {f"s-{i}": 1 for i in range(30)}
