"""HubSpot webhook deliveries, pure: the v3 signature (vectors computed here, independently of
the module), the timestamp window, strict parsing of every subscription type, our own writes
and the dedupe key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.hubspot.webhook import (
    MAX_EVENTS,
    webhook_events_parse,
    webhook_refusal,
    webhook_response,
)
from connectors.inputs import InputRejected

SECRET = "client-secret-0f3c"
URL = "https://salesops.example.com/webhooks/hubspot/eu/"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z, unix seconds
NOW_MS = int(NOW * 1000)
PORTAL = "62515"
APP = "424242"
NAMES = {
    "contact": {
        "lifecyclestage": "lifecycle_stage",
        "hs_email_optout": "email_opt_out",
        "hubspot_owner_id": "owner",
        "lastmodifieddate": "last_activity_at",
    },
    "company": {"numberofemployees": "employees", "annualrevenue": "annual_revenue"},
    "deal": {"dealstage": "stage", "closedate": "close_date", "amount": "amount"},
}
MAPPING = {"deal.stage": {"1234567": "qualifiedtobuy"}}


def v3(method: str, uri: str, body: bytes, stamp: int, secret: str = SECRET) -> str:
    """HubSpot's documented v3 recipe, written out here (not the module's function)."""
    source = f"{method}{uri}{body.decode()}{stamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def headers(signature: str, stamp: int) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": str(stamp)}


BODY = b'[{"eventId":1,"subscriptionId":2,"portalId":62515,"occurredAt":1,"objectId":3}]'


# -- signature -----------------------------------------------------------------------------


def test_a_delivery_signed_like_hubspot_is_authentic() -> None:
    sig = v3("POST", URL, BODY, NOW_MS)
    assert webhook_refusal("POST", URL, headers(sig, NOW_MS), BODY, SECRET, NOW) is None


def test_header_names_are_case_insensitive() -> None:
    sig = v3("POST", URL, BODY, NOW_MS)
    lower = {k.lower(): v for k, v in headers(sig, NOW_MS).items()}
    assert webhook_refusal("POST", URL, lower, BODY, SECRET, NOW) is None


def test_escapes_hubspot_decodes_are_decoded_before_checking() -> None:
    # HubSpot signs ':' '@' ',' '(' ')' '!' '$' '*' ';' '/' '?' ''' decoded; %20 stays as sent.
    sent = URL + "?next=a%3Ab%40c%2Cd%28e%29%21%24%2A%3B%2F%3F%27&x=%20y"
    signed = URL + "?next=a:b@c,d(e)!$*;/?'&x=%20y"
    sig = v3("POST", signed, BODY, NOW_MS)
    assert webhook_refusal("POST", sent, headers(sig, NOW_MS), BODY, SECRET, NOW) is None
    # Lower-case escapes are the same characters.
    sig = v3("POST", URL + "?next=a:b", BODY, NOW_MS)
    lower = URL + "?next=a%3ab"
    assert webhook_refusal("POST", lower, headers(sig, NOW_MS), BODY, SECRET, NOW) is None


def test_a_signature_over_the_raw_escaped_url_is_refused() -> None:
    # What the SDK's helper (no decoding) would compute: HubSpot never sends that.
    sent = URL + "?next=a%3Ab"
    sig = v3("POST", sent, BODY, NOW_MS)
    reason = webhook_refusal("POST", sent, headers(sig, NOW_MS), BODY, SECRET, NOW)
    assert reason == f"invalid signature for POST {URL}?next=a:b"


def test_escapes_outside_hubspots_list_are_signed_as_sent() -> None:
    sent = URL + "?q=a%20b%25"
    sig = v3("POST", URL + "?q=a b%", BODY, NOW_MS)
    assert webhook_refusal("POST", sent, headers(sig, NOW_MS), BODY, SECRET, NOW) is not None
    sig = v3("POST", sent, BODY, NOW_MS)
    assert webhook_refusal("POST", sent, headers(sig, NOW_MS), BODY, SECRET, NOW) is None


@pytest.mark.parametrize(
    ("age_ms", "reason"),
    [
        (300_001, "request timestamp is 300 s old; the window is 300 s"),
        (3_600_000, "request timestamp is 3600 s old; the window is 300 s"),
        (-300_001, "request timestamp is 300 s ahead of our clock; the window is 300 s"),
    ],
)
def test_stale_and_future_timestamps_are_refused(age_ms: int, reason: str) -> None:
    stamp = NOW_MS - age_ms
    sig = v3("POST", URL, BODY, stamp)  # authentic, but captured and replayed (or skewed)
    assert webhook_refusal("POST", URL, headers(sig, stamp), BODY, SECRET, NOW) == reason


@pytest.mark.parametrize("age_ms", [300_000, -300_000, 0])
def test_the_window_edges_are_accepted(age_ms: int) -> None:
    stamp = NOW_MS - age_ms
    sig = v3("POST", URL, BODY, stamp)
    assert webhook_refusal("POST", URL, headers(sig, stamp), BODY, SECRET, NOW) is None


def test_the_timestamp_is_part_of_the_signature() -> None:
    sig = v3("POST", URL, BODY, NOW_MS - 1_000_000)  # an old signature with a fresh timestamp
    reason = webhook_refusal("POST", URL, headers(sig, NOW_MS), BODY, SECRET, NOW)
    assert reason is not None and reason.startswith("invalid signature")


@pytest.mark.parametrize(
    ("method", "url", "body", "secret"),
    [
        ("POST", URL, BODY.replace(b'"objectId":3', b'"objectId":4'), SECRET),  # tampered body
        ("POST", URL + "?x=1", BODY, SECRET),  # another URL
        ("PUT", URL, BODY, SECRET),  # another method
        ("POST", URL, BODY, "other-secret"),  # another app's secret
    ],
)
def test_anything_changed_after_signing_is_refused(method, url, body, secret) -> None:
    sig = v3("POST", URL, BODY, NOW_MS)
    reason = webhook_refusal(method, url, headers(sig, NOW_MS), body, secret, NOW)
    assert reason is not None and reason.startswith("invalid signature")


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({}, "X-HubSpot-Signature-v3 header is missing"),
        ({"X-HubSpot-Signature-v3": "x"}, "X-HubSpot-Request-Timestamp header is missing"),
        ({"X-HubSpot-Request-Timestamp": "1"}, "X-HubSpot-Signature-v3 header is missing"),
        (
            {"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "2026-01-01"},
            "X-HubSpot-Request-Timestamp must be epoch milliseconds",
        ),
        (
            {"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "9" * 40},
            "X-HubSpot-Request-Timestamp must be epoch milliseconds",
        ),
        (
            {"X-HubSpot-Signature-v3": "é" * 44, "X-HubSpot-Request-Timestamp": "1"},
            "X-HubSpot-Signature-v3 must be a base64 HMAC-SHA256",
        ),
        (
            {"X-HubSpot-Signature-v3": "ab" * 32, "X-HubSpot-Request-Timestamp": "1"},
            "X-HubSpot-Signature-v3 must be a base64 HMAC-SHA256",  # hex, as v1/v2 were
        ),
    ],
)
def test_missing_or_malformed_headers_are_refused(given: dict[str, str], reason: str) -> None:
    assert webhook_refusal("POST", URL, given, BODY, SECRET, NOW) == reason


def test_without_a_client_secret_everything_is_refused() -> None:
    sig = v3("POST", URL, BODY, NOW_MS, secret="")
    reason = webhook_refusal("POST", URL, headers(sig, NOW_MS), BODY, "", NOW)
    assert reason == "no HubSpot client secret is configured: every delivery is refused"


# -- parsing -------------------------------------------------------------------------------


def event(subscription_type: str, object_id: int = 101, n: int = 1, **extra: Any) -> dict:
    return {
        "eventId": 1_000 + n,
        "subscriptionId": 3_000,
        "portalId": int(PORTAL),
        "appId": int(APP),
        "occurredAt": NOW_MS,
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM_UI",
        "sourceId": "userId:45678",
        **extra,
    }


def parse(*items: Any, **kw: Any):
    options = {"portal_id": PORTAL, "property_names": NAMES, "mapping": MAPPING, "app_id": APP}
    return webhook_events_parse(json.dumps(list(items)).encode(), **{**options, **kw})


@pytest.mark.parametrize("object_type", ["contact", "company", "deal"])
def test_creation_is_created_with_the_dedupe_key_and_account(object_type: str) -> None:
    [ev] = parse(event(f"{object_type}.creation", 101))
    assert ev.name == f"{object_type}.created"
    assert (ev.record.object_type, ev.record.id) == (object_type, "101")
    assert ev.event_id == f"{PORTAL}:3000:1001:{NOW_MS}"
    assert ev.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert (ev.account_id, ev.source, ev.origin) == (PORTAL, "hubspot", "")


def test_the_generic_object_form_names_the_object_by_type_id() -> None:
    [ev] = parse(event("object.creation", 7, objectTypeId="0-3"))
    assert (ev.name, ev.record.id) == ("deal.created", "7")
    assert parse(event("object.creation", 7, objectTypeId="0-5")) == []  # tickets


@pytest.mark.parametrize(
    ("object_type", "name", "raw", "prop", "value"),
    [
        ("contact", "lifecyclestage", "lead", "lifecycle_stage", "lead"),
        (
            "contact",
            "lifecyclestage",
            "Marketing Qualified Lead",
            "lifecycle_stage",
            "marketingqualifiedlead",
        ),
        ("contact", "hs_email_optout", "true", "email_opt_out", True),
        ("contact", "hs_email_optout", "false", "email_opt_out", False),
        ("contact", "hubspot_owner_id", "87654", "owner", "87654"),
        (
            "contact",
            "lastmodifieddate",
            "1767225600000",
            "last_activity_at",
            datetime(2026, 1, 1, tzinfo=UTC),
        ),
        ("contact", "lifecyclestage", "", "lifecycle_stage", None),  # cleared
        ("company", "numberofemployees", "250", "employees", 250),
        ("company", "numberofemployees", 250, "employees", 250),
        ("company", "annualrevenue", "1250000.50", "annual_revenue", 1_250_000.5),
        ("deal", "dealstage", "1234567", "stage", "qualifiedtobuy"),  # the connection's mapping
        ("deal", "dealstage", "closedwon", "stage", "closedwon"),
        ("deal", "closedate", "1767225600000", "close_date", date(2026, 1, 1)),
        ("deal", "closedate", "2026-03-31", "close_date", date(2026, 3, 31)),
        ("deal", "amount", "9000", "amount", 9000.0),
    ],
)
def test_property_changes_are_neutral_names_and_typed_values(
    object_type: str, name: str, raw: Any, prop: str, value: Any
) -> None:
    [ev] = parse(event(f"{object_type}.propertyChange", propertyName=name, propertyValue=raw))
    assert ev.name == f"{object_type}.property_changed"
    assert (ev.property, ev.value) == (prop, value)
    assert type(ev.value) is type(value)


def test_a_property_sops_cannot_name_is_ignored_not_refused() -> None:
    events = parse(
        event(
            "contact.propertyChange",
            n=1,
            propertyName="hs_analytics_source",
            propertyValue="ORGANIC_SEARCH",
        ),
        event("contact.creation", n=2),
    )
    assert [e.name for e in events] == ["contact.created"]


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        ({"toObjectTypeId": "0-47", "toObjectId": 9}, "meeting"),
        ({"toObjectTypeId": "0-48", "toObjectId": 9}, "call"),
        (
            {"associationType": "CONTACT_TO_MEETING", "fromObjectId": 101, "toObjectId": 9},
            "meeting",
        ),
        ({"associationType": "CONTACT_TO_NOTE", "fromObjectId": 101, "toObjectId": 9}, "note"),
    ],
)
def test_an_engagement_association_is_an_activity_logged(extra: dict, kind: str) -> None:
    item = event("contact.associationChange", **extra)
    if "fromObjectId" in extra:
        del item["objectId"]  # the legacy association payload names both ends instead
    [ev] = parse(item)
    assert (ev.name, ev.record.id, ev.value) == ("contact.activity_logged", "101", kind)


@pytest.mark.parametrize(
    "extra",
    [
        {"toObjectTypeId": "0-2", "toObjectId": 9},  # a company: no activity
        {"associationType": "CONTACT_TO_COMPANY", "toObjectId": 9},
        {"toObjectTypeId": "0-47", "toObjectId": 9, "associationRemoved": True},
    ],
)
def test_other_association_changes_are_ignored(extra: dict) -> None:
    assert parse(event("contact.associationChange", **extra)) == []


@pytest.mark.parametrize(
    "subscription_type",
    [
        "contact.deletion",
        "deal.merge",
        "company.restore",
        "contact.privacyDeletion",
        "ticket.creation",
        "line_item.propertyChange",
    ],
)
def test_deletes_merges_restores_and_other_objects_are_ignored(subscription_type: str) -> None:
    assert parse(event(subscription_type, mergedObjectIds=[1, 2], primaryObjectId=3)) == []


@pytest.mark.parametrize(
    ("source", "source_id", "app_id", "origin"),
    [
        ("INTEGRATION", APP, APP, "salesops"),
        ("INTEGRATION", f"appId:{APP}", APP, "salesops"),
        ("INTEGRATION", "999", APP, ""),  # another integration's write
        ("INTEGRATION", f"userId:{APP}", APP, ""),
        ("INTEGRATION", None, APP, "salesops"),  # cannot tell: never loop on ourselves
        ("INTEGRATION", "999", "", "salesops"),  # app id unknown: same
        ("CRM_UI", "userId:45678", APP, ""),
        ("API", APP, APP, ""),
    ],
)
def test_change_source_marks_our_own_writes(source, source_id, app_id, origin) -> None:
    item = event(
        "deal.propertyChange",
        propertyName="dealstage",
        propertyValue="closedwon",
        changeSource=source,
        sourceId=source_id,
    )
    if source_id is None:
        del item["sourceId"]
    [ev] = parse(item, app_id=app_id)
    assert ev.origin == origin


def test_event_ids_are_reused_across_subscriptions_so_the_key_has_all_four() -> None:
    a = event("contact.creation", n=1)
    b = {
        **event("contact.propertyChange", n=1, propertyName="lifecyclestage", propertyValue="lead"),
        "subscriptionId": 3_001,
    }
    retry = {**a, "attemptNumber": 3}
    later = {**a, "occurredAt": NOW_MS + 1}
    ids = [e.event_id for e in parse(a, b, retry, later)]
    assert ids[0] == ids[2]  # a redelivery keeps its id
    assert len({ids[0], ids[1], ids[3]}) == 3


def test_up_to_100_events_and_an_empty_array_are_accepted() -> None:
    assert len(parse(*[event("contact.creation", n=i) for i in range(MAX_EVENTS)])) == 100
    assert parse() == []


def test_101_events_are_a_413() -> None:
    with pytest.raises(InputRejected) as caught:
        parse(*[event("contact.creation", n=i) for i in range(MAX_EVENTS + 1)])
    assert caught.value.status == 413
    assert "101 events; the limit is 100" in str(caught.value)


def test_another_portal_is_a_403_naming_both() -> None:
    with pytest.raises(InputRejected) as caught:
        parse(event("contact.creation", n=1), {**event("contact.creation", n=2), "portalId": 7})
    assert caught.value.status == 403
    assert str(caught.value) == (
        "events[1].portalId: delivery is for portal '7'; this connection is portal '62515'"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"events": []}', "a HubSpot delivery must be a JSON array of events"),
        (b"[1]", "events[0]: must be an object"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 10 + b"]" * 10, "nested 10 deep"),
        (b'[{"eventId": 1' + b"0" * 40 + b"}]", "digits"),
        (b'[{"eventId": NaN}]', "NaN is not a number JSON allows"),
    ],
)
def test_malformed_bodies_are_clear_errors(body: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        webhook_events_parse(body, portal_id=PORTAL, property_names=NAMES)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"objectId": "101"}, "events[0].objectId: must be an integer, not '101'"),
        ({"objectId": True}, "events[0].objectId: must be an integer, not True"),
        ({"objectId": 1.5}, "events[0].objectId: must be an integer, not 1.5"),
        ({"objectId": -1}, "events[0].objectId: -1 is out of range"),
        ({"objectId": 2**64}, "events[0].objectId: 18446744073709551616 is out of range"),
        ({"objectId": None}, "events[0].objectId: required"),
        ({"eventId": None}, "events[0].eventId: required"),
        ({"subscriptionId": "x"}, "events[0].subscriptionId: must be an integer, not 'x'"),
        ({"portalId": [1]}, "events[0].portalId: must be an integer, not [1]"),
        ({"occurredAt": 10**17}, "events[0].occurredAt: 100000000000000000 ms is after 2100"),
        ({"subscriptionType": 5}, "events[0].subscriptionType: must be a non-empty string"),
        ({"subscriptionType": ""}, "events[0].subscriptionType: must be a non-empty string"),
        ({"changeSource": 1}, "events[0].changeSource: must be a non-empty string, not 1"),
        ({"propertyName": 3}, "events[0].propertyName: must be a non-empty string, not 3"),
        ({"propertyValue": {"a": 1}}, "events[0].propertyValue: must be a string, number"),
        (
            {
                "propertyName": "numberofemployees",
                "propertyValue": "many",
                "subscriptionType": "company.propertyChange",
            },
            "events[0].propertyValue: 'many' is not an integer for company.employees",
        ),
        (
            {"propertyName": "hs_email_optout", "propertyValue": "yes"},
            "events[0].propertyValue: 'yes' is not true or false for contact.email_opt_out",
        ),
        (
            {"propertyName": "lastmodifieddate", "propertyValue": "9" * 16},
            "events[0].propertyValue: 9999999999999999 ms is after 2100",
        ),
        (
            {"propertyName": "lastmodifieddate", "propertyValue": "soon"},
            "events[0].propertyValue: 'soon' is not a timestamp for contact.last_activity_at",
        ),
        (
            {
                "propertyName": "annualrevenue",
                "propertyValue": "1e999",
                "subscriptionType": "company.propertyChange",
            },
            "events[0].propertyValue: '1e999' is not a number for company.annual_revenue",
        ),
    ],
)
def test_wrong_types_name_the_event_and_field(change: dict, message: str) -> None:
    item = {
        **event("contact.propertyChange", propertyName="lifecyclestage", propertyValue="lead"),
        **change,
    }
    if change.get("objectId", 0) is None:
        del item["objectId"]
    with pytest.raises(ValueError) as caught:
        parse(item)
    assert str(caught.value).startswith(message)


def test_a_huge_body_is_refused_before_parsing() -> None:
    with pytest.raises(InputRejected) as caught:
        webhook_events_parse(
            b"[" + b" " * 10_000_000 + b"]", portal_id=PORTAL, property_names=NAMES
        )
    assert caught.value.status == 413


# -- answer --------------------------------------------------------------------------------


def test_the_answer_is_a_fast_2xx_or_the_reason() -> None:
    events = parse(event("contact.creation"))
    ok = webhook_response(events, None)
    assert (ok.status, json.loads(ok.body), ok.content_type) == (
        200,
        {"received": 1},
        "application/json",
    )
    refused = webhook_response([], "invalid signature")
    assert refused.status == 400 and json.loads(refused.body) == {"error": "invalid signature"}


def test_a_stage_resolver_maps_deal_stages_instead_of_the_mapping() -> None:
    # The connector can map stage ids through the pipelines (labels, won/lost metadata).
    seen: list[str] = []

    def stage(stage_id: str) -> str:
        seen.append(stage_id)
        return "closedlost"

    item = event("deal.propertyChange", propertyName="dealstage", propertyValue="98765")
    [ev] = parse(item, stage_to_neutral=stage)
    assert (ev.value, seen) == ("closedlost", ["98765"])
    [other] = parse(
        event("deal.propertyChange", propertyName="amount", propertyValue="5"),
        stage_to_neutral=stage,
    )
    assert other.value == 5.0 and seen == ["98765"]
