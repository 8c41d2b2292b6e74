"""The local CRM's own JSON webhook: signing, building and strict, bounded parsing.

Body: `{"events": [{"event_id", "name", "object_type", "id", "property"?, "value"?,
"occurred_at"}]}`, signed with header `X-Salesops-Signature: t=<unix seconds>,v1=<hex>`, the
hex HMAC-SHA256 of `"<t>." + body` under the shared secret. A signature more than
`SIGNATURE_WINDOW` seconds from our clock is refused, so a captured request cannot be replayed
later. Kept free of Django so it can sign from anywhere (tests, tools).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import OBJECT_TYPES, CrmEvent, RecordRef
from salesops.inputs import Limits, json_loads_bounded
from salesops.specs.record_model import EVENT_SUFFIXES

SIGNATURE_HEADER = "X-Salesops-Signature"
SIGNATURE_WINDOW = 300  # seconds either side of our clock, as HubSpot's v3 signature
_SIGNATURE = re.compile(r"t=(\d{1,12}),v1=([0-9a-f]{64})", re.ASCII | re.IGNORECASE)
# The body's shape is {"events": [{..., "value": <scalar>}]}: 3 deep, so a list or an object
# as a value is refused; a string as long as a CRM's longest text property (HubSpot: 65,536).
LIMITS = Limits(max_bytes=1_000_000, max_depth=3, max_string=65_536, max_int_digits=20)
_REQUIRED = ("event_id", "name", "object_type", "id", "occurred_at")
_ALLOWED = {*_REQUIRED, "property", "value"}


def webhook_sign(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The X-Salesops-Signature value for `body`, signed at `timestamp` (default: now)."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    return f"t={signed_at},v1={_mac(body, secret, signed_at)}"


def _mac(body: bytes, secret: str, signed_at: int) -> str:
    return hmac.new(secret.encode(), b"%d." % signed_at + body, hashlib.sha256).hexdigest()


def webhook_signature_refusal(
    headers: Mapping[str, str], body: bytes, secret: str, *, now: float
) -> str | None:
    """Why the request is not authentic at `now` (unix seconds), or None when it is."""
    if not secret:
        return "no webhook secret is configured"  # fail closed: never accept everything
    given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    # ASCII-only pattern: a header of any other characters is refused here, never compared.
    match = _SIGNATURE.fullmatch(given.strip())
    if match is None:
        return f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex HMAC-SHA256>"
    signed_at = int(match[1])
    expected = _mac(body, secret, signed_at).encode()
    if not hmac.compare_digest(match[2].lower().encode(), expected):
        return "invalid signature"
    age = int(now) - signed_at
    if age > SIGNATURE_WINDOW:
        return f"signature is older than {SIGNATURE_WINDOW} s ({age} s)"
    if age < -SIGNATURE_WINDOW:
        return f"signature is {-age} s ahead of our clock; the window is {SIGNATURE_WINDOW} s"
    return None


def webhook_body_build(events: Sequence[CrmEvent]) -> bytes:
    """Serialise neutral events into the local webhook body (the inverse of the parser)."""
    items: list[dict[str, Any]] = []
    for ev in events:
        item: dict[str, Any] = {
            "event_id": ev.event_id,
            "name": ev.name,
            "object_type": ev.record.object_type,
            "id": ev.record.id,
            "occurred_at": ev.occurred_at.isoformat(),
        }
        if ev.property is not None:
            item["property"] = ev.property
        if ev.value is not None:
            item["value"] = ev.value
        items.append(item)
    return json.dumps({"events": items}, default=str).encode()


def webhook_events_parse(body: bytes) -> list[CrmEvent]:
    """Parse a local webhook body within `LIMITS` into neutral events.

    Raises ValueError naming the problem (InputRejected, with its HTTP status, for bounds).
    """
    payload = json_loads_bounded(body, LIMITS)  # InputRejected (a ValueError) names the cause
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise ValueError('webhook body must be an object with an "events" list')
    return [_event_parse(item, f"events[{i}]") for i, item in enumerate(payload["events"])]


def _event_parse(item: Any, where: str) -> CrmEvent:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be an object")
    missing = [k for k in _REQUIRED if not item.get(k)]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(item) - _ALLOWED)
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")
    for key in ("event_id", "name", "object_type", "id", "occurred_at"):
        if not isinstance(item[key], str):
            raise ValueError(f"{where}.{key}: must be a string")
    object_type, _, suffix = item["name"].partition(".")
    if object_type not in OBJECT_TYPES or suffix not in EVENT_SUFFIXES:
        raise ValueError(f"{where}.name: unknown event {_shown(item['name'])}")
    if item["object_type"] != object_type:
        raise ValueError(f"{where}.object_type: {_shown(item['object_type'])} does not match name")
    prop = item.get("property")
    if suffix == "property_changed" and not isinstance(prop, str):
        raise ValueError(f"{where}.property: required for property_changed")
    if prop is not None and not isinstance(prop, str):
        raise ValueError(f"{where}.property: must be a string")
    return CrmEvent(
        event_id=item["event_id"],
        name=item["name"],
        record=RecordRef(object_type, item["id"]),
        occurred_at=_timestamp_parse(item["occurred_at"], f"{where}.occurred_at"),
        property=prop,
        value=item.get("value"),
        source="local",
    )


def _timestamp_parse(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: not an ISO-8601 timestamp: {_shown(text)}") from None
    if value.tzinfo is None:
        raise ValueError(f"{where}: timestamp needs a UTC offset: {_shown(text)}")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-01:00 is past the last representable instant
        raise ValueError(f"{where}: timestamp out of range: {_shown(text)}") from None


def _shown(text: str) -> str:
    """`text` quoted for an error message, cut short: the sender already has the rest."""
    return repr(text if len(text) <= 60 else text[:60] + "...")
