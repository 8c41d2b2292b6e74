"""The local CRM's own JSON webhook: signing, building and strict, bounded parsing.

Body: `{"account"?: "<id>", "events": [{"event_id", "name", "object_type", "id",
"property"?, "value"?, "occurred_at"}]}`, signed with header
`X-Salesops-Signature: t=<unix seconds>,v1=<hex>`, the hex HMAC-SHA256 of `"<t>." + body`
under the shared secret. A signature more than `SIGNATURE_WINDOW` seconds from our clock is
refused, so a captured request cannot be replayed later. A snapshot event
(`"name": "<object>.snapshot"`) carries `"properties"`, the record's neutral fields, instead
of `property`/`value`. `account` names the local account the delivery comes from; every
event gets it as `account_id`. Kept free of Django so it can sign from anywhere (tests, tools).
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
from connectors.inputs import Limits, json_loads_bounded
from connectors.record_model import EVENT_SUFFIXES, OBJECT_FIELDS
from connectors.vocabulary import value_to_neutral

SIGNATURE_HEADER = "X-Salesops-Signature"
SIGNATURE_WINDOW = 300  # seconds either side of our clock, as HubSpot's v3 signature
_SIGNATURE = re.compile(r"t=(\d{1,12}),v1=([0-9a-f]{64})", re.ASCII | re.IGNORECASE)
# The body's shape is {"events": [{..., "properties": {name: <scalar>}}]}: 4 deep at most
# (values are checked to be scalars); a string as long as a CRM's longest text property.
LIMITS = Limits(max_bytes=1_000_000, max_depth=4, max_string=65_536, max_int_digits=20)
_REQUIRED = ("event_id", "name", "object_type", "id", "occurred_at")
_ALLOWED = {*_REQUIRED, "property", "value"}
_SNAPSHOT_ALLOWED = {*_REQUIRED, "properties"}
_SCALARS = (str, int, float, bool, type(None))
ValueMapping = Mapping[str, Mapping[str, str]]


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


def webhook_body_build(events: Sequence[CrmEvent], *, account: str | None = None) -> bytes:
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
        if ev.snapshot is not None:
            item["properties"] = dict(ev.snapshot)
        if ev.property is not None:
            item["property"] = ev.property
        if ev.value is not None:
            item["value"] = ev.value
        items.append(item)
    body: dict[str, Any] = {"events": items}
    if account is not None:
        body = {"account": account, **body}
    return json.dumps(body, default=str).encode()


def webhook_events_parse(body: bytes, *, mapping: ValueMapping | None = None) -> list[CrmEvent]:
    """Parse a local webhook body within `LIMITS` into neutral events, mapping pick-list
    values to neutral ones with `mapping` (the connection's).

    Raises ValueError naming the problem (InputRejected, with its HTTP status, for bounds).
    """
    payload = json_loads_bounded(body, LIMITS)  # InputRejected (a ValueError) names the cause
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise ValueError('webhook body must be an object with an "events" list')
    unknown = sorted(set(payload) - {"events", "account"})
    if unknown:
        raise ValueError(f"unknown top-level keys {', '.join(unknown)}")
    account = payload.get("account", "")
    if not isinstance(account, str):
        raise ValueError("account: must be a string")
    return [
        _event_parse(item, f"events[{i}]", account, mapping or {})
        for i, item in enumerate(payload["events"])
    ]


def _event_parse(item: Any, where: str, account: str, mapping: ValueMapping) -> CrmEvent:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be an object")
    missing = [k for k in _REQUIRED if not item.get(k)]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    for key in _REQUIRED:
        if not isinstance(item[key], str):
            raise ValueError(f"{where}.{key}: must be a string")
    object_type, _, suffix = item["name"].partition(".")
    snapshot = suffix == "snapshot"
    unknown = sorted(set(item) - (_SNAPSHOT_ALLOWED if snapshot else _ALLOWED))
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")
    if object_type not in OBJECT_TYPES or not (snapshot or suffix in EVENT_SUFFIXES):
        raise ValueError(f"{where}.name: unknown event {_shown(item['name'])}")
    if item["object_type"] != object_type:
        raise ValueError(f"{where}.object_type: {_shown(item['object_type'])} does not match name")
    prop = item.get("property")
    if suffix == "property_changed" and not isinstance(prop, str):
        raise ValueError(f"{where}.property: required for property_changed")
    if prop is not None and not isinstance(prop, str):
        raise ValueError(f"{where}.property: must be a string")
    value = item.get("value")
    if not isinstance(value, _SCALARS):
        raise ValueError(f"{where}.value: must be a string, number, boolean or null")
    if prop is not None:
        value = value_to_neutral(f"{object_type}.{prop}", value, mapping)
    return CrmEvent(
        event_id=item["event_id"],
        name=item["name"],
        record=RecordRef(object_type, item["id"]),
        occurred_at=_timestamp_parse(item["occurred_at"], f"{where}.occurred_at"),
        property=prop,
        value=value,
        source="local",
        snapshot=_snapshot_parse(item, object_type, where, mapping) if snapshot else None,
        account_id=account,
    )


def _snapshot_parse(
    item: dict[str, Any], object_type: str, where: str, mapping: ValueMapping
) -> dict[str, Any]:
    props = item.get("properties")
    if not isinstance(props, dict):
        raise ValueError(f"{where}.properties: required for a snapshot, an object")
    fields = OBJECT_FIELDS[object_type]
    unknown = sorted(k for k in props if k not in fields)
    if unknown:
        shown = ", ".join(_shown(k) for k in unknown[:5])
        raise ValueError(f"{where}.properties: not {object_type} properties: {shown}")
    for key, value in props.items():
        if not isinstance(value, _SCALARS):
            raise ValueError(f"{where}.properties.{key}: must be a string, number, boolean or null")
    return {k: value_to_neutral(f"{object_type}.{k}", v, mapping) for k, v in props.items()}


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
