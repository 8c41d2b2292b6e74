"""Storing a delivery: one INSERT, whole or not at all; duplicates skipped; a refused value is
no duplicate."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from connectors.base import CrmEvent, RecordRef
from salesops.models import WebhookEvent
from salesops.services.connections import connection_local
from salesops.services.events import event_ingest

pytestmark = pytest.mark.django_db


def created(n: int, value: object = None) -> CrmEvent:
    ref = RecordRef("contact", f"c-{n}")
    return CrmEvent(
        f"ev-{n}", "contact.created", ref, datetime(2026, 11, 20, tzinfo=UTC), None, value
    )


def ingest(events):
    return event_ingest(connection=connection_local(), events=events)


def test_it_stores_new_events_once_and_skips_those_seen_before():
    assert len(ingest([created(1)])) == 1
    stored = ingest([created(1), created(2), created(2)])
    assert [row.event_id for row in stored] == ["ev-2"]
    assert stored[0].pk == WebhookEvent.objects.get(event_id="ev-2").pk  # routing needs it
    assert WebhookEvent.objects.count() == 2


def test_a_value_the_database_refuses_rolls_back_the_whole_delivery():
    # Behind the edge checks, but a database error must still not store half a delivery
    # (PostgreSQL) nor pass for a duplicate and lose the event (SQLite's JSON check).
    with pytest.raises(DatabaseError):
        ingest([created(1), created(2), created(3, value=float("nan"))])
    assert not WebhookEvent.objects.exists()
    assert len(ingest([created(1), created(2), created(3)])) == 3


def test_a_delivery_is_one_insert_that_reports_only_the_rows_it_wrote():
    # No look-up before the INSERT: the unique key skips what another writer stored, even a
    # moment ago, and RETURNING names only the rows this statement wrote.
    WebhookEvent.objects.create(
        connection=connection_local(),
        event_id="ev-2",
        name="contact.created",
        object_type="contact",
        record_id="c-2",
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    local = connection_local()
    with CaptureQueriesContext(connection) as queries:
        stored = event_ingest(connection=local, events=[created(n) for n in range(1, 101)])
    statements = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
    assert statements.count("INSERT") == 1 and "SELECT" not in statements
    assert len(stored) == 99 and "ev-2" not in {row.event_id for row in stored}
    assert [row.event_id for row in stored][:2] == ["ev-1", "ev-3"]  # in delivery order
    assert all(row.pk for row in stored)


def test_a_snapshot_is_stored_with_its_properties_as_the_mirror_keeps_them():
    event = CrmEvent(
        "snap-1",
        "contact.snapshot",
        RecordRef("contact", "c-1"),
        datetime(2026, 11, 20, tzinfo=UTC),
        snapshot={"email": "a@b.example", "birthday": date(1990, 1, 2)},
    )
    (row,) = ingest([event])
    row.refresh_from_db()
    assert row.payload["snapshot"] == {"email": "a@b.example", "birthday": "1990-01-02"}


def test_every_column_round_trips_as_sent_quotes_unicode_offsets_and_all():
    # The INSERT is built by hand (one JSON parameter on PostgreSQL): what comes back must be
    # what Django's own INSERT would have stored.
    from datetime import timedelta, timezone

    event = CrmEvent(
        'ev-"q\\1',
        "contact.property_changed",
        RecordRef("contact", "c-é'1"),
        datetime(2026, 11, 20, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
        "lifecyclestage",
        'Ünïcode "quoted" \\ back',
        origin="salesops",
    )
    (row,) = ingest([event])
    stored = WebhookEvent.objects.get(pk=row.pk)
    assert (stored.event_id, stored.name, stored.record_id) == (
        'ev-"q\\1',
        "contact.property_changed",
        "c-é'1",
    )
    assert stored.occurred_at == datetime(2026, 11, 20, 10, 30, 15, 123456, tzinfo=UTC)
    assert stored.payload == {
        "property": "lifecyclestage",
        "value": 'Ünïcode "quoted" \\ back',
        "origin": "salesops",
    }
    assert stored.received_at is not None and stored.processed_at is None
    assert (stored.runs_created, stored.skip_reason) == (0, "")
