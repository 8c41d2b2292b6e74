"""The local CRM's own JSON webhook: signing, building and strict parsing.

Body: `{"events": [{"event_id", "name", "object_type", "id", "property"?, "value"?,
"occurred_at"}]}`, signed with header `X-Salesops-Signature`: hex HMAC-SHA256 of the raw
body with the shared secret. Kept free of Django so it can sign from anywhere (tests, tools).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import OBJECT_TYPES, CrmEvent, RecordRef
from salesops.specs.record_model import EVENT_SUFFIXES

SIGNATURE_HEADER = "X-Salesops-Signature"
_REQUIRED = ("event_id", "name", "object_type", "id", "occurred_at")
_ALLOWED = {*_REQUIRED, "property", "value"}


def webhook_sign(body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`, as sent in X-Salesops-Signature."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_signature_valid(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when the signature header matches the body; always False without a secret."""
    if not secret:
        return False  # fail closed: an unconfigured secret must not accept everything
    given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    return hmac.compare_digest(given.strip().lower(), webhook_sign(body, secret))


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
    """Parse a local webhook body into neutral events. Raises ValueError naming the problem."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"webhook body is not valid JSON: {exc}") from exc
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
        raise ValueError(f"{where}.name: unknown event {item['name']!r}")
    if item["object_type"] != object_type:
        raise ValueError(f"{where}.object_type: {item['object_type']!r} does not match name")
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
    except ValueError as exc:
        raise ValueError(f"{where}: not an ISO-8601 timestamp: {text!r}") from exc
    if value.tzinfo is None:
        raise ValueError(f"{where}: timestamp needs a UTC offset: {text!r}")
    return value.astimezone(UTC)
