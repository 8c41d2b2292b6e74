"""Webhook endpoints, one per connector kind. The hot path only verifies and records rows."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import WebhookRequest
from salesops.services.events import event_ingest
from salesops.services.plugins import connector_get
from salesops.tasks_enqueue import webhook_event_route_enqueue

logger = logging.getLogger(__name__)


def _request(request: HttpRequest) -> WebhookRequest:
    return WebhookRequest(
        method=request.method or "POST",
        url=request.build_absolute_uri(),
        headers={k: v for k, v in request.headers.items()},
        body=request.body,
    )


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, kind: str) -> HttpResponse:
    """Verify the signature, store each event once, enqueue routing, answer 200 with counts."""
    try:
        connector = connector_get(kind)
    except ValueError:
        return JsonResponse({"error": f"unknown connector {kind!r}"}, status=404)
    incoming = _request(request)
    if not connector.verify_webhook(incoming):
        return JsonResponse({"error": "invalid signature"}, status=401)
    try:
        events = connector.parse_webhook(incoming)
    except ValueError as exc:
        return JsonResponse({"error": f"malformed webhook: {exc}"}, status=400)
    stored = 0
    for event in events:
        row = event_ingest(event=event)
        if row is not None:
            stored += 1
            webhook_event_route_enqueue(row.pk)
    return JsonResponse(
        {"received": len(events), "new": stored, "duplicates": len(events) - stored}
    )
