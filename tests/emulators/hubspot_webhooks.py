"""HubSpot webhook deliveries: the v3 event array and its signature.

`X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
with `X-HubSpot-Request-Timestamp` in epoch milliseconds; HubSpot sends at most 100 events per
request, as a JSON array.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_EVENTS = 100
_event_ids = itertools.count(1_000_000_001)
# A stable subscription id per subscription type, as a real app has one per subscription.
_SUBSCRIPTIONS: dict[str, int] = {}


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """HubSpot's v3 request signature."""
    message = method.upper().encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_event(
    subscription_type: str,
    object_id: int | str,
    *,
    portal_id: int,
    app_id: int,
    property_name: str | None = None,
    property_value: str | None = None,
    change_source: str = "CRM_UI",
    occurred_at: int | None = None,
    event_id: int | None = None,
    attempt: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """One event in HubSpot's webhook shape (contact.creation, deal.propertyChange, ...)."""
    event = {
        "eventId": event_id if event_id is not None else next(_event_ids),
        "subscriptionId": _SUBSCRIPTIONS.setdefault(
            subscription_type, 3_000_000 + len(_SUBSCRIPTIONS)
        ),
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": occurred_at if occurred_at is not None else int(time.time() * 1000),
        "subscriptionType": subscription_type,
        "attemptNumber": attempt,
        "objectId": int(object_id),
        "changeSource": change_source,
        **extra,
    }
    if property_name is not None:
        event.update(propertyName=property_name, propertyValue=property_value)
    return event


def webhook_payload(
    events: list[dict[str, Any]], *, portal_id: int, app_id: int
) -> list[dict[str, Any]]:
    """Journal entries (or ready events) completed into HubSpot's event array."""
    out = []
    for e in events:
        if "eventId" in e:
            out.append(e)
            continue
        extra = {k: v for k, v in e.items() if k in ("sourceId", "toObjectTypeId", "toObjectId")}
        out.append(
            webhook_event(
                e["subscriptionType"],
                e["objectId"],
                portal_id=portal_id,
                app_id=app_id,
                property_name=e.get("propertyName"),
                property_value=e.get("propertyValue"),
                change_source=e.get("changeSource", "CRM_UI"),
                occurred_at=e.get("occurredAt"),
                **extra,
            )
        )
    return out


@dataclass
class Delivery:
    """A signed delivery: what HubSpot would send, and (once POSTed) the answer."""

    url: str
    body: bytes
    headers: dict[str, str]
    status: int | None = None
    response: bytes = b""


def webhook_signed(
    url: str,
    events: list[dict[str, Any]],
    secret: str,
    *,
    timestamp_ms: int | None = None,
    method: str = "POST",
) -> Delivery:
    """Build (do not send) a signed delivery of at most 100 events to `url`."""
    if len(events) > MAX_EVENTS:
        raise ValueError(f"HubSpot sends at most {MAX_EVENTS} events per request")
    body = json.dumps(events, separators=(",", ":")).encode()
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(secret, method, url, body, stamp),
        "X-HubSpot-Signature-Version": "v3",
        "X-HubSpot-Request-Timestamp": str(stamp),
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio)",
    }
    return Delivery(url, body, headers)


def webhook_deliver(
    url: str,
    events: list[dict[str, Any]],
    secret: str,
    *,
    timestamp_ms: int | None = None,
    send: bool = True,
    timeout: float = 5.0,
) -> Delivery:
    """Sign and (unless `send=False`) POST a delivery; the answer's status is kept, not raised."""
    delivery = webhook_signed(url, events, secret, timestamp_ms=timestamp_ms)
    if not send:
        return delivery
    request = urllib.request.Request(url, delivery.body, delivery.headers, method="POST")
    try:
        # HubSpot gives a subscriber 5 s to answer.
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            delivery.status, delivery.response = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        delivery.status, delivery.response = exc.code, exc.read()
    return delivery
