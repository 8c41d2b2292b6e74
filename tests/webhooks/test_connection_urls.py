"""One webhook URL per connection: resolved before verification, kept apart, account-checked."""

from __future__ import annotations

import json

import pytest

from connectors.local.webhook import webhook_sign
from salesops.models import Connection, WebhookEvent
from salesops.services.connections import connection_local
from tests.webhooks.conftest import SECRET, SIGNATURE_META

pytestmark = pytest.mark.django_db


def body(*items: dict, account: str | None = None) -> bytes:
    payload: dict = {"events": list(items)}
    if account is not None:
        payload["account"] = account
    return json.dumps(payload).encode()


def test_a_delivery_is_stored_on_the_connection_its_url_names(post_to, local_connection, item):
    eu = local_connection("eu")
    response = post_to("/webhooks/local/eu/", body(item(1), account="eu"))
    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get(event_id="ev-1").connection == eu


def test_the_same_event_id_on_two_connections_is_two_rows(post_to, local_connection, item):
    connection_local()
    local_connection("eu")
    for url in ("/webhooks/local/local/", "/webhooks/local/eu/", "/webhooks/local/eu/"):
        assert post_to(url, body(item(1))).status_code == 200
    rows = WebhookEvent.objects.filter(event_id="ev-1").order_by("connection__slug")
    assert [r.connection.slug for r in rows] == ["eu", "local"]


@pytest.mark.parametrize(
    "url",
    [
        "/webhooks/local/nowhere/",  # no such connection
        "/webhooks/local/off/",  # disabled
        "/webhooks/hubspot/eu/",  # a local connection behind another kind's URL
        "/webhooks/salesforce/",  # no connection of that kind at all
    ],
)
def test_an_unknown_disabled_or_mismatched_connection_is_a_404_before_any_check(
    client, local_connection, url
):
    local_connection("eu")
    local_connection("off", enabled=False)
    # Unsigned: the 404 comes before verification, so it cannot tell a prober more.
    response = client.post(url, data=body(), content_type="application/json")
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_a_delivery_naming_another_account_is_refused_and_nothing_is_stored(
    post_to, local_connection, item
):
    local_connection("eu")
    response = post_to("/webhooks/local/eu/", body(item(1), account="us"))
    assert response.status_code == 403
    assert "'us'" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_the_old_per_kind_url_serves_the_only_connection_of_its_kind(post, item):
    response = post(body(item(1)))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().connection.slug == "local"


def test_the_old_per_kind_url_refuses_once_two_connections_share_the_kind(
    post, local_connection, item
):
    connection_local()
    local_connection("eu")
    response = post(body(item(1)))
    assert response.status_code == 404
    assert "/webhooks/local/<connection-slug>/" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_connection_resolved_by_url_is_verified_with_its_own_secret(client, local_connection):
    from salesops.services.connections import connection_credentials_set

    eu = local_connection("eu")
    connection_credentials_set(eu, {"webhook_secret": "another"})
    data = body()
    signed_with_shared = webhook_sign(data, SECRET)
    response = client.post(
        "/webhooks/local/eu/",
        data=data,
        content_type="application/json",
        **{SIGNATURE_META: signed_with_shared},
    )
    assert response.status_code == 401
    assert Connection.objects.filter(slug="eu").exists()
