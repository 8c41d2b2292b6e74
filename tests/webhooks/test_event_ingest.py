"""Storing a delivery: whole or not at all; duplicates skipped; a refused value is no duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError

from connectors.base import CrmEvent, RecordRef
from salesops.models import WebhookEvent
from salesops.services.events import event_ingest

pytestmark = pytest.mark.django_db


def created(n: int, value: object = None) -> CrmEvent:
    ref = RecordRef("contact", f"c-{n}")
    return CrmEvent(
        f"ev-{n}", "contact.created", ref, datetime(2026, 11, 20, tzinfo=UTC), None, value
    )


def test_it_stores_new_events_once_and_skips_those_seen_before():
    assert len(event_ingest(events=[created(1)])) == 1
    stored = event_ingest(events=[created(1), created(2), created(2)])
    assert [row.event_id for row in stored] == ["ev-2"]
    assert stored[0].pk == WebhookEvent.objects.get(event_id="ev-2").pk  # routing needs it
    assert WebhookEvent.objects.count() == 2


def test_a_value_the_database_refuses_rolls_back_the_whole_delivery():
    # Behind the edge checks, but a database error must still not store half a delivery
    # (PostgreSQL) nor pass for a duplicate and lose the event (SQLite's JSON check).
    with pytest.raises(DatabaseError):
        event_ingest(events=[created(1), created(2), created(3, value=float("nan"))])
    assert not WebhookEvent.objects.exists()
    assert len(event_ingest(events=[created(1), created(2), created(3)])) == 3


def test_it_falls_back_to_one_event_at_a_time_when_a_concurrent_delivery_won(monkeypatch):
    # Another worker stored ev-2 after our look-up: the batched INSERT conflicts, and the
    # delivery still goes in with ev-2 counted as a duplicate.
    event_ingest(events=[created(2)])
    real = WebhookEvent.objects.filter
    blind = lambda **kw: real(pk=None) if "event_id__in" in kw else real(**kw)  # noqa: E731
    monkeypatch.setattr(WebhookEvent.objects, "filter", blind)
    stored = event_ingest(events=[created(1), created(2), created(3)])
    assert sorted(row.event_id for row in stored) == ["ev-1", "ev-3"]
    assert WebhookEvent.objects.count() == 3
