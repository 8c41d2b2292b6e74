"""Stale events: an event older than the mirrored record's state starts no run, and says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import CrmEvent, RecordRef
from connectors.local import models as crm
from salesops.models import Connection, CrmRecordMirror, Run, WebhookEvent
from salesops.services.connections import connection_local
from salesops.services.events import event_receive

pytestmark = pytest.mark.django_db

MODIFIED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def created(contact_id: str, occurred_at: datetime, event_id: str = "ev-1") -> CrmEvent:
    return CrmEvent(
        event_id=event_id,
        name="contact.created",
        record=RecordRef("contact", contact_id),
        occurred_at=occurred_at,
    )


def mirrored(contact_id: str, last_modified: datetime | None = MODIFIED) -> CrmRecordMirror:
    return CrmRecordMirror.objects.create(
        connection=connection_local(),
        object_type="contact",
        record_id=contact_id,
        properties={"lifecycle_stage": "lead"},
        last_modified=last_modified,
    )


@pytest.fixture
def routed(library, sample_crm, sync_queue, django_capture_on_commit_callbacks):
    def route(event: CrmEvent) -> list[Run]:
        with django_capture_on_commit_callbacks(execute=True):
            return event_receive(connection=connection_local(), event=event)

    return route


def test_it_starts_no_run_for_an_event_older_than_the_mirrored_record(routed):
    mirrored("c-001")
    notes = crm.Note.objects.count()
    started = routed(created("c-001", MODIFIED - timedelta(hours=1)))
    assert crm.Note.objects.count() == notes  # nothing written
    assert started == [] and not Run.objects.filter(record_id="c-001").exists()
    event = WebhookEvent.objects.get(event_id="ev-1")
    assert event.processed_at is not None and event.runs_created == 0
    assert event.skip_reason.startswith("stale:")
    assert MODIFIED.isoformat() in event.skip_reason


def test_it_routes_an_event_as_new_as_the_mirrored_record(routed):
    mirrored("c-001")
    (run,) = routed(created("c-001", MODIFIED))
    assert Run.objects.get(pk=run.pk).state == Run.State.WRITTEN
    assert WebhookEvent.objects.get(event_id="ev-1").skip_reason == ""


def test_it_routes_an_event_for_a_record_never_mirrored_or_without_a_timestamp(routed):
    mirrored("c-002", last_modified=None)
    assert len(routed(created("c-001", MODIFIED - timedelta(days=30), "ev-1"))) == 1
    assert len(routed(created("c-002", MODIFIED - timedelta(days=30), "ev-2"))) == 1


def test_the_stale_check_reads_the_mirror_of_the_events_own_connector(routed):
    CrmRecordMirror.objects.create(
        connection=Connection.objects.create(kind="hubspot", slug="hubspot-eu"),
        object_type="contact",
        record_id="c-001",
        last_modified=MODIFIED,
    )
    assert len(routed(created("c-001", MODIFIED - timedelta(hours=1)))) == 1
