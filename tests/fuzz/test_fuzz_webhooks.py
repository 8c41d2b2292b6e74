"""Fuzzing the local webhook through the Django test client, as a CRM or an attacker would.

Whatever arrives: never a 5xx; an accepted delivery has every event stored exactly once, as
sent; a refused delivery stores nothing; a valid delivery is always accepted. 1,500 generated
deliveries per run (about 1,700 requests with the replays), bounded to seconds per backend.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.local.webhook import SIGNATURE_HEADER, webhook_sign
from salesops.models import WebhookEvent

SECRET = "fuzz-secret"
SIGNATURE_META = f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}"
FUZZ = settings(
    deadline=None,
    database=None,  # no example files in the checkout; a failure prints its reproduction
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
pytestmark = pytest.mark.django_db

# -- valid deliveries ----------------------------------------------------------------------

ID_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def ids(longest: int) -> st.SearchStrategy[str]:
    """Short ids, and now and then one at its column's length (cheaper than drawing long text)."""
    at_the_limit = st.integers(longest - 3, longest).map(lambda n: "7" * n)
    return st.one_of(st.text(ID_CHARS, min_size=1, max_size=12), at_the_limit)


clean_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
NAMES = [
    f"{o}.{s}"
    for o in ("contact", "company", "deal")
    for s in ("created", "property_changed", "activity_logged")
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    clean_text,
)
# Any second from 1970-01-02 to 2099-12-30, at an offset from -12:00 to +14:00.
stamps = st.builds(
    lambda seconds, minutes: datetime.fromtimestamp(seconds, timezone(timedelta(minutes=minutes))),
    st.integers(86_400, 4_102_185_600),
    st.sampled_from([0, 0, 60, -300, 330, 345, 840, -720]),
)


EVENT_IDS, RECORD_IDS = ids(200), ids(64)  # their columns' lengths
PROPERTIES = st.one_of(clean_text.filter(bool), st.just("p" * 60))


@st.composite
def valid_items(draw: Any) -> dict[str, Any]:
    name = draw(st.sampled_from(NAMES))
    item: dict[str, Any] = {
        "event_id": draw(EVENT_IDS),
        "name": name,
        "object_type": name.partition(".")[0],
        "id": draw(RECORD_IDS),
        "occurred_at": draw(stamps).isoformat(),
    }
    if name.endswith("property_changed") or draw(st.booleans()):
        item["property"] = draw(PROPERTIES)
    if draw(st.booleans()):
        item["value"] = draw(scalars)
    return item


VALID_ITEMS = valid_items()
valid_deliveries = st.lists(VALID_ITEMS, max_size=8)

# -- hostile deliveries --------------------------------------------------------------------

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
any_text = st.text(
    st.one_of(st.characters(), surrogates, st.sampled_from("\x00 \t\n")), max_size=80
)
# Literals json.dumps cannot write: substituted into the serialised body.
RAW = {
    "__nan__": "NaN",
    "__inf__": "Infinity",
    "__minf__": "-Infinity",
    "__big__": "1e400",
    "__huge__": "9" * 5000,
    "__deep__": "[" * 3000 + "]" * 3000,
    "__int40__": "1" * 40,
}
hostile_values = st.one_of(
    any_text,
    st.integers(201, 70_000).map(lambda n: "x" * n),
    st.sampled_from(list(RAW)),
    st.integers(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.none(),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(
        ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2026-02-30T00:00:00Z"]
    ),
)
FIELDS = ["event_id", "name", "object_type", "id", "occurred_at", "property", "value", "extra"]
SOME_FIELDS = st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)


@st.composite
def hostile_items(draw: Any) -> dict[str, Any]:
    item = draw(VALID_ITEMS)
    for field in draw(SOME_FIELDS):
        if draw(st.booleans()) and field in item:
            del item[field]
        else:
            item[field] = draw(hostile_values)
    return item


hostile_deliveries = st.lists(st.one_of(VALID_ITEMS, hostile_items()), min_size=1, max_size=6)


def serialise(items: list[Any]) -> bytes:
    text = json.dumps({"events": items})
    for sentinel, literal in RAW.items():
        text = text.replace(f'"{sentinel}"', literal)
    return text.encode()


# -- the oracle ----------------------------------------------------------------------------


@pytest.fixture
def webhook(settings: Any) -> Client:
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {"local": {"webhook_secret": SECRET}},
    }
    return Client(raise_request_exception=False)


def post(client: Client, body: bytes, signature: str | None = None) -> Any:
    sig = webhook_sign(body, SECRET) if signature is None else signature
    return client.post(
        "/webhooks/local/", data=body, content_type="application/json", **{SIGNATURE_META: sig}
    )


def delivered(client: Client, body: bytes, signature: str | None = None) -> Any:
    """POST `body` twice on an empty table and check the contract; the first answer."""
    WebhookEvent.objects.all().delete()
    response = post(client, body, signature)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 200:
        assert response.json()["error"]  # a reason, always
        assert not WebhookEvent.objects.exists(), "a refused delivery stored something"
        return response
    items = json.loads(body)["events"]
    ids = {i["event_id"] for i in items}
    assert response.json() == {"received": len(items)}  # the connector's answer (issue 9)
    rows = {row.event_id: row for row in WebhookEvent.objects.all()}
    assert set(rows) == ids and WebhookEvent.objects.count() == len(ids)
    first: dict[str, dict[str, Any]] = {}
    for item in items:
        first.setdefault(item["event_id"], item)
    for event_id, item in first.items():  # stored as sent
        row = rows[event_id]
        assert (row.name, row.record_id) == (item["name"], item["id"])
        assert row.payload["property"] == item.get("property")
        assert same_json(row.payload["value"], item.get("value"))
        assert row.occurred_at == datetime.fromisoformat(item["occurred_at"])
    again = post(client, body)
    assert again.json() == {"received": len(items)}
    assert WebhookEvent.objects.count() == len(ids)
    return response


def same_json(stored: Any, sent: Any) -> bool:
    """Equal as JSON: PostgreSQL's jsonb keeps a number's value, not its spelling (3.5e16)."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (stored, sent)):
        return float(stored) == float(sent)
    return bool(stored == sent and type(stored) is type(sent))


@settings(FUZZ, max_examples=200)
@given(items=valid_deliveries)
def test_it_stores_every_valid_event_exactly_once(webhook, items):
    assert delivered(webhook, serialise(items)).status_code == 200


@settings(FUZZ, max_examples=550)
@given(items=hostile_deliveries)
def test_hostile_events_are_refused_whole_or_stored_as_sent(webhook, items):
    delivered(webhook, serialise(items))


@settings(FUZZ, max_examples=400)
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_bytes_are_a_4xx(webhook, body):
    assert delivered(webhook, body).status_code in {400, 413}


ONE = serialise(
    [
        {
            "event_id": "e",
            "name": "contact.created",
            "object_type": "contact",
            "id": "c",
            "occurred_at": "2026-11-20T00:00:00+00:00",
        }
    ]
)


@settings(FUZZ, max_examples=350)
@given(
    header=st.one_of(
        any_text,
        st.integers(-(10**13), 10**13).map(lambda t: f"t={t},v1={'0' * 64}"),
        st.integers(301, 10**9).flatmap(
            lambda age: st.sampled_from([age, -age]).map(
                lambda off: webhook_sign(ONE, SECRET, timestamp=int(time.time()) - off)
            )
        ),
    )
)
def test_a_forged_non_ascii_or_stale_signature_is_a_401(webhook, header):
    assert delivered(webhook, ONE, header).status_code == 401
