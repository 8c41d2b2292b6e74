"""The URL a connector verifies is SALESOPS_BASE_URL + path, whatever Host or proxy headers say;
the answer is the connector's own format; the payload's account must be the connection's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salesops.models import Connection, WebhookEvent
from salesops.services.connections import connection_credentials_set, connections_reset
from tests.webhooks.url_signed import HEADER, PATH, url_sign

pytestmark = pytest.mark.django_db

BASE = "https://salesops.example.com"
SECRET = "url-secret"
META = f"HTTP_{HEADER.upper().replace('-', '_')}"


@pytest.fixture
def eu(settings: Any) -> Connection:
    settings.SALESOPS_BASE_URL = BASE
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTORS": {**settings.SALESOPS["CONNECTORS"], "hubspot": PATH},
    }
    connections_reset()
    connection = Connection.objects.create(kind="hubspot", slug="eu", account_id="portal-1")
    connection_credentials_set(connection, {"webhook_secret": SECRET})
    yield connection
    connections_reset()


def delivery(account: str = "portal-1") -> bytes:
    event = {
        "event_id": "hs-1",
        "name": "contact.created",
        "object_type": "contact",
        "id": "101",
        "occurred_at": "2026-11-20T00:00:00+00:00",
    }
    return json.dumps({"account": account, "events": [event]}).encode()


def send(client, path: str, data: bytes, signed_url: str, **headers: Any):
    signature = url_sign("POST", signed_url, data, SECRET)
    return client.post(
        path, data=data, content_type="application/json", **{META: signature, **headers}
    )


FORGED = {
    "HTTP_HOST": "localhost",  # an allowed host, but not the public one
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_FORWARDED_PROTO": "http",
}


def test_the_signature_is_checked_against_the_base_url_despite_forged_host_headers(
    client, eu, settings
):
    # Even where Django would believe any host and the proxy's header for it.
    settings.ALLOWED_HOSTS, settings.USE_X_FORWARDED_HOST = ["*"], True
    data = delivery()
    signed_url = f"{BASE}/webhooks/hubspot/eu/?v=3"
    response = send(client, "/webhooks/hubspot/eu/?v=3", data, signed_url, **FORGED)
    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get(event_id="hs-1").connection == eu


@pytest.mark.parametrize(
    "signed_url",
    [
        "http://evil.example/webhooks/hubspot/eu/",  # the forged proxy host
        "http://localhost/webhooks/hubspot/eu/",  # the Host header
        f"{BASE}/webhooks/hubspot/eu/",  # the query string left out
    ],
)
def test_a_signature_over_any_other_url_is_refused(client, eu, signed_url, settings):
    settings.ALLOWED_HOSTS, settings.USE_X_FORWARDED_HOST = ["*"], True
    response = send(client, "/webhooks/hubspot/eu/?v=3", delivery(), signed_url, **FORGED)
    assert response.status_code == 401
    assert f"not signed for {BASE}/webhooks/hubspot/eu/?v=3".encode() in response.content
    assert not WebhookEvent.objects.exists()


def test_the_answer_is_in_the_connectors_format(client, eu):
    response = send(client, "/webhooks/hubspot/eu/", delivery(), f"{BASE}/webhooks/hubspot/eu/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content == b"<Ack>true</Ack><Count>1</Count><Error></Error>"


def test_a_delivery_for_another_account_is_a_403_with_the_reason_and_stores_nothing(client, eu):
    url = f"{BASE}/webhooks/hubspot/eu/"
    response = send(client, "/webhooks/hubspot/eu/", delivery("portal-2"), url)
    assert response.status_code == 403
    assert response["Content-Type"] == "text/xml"  # a refusal in the vendor's format too
    assert b"<Ack>false</Ack>" in response.content
    assert b"'portal-2'" in response.content and b"'portal-1'" in response.content
    assert not WebhookEvent.objects.exists()


def test_a_delivery_that_names_no_account_is_accepted(client, eu):
    data = json.dumps({"events": json.loads(delivery())["events"]}).encode()
    response = send(client, "/webhooks/hubspot/eu/", data, f"{BASE}/webhooks/hubspot/eu/")
    assert response.status_code == 200
