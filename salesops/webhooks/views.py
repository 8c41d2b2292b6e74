"""Webhook endpoints, one per connector kind. The hot path only verifies and records rows.

A delivery is stored whole or refused whole: its size, signature, body and every event are
checked before the first row is written, and its rows are written in one transaction.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import CrmConnector, WebhookRequest
from salesops.inputs import InputRejected
from salesops.services.events import event_ingest
from salesops.services.plugins import connector_get
from salesops.tasks_enqueue import webhook_event_route_enqueue
from salesops.webhooks.checks import MAX_BYTES, delivery_check

logger = logging.getLogger(__name__)


def _request(request: HttpRequest) -> WebhookRequest:
    return WebhookRequest(
        method=request.method or "POST",
        url=request.build_absolute_uri(),
        headers={k: v for k, v in request.headers.items()},
        body=request.body,
    )


def _error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _size_check(size: int) -> None:
    if size > MAX_BYTES:
        raise InputRejected(f"body is {size} bytes; the limit is {MAX_BYTES}", status=413)


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise InputRejected("Content-Length is not a number") from None


def _refusal(connector: CrmConnector, incoming: WebhookRequest) -> str | None:
    # A connector may say why it refuses (the local one: replay window); else a plain no.
    explain = getattr(connector, "webhook_refusal", None)
    if explain is not None:
        reason: str | None = explain(incoming)
        return reason
    return None if connector.verify_webhook(incoming) else "invalid signature"


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, kind: str) -> HttpResponse:
    """Check size, signature and every event; store the delivery whole; enqueue routing.

    Answers 200 with counts, 401 for an unauthentic request, 413 for a body or a delivery
    over its cap, 400 naming the first bad value; a refused delivery stores nothing.
    """
    try:
        connector = connector_get(kind)
    except ValueError:
        return _error(f"unknown connector {kind!r}", 404)
    try:
        _size_check(_declared_size(request))  # before Django reads the body into memory
        incoming = _request(request)
        _size_check(len(incoming.body))
    except InputRejected as exc:
        return _error(exc.reason, exc.status)
    refusal = _refusal(connector, incoming)
    if refusal is not None:
        return _error(refusal, 401)
    try:
        events = connector.parse_webhook(incoming)
        delivery_check(events)
    except InputRejected as exc:
        return _error(exc.reason, exc.status)
    except ValueError as exc:
        return _error(str(exc), 400)
    stored = event_ingest(events=events)
    for row in stored:
        webhook_event_route_enqueue(row.pk)
    return JsonResponse(
        {"received": len(events), "new": len(stored), "duplicates": len(events) - len(stored)}
    )
