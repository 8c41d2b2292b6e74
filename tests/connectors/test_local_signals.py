"""The local CRM announces human changes as neutral events, and stays quiet for the AI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from connectors.base import NoteAction, PropertyUpdate, RecordRef, TaskAction
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.local.sample import sample_data_load
from connectors.local.signals import events_suppressed

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> m.Contact:
    return m.Contact.objects.create(id="c-1", first_name="Ada", lead_status="NEW")


def test_it_sends_created_only_after_commit(sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        m.Contact.objects.create(id="c-9", first_name="Bo")
        assert sent_events == []  # not before the transaction commits

    (event,) = sent_events
    assert (event.name, event.record, event.source) == (
        "contact.created",
        RecordRef("contact", "c-9"),
        "local",
    )
    assert event.event_id == "local:contact.created:c-9"


def test_it_sends_one_event_per_changed_property(
    ada, sent_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ada.lead_status = "OPEN"
        ada.job_title = "CTO"
        ada.first_name = "Ada"  # unchanged: no event
        ada.save()

    changed = {(e.name, e.property, e.value) for e in sent_events}
    assert changed == {
        ("contact.property_changed", "lead_status", "OPEN"),
        ("contact.property_changed", "job_title", "CTO"),
    }


def test_it_tracks_changes_of_rows_read_back_from_the_database(
    ada, sent_events, django_capture_on_commit_callbacks
):
    company = m.Company.objects.create(id="co-1", name="Acme")
    with django_capture_on_commit_callbacks(execute=True):
        loaded = m.Company.objects.get(pk=company.pk)
        loaded.employees = 120
        loaded.save()
        loaded.save()  # nothing changed since the last save

    assert [(e.name, e.property, e.value) for e in sent_events] == [
        ("company.property_changed", "employees", 120)
    ]


def test_it_gives_a_replayed_change_the_same_event_id(
    ada, sent_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ada.lead_status = "OPEN"
        ada.save()
        ada.lead_status = "IN_PROGRESS"
        ada.save()

    first, second = sent_events
    assert first.event_id != second.event_id
    stamp = m.Contact.objects.get(pk="c-1").updated_at
    assert second.event_id == f"local:contact.property_changed:c-1:lead_status:{stamp.isoformat()}"


def test_it_reports_the_owner_by_id(ada, sent_events, django_capture_on_commit_callbacks):
    m.Owner.objects.create(id="u-1", name="Rep")
    with django_capture_on_commit_callbacks(execute=True):
        ada.owner_id = "u-1"
        ada.save()
    assert [(e.property, e.value) for e in sent_events] == [("owner", "u-1")]


def test_it_sends_activity_logged_for_each_linked_record(
    sent_events, django_capture_on_commit_callbacks
):
    deal = m.Deal.objects.create(id="d-1", name="Expansion")
    m.Contact.objects.create(id="c-2", first_name="Bo")
    with django_capture_on_commit_callbacks(execute=True):
        m.Activity.objects.create(id="a-1", kind="meeting", contact_id="c-2", deal=deal)

    assert {(e.name, e.record.id, e.value) for e in sent_events} == {
        ("contact.activity_logged", "c-2", "meeting"),
        ("deal.activity_logged", "d-1", "meeting"),
    }
    assert {e.event_id for e in sent_events} == {
        "local:contact.activity_logged:c-2:a-1",
        "local:deal.activity_logged:d-1:a-1",
    }


def test_it_sends_nothing_for_ai_writes(ada, sent_events, django_capture_on_commit_callbacks):
    deal = m.Deal.objects.create(id="d-1", name="Expansion")
    connector = LocalConnector()
    with django_capture_on_commit_callbacks(execute=True):
        connector.apply(
            [
                NoteAction(RecordRef("contact", "c-1"), "why", "k1"),
                TaskAction(RecordRef("contact", "c-1"), "call", "", date(2025, 1, 2), "k2"),
                PropertyUpdate(RecordRef("contact", "c-1"), {"ai_score": 80, "ai_tier": "A"}, "k3"),
                PropertyUpdate(RecordRef("deal", deal.pk), {"ai_health": "red"}, "k4"),
            ]
        )

    assert sent_events == []
    assert m.Activity.objects.filter(ai_generated=True).count() == 2
    assert m.Contact.objects.get(pk="c-1").ai_tier == "A"


def test_it_still_announces_a_human_property_written_through_apply(
    ada, sent_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        LocalConnector().apply(
            [
                PropertyUpdate(
                    RecordRef("contact", "c-1"), {"lead_status": "OPEN", "ai_score": 5}, "k"
                )
            ]
        )
    assert [(e.property, e.value) for e in sent_events] == [("lead_status", "OPEN")]


def test_it_sends_nothing_inside_events_suppressed(sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), events_suppressed():
        contact = m.Contact.objects.create(id="c-3", first_name="Cy")
        contact.lead_status = "OPEN"
        contact.save()
        m.Activity.objects.create(id="a-2", kind="call", contact=contact)
    assert sent_events == []


def test_it_sends_nothing_while_loading_sample_data(
    tmp_path: Path, sent_events, django_capture_on_commit_callbacks
):
    path = tmp_path / "crm.json"
    path.write_text(
        json.dumps(
            {
                "companies": [{"id": "co-1", "name": "Acme"}],
                "contacts": [{"id": "c-1", "company": "co-1", "first_name": "Ada"}],
                "activities": [
                    {"id": "a-1", "kind": "call", "timestamp": "now-1d", "contact": "c-1"}
                ],
            }
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = sample_data_load(path)
    assert counts["contacts"] == 1
    assert sent_events == []


def test_it_keeps_last_activity_at_current_for_human_activity():
    contact = m.Contact.objects.create(id="c-4", first_name="Di")
    when = timezone.now() - timedelta(hours=2)
    m.Activity.objects.create(id="a-3", kind="email", timestamp=when, contact=contact)
    m.Activity.objects.create(id="a-4", kind="note", ai_generated=True, contact=contact)

    assert m.Contact.objects.get(pk="c-4").last_activity_at == when
    assert contact.last_activity_at == when


def test_it_tracks_deal_stage_and_close_date_pushes():
    deal = m.Deal.objects.create(
        id="d-2", name="X", stage="qualification", close_date=date(2025, 5, 1)
    )
    entered = deal.stage_entered_at
    assert entered is not None

    deal.close_date = date(2025, 6, 1)
    deal.save()
    deal.stage = "proposal"
    deal.save()

    deal.refresh_from_db()
    assert deal.close_date_changes == 1
    assert deal.stage_entered_at > entered


def test_it_compares_against_refreshed_values(ada, sent_events, django_capture_on_commit_callbacks):
    m.Contact.objects.filter(pk="c-1").update(lead_status="OPEN")
    ada.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ada.lead_status = "NEW"
        ada.save()
    assert [(e.property, e.value) for e in sent_events] == [("lead_status", "NEW")]


def test_events_carry_the_records_account(sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact = m.Contact.objects.create(id="acme-c-9", account="acme", first_name="A")
        m.Activity.objects.create(kind="call", contact=contact)
    assert {(e.name, e.account_id) for e in sent_events} == {
        ("contact.created", "acme"),
        ("contact.activity_logged", "acme"),
    }
