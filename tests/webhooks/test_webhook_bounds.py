"""Bad deliveries are refused whole with a 4xx and a reason, never a 500, never stored in part."""

from __future__ import annotations

import json

import pytest

from salesops.models import WebhookEvent

pytestmark = pytest.mark.django_db


def refused(response, status: int = 400) -> str:
    assert response.status_code == status, response.content
    assert not WebhookEvent.objects.exists()
    return response.json()["error"]


@pytest.mark.parametrize(
    "stamp",
    [
        "9999-12-31T23:59:59-01:00",  # overflows past year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # overflows before year 1 in UTC
        "9999-12-31T23:59:59+00:00",
        "1066-10-14T09:00:00+00:00",
        "2026-02-30T00:00:00+00:00",
        "2026-11-20T00:00:00",  # no UTC offset
    ],
)
def test_it_refuses_a_timestamp_at_the_edge_of_the_calendar(deliver, item, stamp):
    assert "occurred_at" in refused(deliver(item(occurred_at=stamp)))


def test_it_refuses_json_nested_thousands_deep(post):
    body = b'{"events": [{"value": ' + b"[" * 5000 + b"]" * 5000 + b"}]}"
    assert "nested" in refused(post(body))


@pytest.mark.parametrize("key", ["event_id", "id", "name", "object_type", "property"])
def test_it_refuses_a_lone_surrogate_in_any_string(post, item, key):
    raw = json.dumps({"events": [item(**{key: "ab\ud800"})]}).encode()
    assert b"\\ud800" in raw  # a valid JSON escape that decodes to no valid character
    assert "surrogate" in refused(post(raw))


@pytest.mark.parametrize(
    ("key", "length"), [("event_id", 201), ("id", 65), ("event_id", 100_000), ("id", 5000)]
)
def test_it_refuses_an_over_long_id(deliver, item, key, length):
    error = refused(deliver(item(**{key: "x" * length})))
    assert f"events[0].{key}" in error and "limit" in error


@pytest.mark.parametrize("key", ["event_id", "id"])
def test_it_refuses_an_id_with_a_nul_byte_or_a_space(deliver, item, key):
    assert "NUL" in refused(deliver(item(**{key: "c-\x00-1"})))
    assert f"events[0].{key}" in refused(deliver(item(**{key: "c 1"})))


def test_it_refuses_a_nul_byte_in_a_value(deliver, item):
    assert "NUL" in refused(deliver(item(value="a\x00b")))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_it_refuses_a_value_that_is_not_a_finite_number(post, item, literal):
    raw = json.dumps({"events": [item(value=0)]}).replace('"value": 0', f'"value": {literal}')
    response = post(raw.encode())
    assert "duplicate" not in response.content.decode()
    refused(response)


def test_it_refuses_an_integer_of_thousands_of_digits(post, item):
    raw = json.dumps({"events": [item(value=0)]}).replace('"value": 0', '"value": ' + "9" * 5000)
    assert "digits" in refused(post(raw.encode()))


def test_a_batch_with_one_bad_event_stores_nothing_and_names_it(deliver, item):
    error = refused(deliver(item(1), item(2), item(3, id="c-\x00")))
    assert "events[2].id" in error
    # The sender fixes it and retries: the whole delivery goes in once.
    response = deliver(item(1), item(2), item(3))
    assert response.json() == {"received": 3}
    assert WebhookEvent.objects.count() == 3


def test_a_batch_with_one_event_over_a_column_stores_nothing(deliver, item):
    refused(deliver(item(1), item(2, name="contact.created" + "x" * 100)))


def test_it_refuses_ten_thousand_events_in_one_delivery_with_a_413(deliver, item):
    refused(deliver(*(item(n) for n in range(10_000))), status=413)


def test_it_refuses_one_event_over_the_cap_with_a_413_naming_the_cap(deliver, item):
    error = refused(deliver(*(item(n) for n in range(101))), status=413)
    assert error == "this delivery has 101 events; the limit is 100"


def test_it_accepts_a_full_delivery_of_a_hundred_events(deliver, item):
    response = deliver(*(item(n) for n in range(100)))
    assert response.json() == {"received": 100}
    assert WebhookEvent.objects.count() == 100


def test_it_refuses_a_body_over_the_size_cap_with_a_413(deliver, item):
    assert "bytes" in refused(deliver(item(value="x" * 1_100_000)), status=413)


def test_it_refuses_a_declared_length_over_the_cap_before_reading_it(post):
    response = post(b"{}", CONTENT_LENGTH="50000000")
    assert "bytes" in refused(response, status=413)
