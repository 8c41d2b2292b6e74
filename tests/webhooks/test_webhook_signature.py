"""The local webhook signature: HMAC of timestamp and body, a 5-minute window, bytes compared."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from connectors.base import WebhookRequest
from connectors.local.connector import LocalConnector
from connectors.local.webhook import SIGNATURE_HEADER, webhook_sign
from salesops.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(item) -> bytes:
    return json.dumps({"events": [item()]}).encode()


def test_a_body_signed_within_the_window_is_accepted(post, body, webhook_secret):
    response = post(body, webhook_sign(body, webhook_secret, timestamp=int(time.time()) - 290))
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_a_captured_signed_body_replayed_after_five_minutes_is_refused(post, body, webhook_secret):
    response = post(body, webhook_sign(body, webhook_secret, timestamp=int(time.time()) - 301))
    assert response.status_code == 401
    assert "older than 300 s" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_signature_from_the_future_is_refused(post, body, webhook_secret):
    response = post(body, webhook_sign(body, webhook_secret, timestamp=int(time.time()) + 400))
    assert response.status_code == 401
    assert "ahead" in response.json()["error"]


def test_a_signature_without_a_timestamp_is_refused(post, body, webhook_secret):
    bare = webhook_sign(body, webhook_secret).split("v1=")[1]  # the old format: hex only
    response = post(body, bare)
    assert response.status_code == 401
    assert "must be t=<unix seconds>,v1=<hex" in response.json()["error"]


def test_a_changed_timestamp_breaks_the_signature(post, body, webhook_secret):
    now = int(time.time())
    forged = webhook_sign(body, webhook_secret, timestamp=now - 1000).replace(
        f"t={now - 1000}", f"t={now}"
    )
    response = post(body, forged)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid signature"


@pytest.mark.parametrize("header", ["é" * 64, "t=1,v1=" + "é" * 64, "t=é,v1=00", "\udcff"])
def test_a_non_ascii_signature_header_is_refused_not_a_500(post, body, header):
    response = post(body, header)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_connector_reads_its_window_from_its_clock():
    body = b'{"events": []}'
    signed_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    header = {SIGNATURE_HEADER: webhook_sign(body, "k", timestamp=int(signed_at.timestamp()))}
    request = WebhookRequest("POST", "http://testserver/webhooks/local/", header, body)

    def at(seconds: int) -> LocalConnector:
        stamp = datetime.fromtimestamp(signed_at.timestamp() + seconds, UTC)
        return LocalConnector(webhook_secret="k", clock=lambda: stamp)

    assert at(0).verify_webhook(request) and at(300).verify_webhook(request)
    assert not at(301).verify_webhook(request)
    assert at(301).webhook_refusal(request) == "signature is older than 300 s (301 s)"
