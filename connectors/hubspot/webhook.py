"""HubSpot webhook deliveries: the v3 signature, strict bounded parsing, and our answer.

Pure (stdlib + connectors): `HubSpotConnector.verify_webhook / parse_webhook /
webhook_response` call these, and tests sign deliveries without a network.

**Signature (v3).** `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret,
method + URI + raw body + X-HubSpot-Request-Timestamp)), the timestamp in epoch milliseconds.
The URI is the one HubSpot called (our public base URL + path + query, never the Host
header), after HubSpot's decoding rule: the percent-escapes of `: / ? @ ! $ ' ( ) * , ;`
are decoded before signing, every other escape is signed as sent. A timestamp more than
5 minutes from our clock, either way, is refused, so a captured delivery cannot be replayed.

We verify in our own code rather than with the SDK's `hubspot.utils.signature.Signature`
(hubspot-api-client 12.0.0, checked): its v3 path signs `http_uri` exactly as given (it
does not apply the decoding rule above, so a URL with `%3A` in its query never verifies),
it accepts any timestamp in the future (it only checks `now - timestamp < 300 s`), and it
takes the body as `str`, so the raw bytes would be decoded and re-encoded first.

**Body.** A JSON array of at most 100 event objects. Each is checked strictly (integers
are integers, names are strings; errors name the index: `events[3].objectId: ...`); keys we
do not read are ignored, since HubSpot adds fields (`changeFlag`, `attemptNumber`,
`objectTypeId`...) without notice. What becomes a neutral `CrmEvent`:

| subscriptionType | event |
|---|---|
| `contact/company/deal.creation` | `<object>.created` |
| `<object>.propertyChange` | `<object>.property_changed`, the property through `property_names` |
| `<object>.associationChange` to an engagement | `<object>.activity_logged`, `value` its kind |
| `object.*` (generic form, `objectTypeId` 0-1/0-2/0-3) | as its legacy form |

Ignored (valid, checked, but no event, so HubSpot does not retry them): a property change
of a property `property_names` does not map (SOPs cannot name it), an association removed
or to a non-engagement, and `*.deletion`, `*.merge`, `*.restore`, `*.privacyDeletion` and
other object types: deletes and merges reach the mirror as tombstones through the sync
(`read_page`), and no SOP triggers on them.

**Our own writes.** `appId` in a payload is the app the subscription belongs to (always ours),
so it cannot tell who made a change; `changeSource` and `sourceId` do. An event with
`changeSource == "INTEGRATION"` whose `sourceId` names our app (`"<appId>"` or
`"appId:<appId>"`) gets `origin="salesops"` (recorded, starts no run). With no `sourceId`,
or when the connection does not know its app id, every INTEGRATION change counts as ours:
an SOP that re-triggers itself is worse than a missed trigger from another integration.

**Dedupe key.** `event_id = "<portalId>:<subscriptionId>:<eventId>:<occurredAt>"`: HubSpot
reuses eventIds across subscriptions, and a retry keeps all four.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import OBJECT_TYPES, CrmEvent, RecordRef, WebhookResponse
from connectors.inputs import InputRejected, Limits, json_loads_bounded
from connectors.record_model import OBJECT_FIELDS
from connectors.vocabulary import value_to_neutral

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
SIGNATURE_WINDOW_MS = 300_000  # 5 minutes either side of our clock
MAX_EVENTS = 100  # HubSpot batches at most 100 events per request
# [{..., "mergedObjectIds": [..]}]: 3 deep at most; a string as long as a text property.
LIMITS = Limits(
    max_bytes=1_000_000, max_depth=3, max_items=1_000, max_string=65_536, max_int_digits=20
)
OWN_CHANGE_SOURCES = frozenset({"INTEGRATION"})
# HubSpot decodes these escapes in the URI before signing (case-insensitive: %3a too).
_DECODED_ESCAPES = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{1,16}", re.ASCII)
_BASE64_SHA256 = re.compile(r"[A-Za-z0-9+/]{43}=", re.ASCII)
_LATEST_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)
_MAX_ID = 2**63 - 1
# Generic subscriptions ("object.creation") name the object by type id.
_TYPE_IDS = {"0-1": "contact", "0-2": "company", "0-3": "deal"}
_ENGAGEMENT_TYPE_IDS = {
    "0-48": "call",
    "0-49": "email",
    "0-47": "meeting",
    "0-46": "note",
    "0-27": "task",
}
_ENGAGEMENT_NAMES = {
    "CALL": "call",
    "EMAIL": "email",
    "MEETING": "meeting",
    "NOTE": "note",
    "TASK": "task",
}
_INTEGER = re.compile(r"-?\d{1,20}(\.0*)?", re.ASCII)
_NUMBER = re.compile(r"-?\d{1,30}(\.\d{0,30})?([eE][-+]?\d{1,3})?", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SCALARS = (str, int, float, bool, type(None))
ValueMapping = Mapping[str, Mapping[str, str]]
PropertyNames = Mapping[str, Mapping[str, str]]  # object type -> {HubSpot name: neutral name}


# -- signature -----------------------------------------------------------------------------


def signature_uri(url: str) -> str:
    """`url` as HubSpot signs it: the escapes of `: / ? @ ! $ ' ( ) * , ;` decoded."""
    return _DECODED_ESCAPES.sub(lambda m: chr(int(m[1], 16)), url)


def webhook_sign(method: str, url: str, body: bytes, client_secret: str, timestamp_ms: int) -> str:
    """The X-HubSpot-Signature-v3 value HubSpot sends for this request."""
    message = (method + signature_uri(url)).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_refusal(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    client_secret: str,
    now: float,
) -> str | None:
    """Why the request is not an authentic HubSpot delivery at `now` (unix seconds), or None.

    `url` is the full URL HubSpot was given (base URL + path + query), never the Host header.
    """
    if not client_secret:
        return "no HubSpot client secret is configured: every delivery is refused"
    signature = _header(headers, SIGNATURE_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    if not signature:
        return f"{SIGNATURE_HEADER} header is missing"
    if not stamp:
        return f"{TIMESTAMP_HEADER} header is missing"
    # ASCII-only patterns: anything else is refused here, never compared or converted.
    if not _TIMESTAMP.fullmatch(stamp):
        return f"{TIMESTAMP_HEADER} must be epoch milliseconds"
    if not _BASE64_SHA256.fullmatch(signature):
        return f"{SIGNATURE_HEADER} must be a base64 HMAC-SHA256"
    expected = webhook_sign(method, url, body, client_secret, int(stamp))
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return f"invalid signature for {method} {signature_uri(url)}"
    age_ms = int(now * 1000) - int(stamp)
    if age_ms > SIGNATURE_WINDOW_MS:
        return f"request timestamp is {age_ms // 1000} s old; the window is 300 s"
    if age_ms < -SIGNATURE_WINDOW_MS:
        return f"request timestamp is {-age_ms // 1000} s ahead of our clock; the window is 300 s"
    return None


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "").strip()


# -- events --------------------------------------------------------------------------------


def webhook_events_parse(
    body: bytes,
    *,
    portal_id: str,
    property_names: PropertyNames,
    mapping: ValueMapping | None = None,
    app_id: str = "",
    stage_to_neutral: Callable[[str], Any] | None = None,
) -> list[CrmEvent]:
    """A HubSpot delivery (JSON array of up to 100 events) as neutral events, within `LIMITS`.

    `portal_id` is the connection's portal ("" accepts any, reported as `account_id`);
    `property_names` maps HubSpot property names to neutral ones per object type; `mapping`
    is the connection's value mapping; `stage_to_neutral`, when given, maps a deal stage id
    instead (e.g. through the pipelines' labels and won/lost metadata); `app_id` tells our
    writes apart.

    Raises ValueError naming the event (InputRejected: 413 for over 100 events, 403 for
    another portal, 400 for the bounds).
    """
    payload = json_loads_bounded(body, LIMITS)  # InputRejected names the cause
    if not isinstance(payload, list):
        raise ValueError("a HubSpot delivery must be a JSON array of events")
    if len(payload) > MAX_EVENTS:
        raise InputRejected(
            f"this delivery has {len(payload)} events; the limit is {MAX_EVENTS}", status=413
        )
    values = mapping or {}

    def neutral(field: str, text: str) -> Any:
        if field == "deal.stage" and stage_to_neutral is not None:
            return stage_to_neutral(text)
        return value_to_neutral(field, text, values)

    events = []
    for i, item in enumerate(payload):
        event = _event_parse(item, f"events[{i}]", portal_id, property_names, neutral, app_id)
        if event is not None:
            events.append(event)
    return events


def _event_parse(
    item: Any,
    where: str,
    portal_id: str,
    names: PropertyNames,
    neutral: Callable[[str, str], Any],
    app_id: str,
) -> CrmEvent | None:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be an object")
    event_no = _integer(item, "eventId", where)
    subscription = _integer(item, "subscriptionId", where)
    portal = str(_integer(item, "portalId", where))
    occurred_ms = _integer(item, "occurredAt", where)
    if occurred_ms >= _LATEST_MS:
        raise ValueError(f"{where}.occurredAt: {occurred_ms} ms is after 2100")
    subscription_type = _text(item, "subscriptionType", where)
    change_source = _text(item, "changeSource", where, required=False)
    source_id = _text(item, "sourceId", where, required=False)
    if portal_id and portal != str(portal_id):
        raise InputRejected(
            f"{where}.portalId: delivery is for portal {portal!r}; this connection is "
            f"portal {str(portal_id)!r}",
            status=403,
        )
    prefix, _, action = subscription_type.partition(".")
    if prefix == "object":
        prefix = _TYPE_IDS.get(_text(item, "objectTypeId", where, required=False), "")
    if prefix not in OBJECT_TYPES:
        return None  # tickets, line items, conversations...: no SOP runs on them
    base: dict[str, Any] = {
        "event_id": f"{portal}:{subscription}:{event_no}:{occurred_ms}",
        "occurred_at": datetime.fromtimestamp(occurred_ms / 1000, tz=UTC),
        "source": "hubspot",
        "origin": "salesops" if _ours(change_source, source_id, app_id) else "",
        "account_id": portal,
    }
    if action == "creation":
        ref = RecordRef(prefix, str(_integer(item, "objectId", where)))
        return CrmEvent(name=f"{prefix}.created", record=ref, **base)
    if action == "propertyChange":
        ref = RecordRef(prefix, str(_integer(item, "objectId", where)))
        name = _text(item, "propertyName", where)
        raw = item.get("propertyValue")
        if not isinstance(raw, _SCALARS):
            raise ValueError(f"{where}.propertyValue: must be a string, number, boolean or null")
        prop = names.get(prefix, {}).get(name)
        if prop is None:
            return None  # a property SOPs cannot name
        value = _typed(raw, prefix, prop, neutral, f"{where}.propertyValue")
        return CrmEvent(
            name=f"{prefix}.property_changed", record=ref, property=prop, value=value, **base
        )
    if action == "associationChange":
        return _association_event(item, where, prefix, base)
    return None  # deletion, merge, restore, privacyDeletion: the sync reports tombstones


def _association_event(
    item: dict[str, Any], where: str, object_type: str, base: dict[str, Any]
) -> CrmEvent | None:
    """An engagement newly associated with the record: `<object>.activity_logged`."""
    key = "objectId" if "objectId" in item else "fromObjectId"
    record_id = str(_integer(item, key, where))
    removed = item.get("associationRemoved", False)
    if not isinstance(removed, bool):
        raise ValueError(f"{where}.associationRemoved: must be true or false")
    kind = _ENGAGEMENT_TYPE_IDS.get(_text(item, "toObjectTypeId", where, required=False))
    association_type = _text(item, "associationType", where, required=False)
    if kind is None and "_TO_" in association_type:
        kind = _ENGAGEMENT_NAMES.get(association_type.rpartition("_TO_")[2].upper())
    if removed or kind is None:
        return None  # unlinked, or linked to a company/deal: no activity was logged
    return CrmEvent(
        name=f"{object_type}.activity_logged",
        record=RecordRef(object_type, record_id),
        value=kind,
        **base,
    )


def _ours(change_source: str, source_id: str, app_id: str) -> bool:
    """Whether the change was our own write-back (see the module docstring)."""
    if change_source not in OWN_CHANGE_SOURCES:
        return False
    if not source_id or not app_id:
        return True
    prefix, _, tail = source_id.rpartition(":")
    return tail == str(app_id) and prefix in ("", "appId", "app")


def _integer(item: dict[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if value is None:
        raise ValueError(f"{where}.{key}: required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key}: must be an integer, not {_shown(value)}")
    if not 0 <= value <= _MAX_ID:
        raise ValueError(f"{where}.{key}: {value} is out of range")
    return value


def _text(item: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"{where}.{key}: must be a non-empty string, not {_shown(value)}")
    return value


def _typed(
    raw: Any, object_type: str, prop: str, neutral: Callable[[str, str], Any], where: str
) -> Any:
    """HubSpot's property value (text on the wire) as the neutral field's type."""
    if raw is None:
        return None
    text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw).strip()
    if text == "":
        return None  # HubSpot sends a cleared property as ""
    kind = OBJECT_FIELDS[object_type].get(prop, "string")
    field = f"{object_type}.{prop}"
    if kind == "int":
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"{where}: {_shown(text)} is not an integer for {field}")
        return int(text.partition(".")[0])
    if kind == "double":
        number = float(text) if _NUMBER.fullmatch(text) else None
        if number is None or number in (float("inf"), float("-inf")):
            raise ValueError(f"{where}: {_shown(text)} is not a number for {field}")
        return number
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{where}: {_shown(text)} is not true or false for {field}")
        return text.lower() == "true"
    if kind in ("timestamp", "date"):
        stamp = _instant(text, where, field)
        if kind == "date":
            return stamp.date() if isinstance(stamp, datetime) else stamp
        if isinstance(stamp, datetime):
            return stamp
        return datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC)
    return neutral(field, text)


def _instant(text: str, where: str, field: str) -> datetime | date:
    """Epoch milliseconds (HubSpot's datetime and date values), an ISO date or timestamp."""
    if text.isascii() and text.isdigit() and len(text) <= 16:
        if int(text) >= _LATEST_MS:
            raise ValueError(f"{where}: {text} ms is after 2100 for {field}")
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{where}: {_shown(text)} is not a date for {field}") from None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{where}: {_shown(text)} is not a timestamp for {field}") from None


def _shown(value: Any) -> str:
    """`value` for an error message, cut short: the sender already has the rest."""
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


# -- answer --------------------------------------------------------------------------------


def webhook_response(events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
    """HubSpot only needs a fast 2xx; a refusal's body says why (the edge sets its status)."""
    if error:
        return WebhookResponse(400, json.dumps({"error": error}).encode())
    return WebhookResponse(200, json.dumps({"received": len(events)}).encode())
