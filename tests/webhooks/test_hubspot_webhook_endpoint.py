"""Signed HubSpot deliveries to `/webhooks/hubspot/<slug>/`: stored once per event, our own
changes recorded without runs, and every bad delivery refused whole with the right status.

The connection's connector is the real `HubSpotConnector`, with the HubSpot emulator as the
HubSpot API (deal stages map through its pipelines, a run reads its record from it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from salesops.models import Connection, WebhookEvent
from salesops.services.connections import connection_credentials_set, connections_reset
from salesops.services.events import webhook_events_route
from tests.emulators.hubspot_api import HubSpotEmulator

pytestmark = pytest.mark.django_db

BASE = "https://salesops.example.com"
SECRET = "hubspot-client-secret"
PORTAL = 62515
APP = 424242
ENDPOINT = "/webhooks/hubspot/eu/"
TOKEN = "pat-eu-test"


@pytest.fixture(scope="module")
def hubspot() -> Iterator[HubSpotEmulator]:
    emulator = HubSpotEmulator(
        portal_id=PORTAL,
        token=TOKEN,
        app_id=APP,
        client_secret=SECRET,
        seed=False,
        second_pipeline=True,
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def eu(settings: Any, hubspot: HubSpotEmulator) -> Iterator[Connection]:
    settings.SALESOPS_BASE_URL = BASE
    connections_reset()
    connection = Connection.objects.create(kind="hubspot", slug="eu", account_id=str(PORTAL))
    connection_credentials_set(
        connection,
        {
            "access_token": TOKEN,
            "client_secret": SECRET,
            "app_id": str(APP),
            "base_url": hubspot.base_url,
        },
    )
    yield connection
    connections_reset()


def sign(uri: str, body: bytes, stamp: int) -> str:
    """HubSpot's v3 signature, computed here from the documented recipe."""
    source = b"POST" + uri.encode() + body + str(stamp).encode()
    return base64.b64encode(hmac.new(SECRET.encode(), source, hashlib.sha256).digest()).decode()


def event(n: int, subscription_type: str = "contact.creation", **extra: Any) -> dict[str, Any]:
    return {
        "eventId": 100 + n,
        "subscriptionId": 7,
        "portalId": PORTAL,
        "appId": APP,
        "occurredAt": int(time.time() * 1000) - 1_000,
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": 1000 + n,
        "changeSource": "CRM_UI",
        "sourceId": "userId:5",
        **extra,
    }


def deliver(
    client: Any,
    events: list[dict[str, Any]] | bytes,
    *,
    path: str = ENDPOINT,
    signed_uri: str | None = None,
    age_ms: int = 0,
    sent_body: bytes | None = None,
    **meta: Any,
) -> Any:
    body = events if isinstance(events, bytes) else json.dumps(events).encode()
    stamp = int(time.time() * 1000) - age_ms
    signature = sign(signed_uri or BASE + path, body, stamp)
    headers = {
        "HTTP_X_HUBSPOT_SIGNATURE_V3": signature,
        "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": str(stamp),
        "HTTP_X_HUBSPOT_SIGNATURE_VERSION": "v3",
        **meta,
    }
    data = body if sent_body is None else sent_body
    return client.post(path, data=data, content_type="application/json", **headers)


def test_a_signed_batch_is_200_and_one_row_per_event(client, eu):
    batch = [
        event(1),
        event(2, "deal.propertyChange", propertyName="dealstage", propertyValue="closedwon"),
        event(3, "contact.associationChange", toObjectTypeId="0-47", toObjectId=9),
        event(
            4, "contact.propertyChange", propertyName="hs_analytics_source", propertyValue="X"
        ),  # not a property SOPs name: acknowledged, not stored
    ]
    response = deliver(client, batch)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 3}
    rows = {e.event_id: e for e in WebhookEvent.objects.filter(connection=eu)}
    occurred = batch[0]["occurredAt"]
    assert set(rows) == {f"{PORTAL}:7:{100 + n}:{occurred}" for n in (1, 2, 3)}
    by_name = {e.name: e for e in rows.values()}
    assert by_name["deal.property_changed"].payload["value"] == "closedwon"
    assert by_name["contact.activity_logged"].payload["value"] == "meeting"
    assert by_name["contact.created"].record_id == "1001"


def test_a_numeric_stage_id_maps_through_the_portals_pipelines(client, eu, hubspot):
    before = hubspot.calls["GET /crm/v3/pipelines/{objectType}"]
    # "100006" is the Enterprise Pipeline's "Closed Won": no mapping needed, only its label.
    moved = event(1, "deal.propertyChange", propertyName="dealstage", propertyValue="100006")
    assert deliver(client, [moved]).status_code == 200
    row = WebhookEvent.objects.get(connection=eu)
    assert (row.name, row.payload["value"]) == ("deal.property_changed", "closedwon")
    assert hubspot.calls["GET /crm/v3/pipelines/{objectType}"] == before + 1


