"""The per-process connection cache of the webhook URL: a connection disabled elsewhere stops
being accepted within CONNECTION_TTL_SECONDS; a change made here applies at once."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from salesops.models import Connection, WebhookEvent
from salesops.webhooks import connections as cache
from salesops.webhooks.connections import webhook_connection, webhook_connections_forget
from tests.webhooks.conftest import item

URL = "/webhooks/local/eu/"


def body(n: int) -> bytes:
    return json.dumps({"account": "eu", "events": [item(n)]}).encode()


@pytest.fixture(autouse=True)
def fresh_cache():
    webhook_connections_forget()
    yield
    webhook_connections_forget()


@pytest.mark.django_db(transaction=True)
def test_a_connection_disabled_by_another_process_is_refused_once_the_ttl_passes(
    post_to, local_connection, monkeypatch
):
    monkeypatch.setattr(cache, "CONNECTION_TTL_SECONDS", 0.3)
    local_connection("eu")
    assert post_to(URL, body(1)).status_code == 200  # read and cached
    # Another process disables it: a queryset update sends no signal here, as from afar.
    Connection.objects.filter(slug="eu").update(enabled=False)
    assert post_to(URL, body(2)).status_code == 200  # still within the TTL: bounded, not never
    time.sleep(0.35)
    assert post_to(URL, body(3)).status_code == 404
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {"ev-1", "ev-2"}


@pytest.mark.django_db(transaction=True)
def test_the_ttl_is_a_few_seconds_and_a_cached_connection_skips_the_query(
    local_connection, django_assert_num_queries
):
    assert 0 < cache.CONNECTION_TTL_SECONDS <= 10  # the bound the docs promise
    local_connection("eu")
    first = webhook_connection("local", "eu")
    with django_assert_num_queries(0):
        assert webhook_connection("local", "eu") == first


@pytest.mark.django_db(transaction=True)
def test_a_change_saved_in_this_process_applies_to_the_next_delivery(post_to, local_connection):
    connection = local_connection("eu")
    assert post_to(URL, body(1)).status_code == 200
    connection.enabled = False
    connection.save()  # post_save forgets the cache at once
    assert post_to(URL, body(2)).status_code == 404
    Connection.objects.filter(pk=connection.pk).update(enabled=True)
    webhook_connections_forget()
    assert post_to(URL, body(3)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_deleted_connection_is_forgotten_at_once(local_connection):
    connection = local_connection("eu")
    assert webhook_connection("local", "eu") is not None
    connection.delete()
    assert webhook_connection("local", "eu") is None


@pytest.mark.django_db
def test_inside_a_transaction_the_row_is_read_not_the_cache(local_connection):
    local_connection("eu")
    with transaction.atomic():
        assert webhook_connection("local", "eu") is not None
        Connection.objects.filter(slug="eu").update(enabled=False)
        assert webhook_connection("local", "eu") is None  # sees its own change
    assert not cache._cache  # nothing read inside a transaction was cached
