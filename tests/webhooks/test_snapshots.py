"""Snapshot events: diffed against the record mirror into created / property_changed events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import CrmEvent, RecordRef
from salesops.models import CrmRecordMirror, Run, WebhookEvent
from salesops.services.connections import connection_local
from salesops.services.events import event_ingest, webhook_events_route

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def snapshot(
    properties: dict[str, Any], *, event_id: str = "snap-1", record: str = "c-900", at=AT
) -> CrmEvent:
    return CrmEvent(
        event_id=event_id,
        name="contact.snapshot",
        record=RecordRef("contact", record),
        occurred_at=at,
        snapshot=properties,
    )


def routed(event: CrmEvent) -> list[Run]:
    (row,) = event_ingest(connection=connection_local(), events=[event])
    return webhook_events_route(webhook_event_ids=[row.pk])


def mirror(record: str = "c-900", **properties: Any) -> CrmRecordMirror:
    return CrmRecordMirror.objects.create(
        connection=connection_local(),
        object_type="contact",
        record_id=record,
        properties=properties,
        last_modified=AT - timedelta(days=1),
    )


def derived() -> list[tuple[str, str, str | None, Any]]:
    rows = WebhookEvent.objects.exclude(name="contact.snapshot").order_by("event_id")
    return [(r.event_id, r.name, r.payload["property"], r.payload["value"]) for r in rows]


def test_a_record_never_mirrored_becomes_a_created_event_and_a_mirror(db):
    routed(snapshot({"email": "ada@example.com", "lifecycle_stage": "lead"}))
    assert derived() == [("snap-1:created", "contact.created", None, None)]
    stored = CrmRecordMirror.objects.get(record_id="c-900")
    assert stored.properties == {"email": "ada@example.com", "lifecycle_stage": "lead"}
    assert stored.last_modified == AT


def test_each_changed_property_becomes_a_property_changed_event(db):
    mirror(email="ada@example.com", lifecycle_stage="subscriber", job_title=None, phone="1")
    routed(snapshot({"email": "ada@example.com", "lifecycle_stage": "lead", "job_title": "CTO"}))
    assert derived() == [
        ("snap-1:job_title", "contact.property_changed", "job_title", "CTO"),
        ("snap-1:lifecycle_stage", "contact.property_changed", "lifecycle_stage", "lead"),
    ]
    stored = CrmRecordMirror.objects.get(record_id="c-900")
    assert stored.properties == {  # updated from the snapshot; a property it omits is kept
        "email": "ada@example.com",
        "lifecycle_stage": "lead",
        "job_title": "CTO",
        "phone": "1",
    }
    assert stored.last_modified == AT
    snap = WebhookEvent.objects.get(event_id="snap-1")
    assert snap.processed_at is not None and snap.skip_reason == ""


def test_a_snapshot_equal_to_the_mirror_produces_nothing_and_says_so(db):
    mirror(email="ada@example.com")
    routed(snapshot({"email": "ada@example.com"}))
    assert derived() == []
    assert "no property differs" in WebhookEvent.objects.get(event_id="snap-1").skip_reason


def test_a_snapshot_older_than_the_mirror_is_skipped_and_changes_nothing(db):
    mirror(lifecycle_stage="customer")
    routed(snapshot({"lifecycle_stage": "lead"}, at=AT - timedelta(days=2)))
    assert derived() == []
    assert CrmRecordMirror.objects.get(record_id="c-900").properties == {
        "lifecycle_stage": "customer"
    }
    assert WebhookEvent.objects.get(event_id="snap-1").skip_reason.startswith("stale:")


def test_a_redelivered_snapshot_derives_the_same_ids_and_stores_them_once(db):
    mirror(lifecycle_stage="subscriber")
    routed(snapshot({"lifecycle_stage": "lead"}))
    row = WebhookEvent.objects.get(event_id="snap-1")
    WebhookEvent.objects.filter(pk=row.pk).update(processed_at=None)  # a second delivery
    CrmRecordMirror.objects.filter(record_id="c-900").update(
        properties={"lifecycle_stage": "subscriber"}
    )
    webhook_events_route(webhook_event_ids=[row.pk])
    assert [e[0] for e in derived()] == ["snap-1:lifecycle_stage"]


def test_a_long_vendor_id_still_derives_ids_that_fit_and_differ(db):
    mirror(lifecycle_stage="subscriber", job_title="CEO")
    long_id = "x" * 200
    routed(snapshot({"lifecycle_stage": "lead", "job_title": "CTO"}, event_id=long_id))
    ids = [e[0] for e in derived()]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) <= 200 for i in ids)


def test_a_derived_change_starts_the_run_its_trigger_names(
    library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    mirror("c-004", lifecycle_stage="salesqualifiedlead")
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = routed(snapshot({"lifecycle_stage": "lead"}, record="c-004"))
    assert run.sop.name == "lead-qualification" and run.trigger == "event"
    assert "snap-1:lifecycle_stage" in run.idempotency_key  # keyed on the derived event
    assert WebhookEvent.objects.get(event_id="snap-1").runs_created == 1


def test_our_own_write_back_as_a_snapshot_updates_the_mirror_but_starts_nothing(
    library, sample_crm, sync_queue
):
    mirror("c-004", lifecycle_stage="salesqualifiedlead")
    echo = snapshot({"lifecycle_stage": "lead"}, record="c-004")
    from dataclasses import replace

    assert routed(replace(echo, origin="salesops")) == []
    assert CrmRecordMirror.objects.get(record_id="c-004").properties["lifecycle_stage"] == "lead"


def test_a_snapshot_posted_to_the_local_webhook_is_stored_whole(post, db):
    item = {
        "event_id": "snap-9",
        "name": "contact.snapshot",
        "object_type": "contact",
        "id": "c-901",
        "occurred_at": AT.isoformat(),
        "properties": {"email": "bo@example.com", "lifecycle_stage": "lead"},
    }
    assert post(json.dumps({"events": [item]}).encode()).status_code == 200
    row = WebhookEvent.objects.get(event_id="snap-9")
    assert row.payload["snapshot"] == {"email": "bo@example.com", "lifecycle_stage": "lead"}