def test_a_duplicate_delivery_stores_nothing_new(client, eu):
    batch = [event(1), event(2)]
    assert deliver(client, batch).status_code == 200
    retry = [{**e, "attemptNumber": 1} for e in batch]  # HubSpot re-signs its retries
    response = deliver(client, retry)
    assert response.status_code == 200 and response.json() == {"received": 2}
    assert WebhookEvent.objects.filter(connection=eu).count() == 2


def test_the_same_event_id_in_another_subscription_is_another_event(client, eu):
    assert deliver(client, [event(1), {**event(1), "subscriptionId": 8}]).status_code == 200
    assert WebhookEvent.objects.filter(connection=eu).count() == 2


def test_a_replayed_stale_delivery_is_401_and_stores_nothing(client, eu):
    response = deliver(client, [event(1)], age_ms=6 * 60 * 1000)
    assert response.status_code == 401
    assert "old; the window is 300 s" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_tampered_delivery_is_401(client, eu):
    body = json.dumps([event(1)]).encode()
    response = deliver(client, body, sent_body=body.replace(b"1001", b"1002"))
    assert response.status_code == 401
    assert response.json()["error"].startswith("invalid signature")
    assert not WebhookEvent.objects.exists()


def test_missing_signature_headers_are_401(client, eu):
    body = json.dumps([event(1)]).encode()
    response = client.post(ENDPOINT, data=body, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"error": "X-HubSpot-Signature-v3 header is missing"}


def test_the_signature_is_checked_against_the_base_url_not_a_forged_host(client, eu, settings):
    settings.ALLOWED_HOSTS, settings.USE_X_FORWARDED_HOST = ["*"], True
    forged = {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example"}
    signed_by_attacker = deliver(
        client, [event(1)], signed_uri="http://evil.example" + ENDPOINT, **forged
    )
    assert signed_by_attacker.status_code == 401
    signed_for_us = deliver(client, [event(2)], **forged)  # HubSpot signs the URL it was given
    assert signed_for_us.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_escapes_hubspot_decodes_are_verified_as_hubspot_signs_them(client, eu):
    path = ENDPOINT + "?source=hub%3Aspot%40eu&x=%2C"
    response = deliver(
        client, [event(1)], path=path, signed_uri=BASE + ENDPOINT + "?source=hub:spot@eu&x=,"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[{not json", "not valid JSON"),
        (b'{"events": []}', "must be a JSON array of events"),
        (
            json.dumps([{**event(1), "objectId": "1001"}]).encode(),
            "events[0].objectId: must be an integer, not '1001'",
        ),
        (
            json.dumps([event(1), {**event(2), "eventId": None}]).encode(),
            "events[1].eventId: required",
        ),
        (json.dumps([{**event(1), "objectId": 10**40}]).encode(), "digits"),
    ],
)
def test_malformed_deliveries_are_400_and_store_nothing(client, eu, body, reason):
    response = deliver(client, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_101_events_are_413(client, eu):
    response = deliver(client, [event(n) for n in range(101)])
    assert response.status_code == 413
    assert "101 events; the limit is 100" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_10_mb_body_is_413_before_it_is_read(client, eu):
    body = b"[" + b" " * 10_000_000 + b"]"
    response = deliver(client, body)
    assert response.status_code == 413
    assert "the limit is 1000000" in response.json()["error"]


def test_a_delivery_for_another_portal_is_403(client, eu):
    response = deliver(client, [event(1), {**event(2), "portalId": 999}])
    assert response.status_code == 403
    assert "'999'" in response.json()["error"] and f"'{PORTAL}'" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_our_own_change_is_recorded_but_starts_no_run(client, eu, library):
    ours = event(1, changeSource="INTEGRATION", sourceId=str(APP))
    theirs = event(2)  # a rep created this contact in HubSpot
    assert deliver(client, [ours, theirs]).status_code == 200
    rows = {e.record_id: e for e in WebhookEvent.objects.filter(connection=eu)}
    assert rows["1001"].payload["origin"] == "salesops"
    assert rows["1002"].payload["origin"] == ""
    webhook_events_route(webhook_event_ids=[rows["1001"].pk, rows["1002"].pk])
    rows = {e.record_id: e for e in WebhookEvent.objects.filter(connection=eu)}
    assert rows["1001"].processed_at is not None and rows["1001"].runs_created == 0
    assert rows["1002"].runs_created == 1  # lead-qualification triggers on contact.created
