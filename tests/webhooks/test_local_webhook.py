"""The webhook edge: verify, store once, route in the background, never a 500 for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from connectors.base import CrmEvent, RecordRef
from connectors.local.webhook import webhook_body_build
from salesops.models import Run, WebhookEvent

pytestmark = pytest.mark.django_db


def body_for(*events: CrmEvent) -> bytes:
    return webhook_body_build(list(events))


def created(contact_id: str, event_id: str = "ev-1") -> CrmEvent:
    return CrmEvent(
        event_id=event_id,
        name="contact.created",
        record=RecordRef("contact", contact_id),
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_it_stores_a_signed_event_and_starts_the_matching_run(
    post, library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(body_for(created("c-001")))
    assert response.status_code == 200
    assert response.json() == {"received": 1}  # the connector's own answer
    event = WebhookEvent.objects.get(event_id="ev-1")
    assert event.processed_at is not None
    run = Run.objects.get(record_id="c-001", sop__name="lead-qualification")
    assert run.trigger == "event" and run.state == "written"


def test_the_same_event_twice_makes_one_run(
    post, library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    body = body_for(created("c-001"))
    with django_capture_on_commit_callbacks(execute=True):
        post(body)
        second = post(body)
    assert second.status_code == 200 and second.json() == {"received": 1}  # acknowledged
    # The run's own lead_status write echoes back as an event, recorded but routed nowhere.
    assert WebhookEvent.objects.filter(event_id="ev-1").count() == 1
    echoes = WebhookEvent.objects.exclude(event_id="ev-1")
    assert all(e.payload["origin"] == "salesops" and e.runs_created == 0 for e in echoes)
    assert Run.objects.filter(record_id="c-001").count() == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(post):
    response = post(body_for(created("c-001")), signature="0" * 64)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"{}", 'an "events" list'),
        (json.dumps({"events": [{"name": 3}]}).encode(), "events[0]: missing event_id"),
        (b"\xff", "not UTF-8"),
    ],
)
def test_a_malformed_body_is_a_400_with_a_reason(post, body, reason):
    response = post(body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_an_unknown_connector_is_a_404(client):
    response = client.post("/webhooks/nope/", data=b"{}", content_type="application/json")
    assert response.status_code == 404


def test_get_is_not_allowed(client):
    assert client.get("/webhooks/local/").status_code == 405


@override_settings(SALESOPS_BASE_URL="http://x")
def test_without_a_secret_every_request_is_refused(post, settings):
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {"local": {"webhook_secret": ""}},
    }
    response = post(body_for(created("c-001")))
    assert response.status_code == 401
    assert response.json() == {"error": "no webhook secret is configured"}
