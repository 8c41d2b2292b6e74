"""Webhook endpoints, one per connection: `/webhooks/<kind>/<connection-slug>/`.

The hot path only resolves the connection, verifies, checks and stores: a delivery is stored
whole or refused whole (its size, signature, account and every event are checked before the
one INSERT), and its new events are routed by one queued task. The answer is the connector's
(`webhook_response`), so each vendor gets the body it expects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import CrmConnector, CrmEvent, WebhookRequest
from connectors.inputs import InputRejected
from connectors.salesforce.outbound import outbound_response
from salesops.models import Connection
from salesops.services.connections import connection_connector, connection_local
from salesops.services.events import events_accept
from salesops.webhooks.checks import MAX_BYTES, delivery_check
from salesops.webhooks.connections import webhook_connection, webhook_connections_forget

logger = logging.getLogger(__name__)


def _request(request: HttpRequest) -> WebhookRequest:
    # The URL a vendor signed is the one it was given: our public base URL and the path, never
    # the Host or X-Forwarded-* headers, which whoever sends the request chooses.
    return WebhookRequest(
        method=request.method or "POST",
        url=settings.SALESOPS_BASE_URL + request.get_full_path(),
        headers=dict(request.headers.items()),
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


def _account_refusal(connection: Connection, events: Sequence[CrmEvent]) -> str | None:
    """Why the delivery is not this connection's (an event names another account), or None."""
    for event in events:
        if event.account_id and event.account_id != connection.account_id:
            return (
                f"delivery is for account {event.account_id!r}; connection "
                f"{connection.slug!r} is account {connection.account_id!r}"
            )
    return None


def _only_connection(kind: str) -> Connection | str:
    """The one enabled connection of `kind` (for the old URL), or why there is none."""
    found = list(Connection.objects.filter(kind=kind, enabled=True).order_by("pk")[:2])
    if not found and kind == Connection.Kind.LOCAL:
        local = connection_local()
        found = [local] if local.enabled else []
    if len(found) == 1:
        return found[0]
    if not found:
        return f"no enabled {kind!r} connection"
    return f"several {kind!r} connections: post to /webhooks/{kind}/<connection-slug>/"


def _answer(
    connector: CrmConnector,
    events: Sequence[CrmEvent],
    error: str | None = None,
    status: int | None = None,
) -> HttpResponse:
    """The connector's answer for the delivery; a refusal keeps our status (401, 403, 413, 400)
    with the connector's body, so the vendor reads it and an operator sees why."""
    answer = connector.webhook_response(events, error)
    return HttpResponse(
        answer.body,
        status=status if error and status else answer.status,
        content_type=answer.content_type,
    )


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, kind: str, slug: str | None = None) -> HttpResponse:
    """Check size, signature, account and every event; store the delivery whole; enqueue its
    routing as one task.

    404 for an unknown or disabled connection (or one of another kind), 401 for an unauthentic
    request, 403 for a delivery naming another account, 413 for a body or a delivery over its
    cap, 400 naming the first bad value; a refused delivery stores nothing. Salesforce's
    Outbound Messages have their own URL, with the secret (salesforce.py): here a Salesforce
    connection answers a SOAP fault 403.
    """
    if slug is None:
        only = _only_connection(kind)
        if isinstance(only, str):
            return _error(only, 404)
        connection: Connection | None = only
    else:
        connection = webhook_connection(kind, slug)
    if connection is None:
        return _error(f"no enabled {kind!r} connection {slug!r}", 404)
    if kind == Connection.Kind.SALESFORCE:
        answer = outbound_response(
            [],
            "this URL has no secret: post to /webhooks/salesforce/<connection-slug>/<secret>/",
            status=403,
        )
        return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    connector = connection_connector(connection)
    try:
        _size_check(_declared_size(request))  # before Django reads the body into memory
        incoming = _request(request)
        _size_check(len(incoming.body))
    except InputRejected as exc:
        return _answer(connector, [], exc.reason, exc.status)
    refusal = _refusal(connector, incoming)
    if refusal is not None:
        return _answer(connector, [], refusal, 401)
    try:
        events = connector.parse_webhook(incoming)
        delivery_check(events)
    except InputRejected as exc:
        return _answer(connector, [], exc.reason, exc.status)
    except ValueError as exc:
        return _answer(connector, [], str(exc), 400)
    wrong_account = _account_refusal(connection, events)
    if wrong_account is not None:
        return _answer(connector, [], wrong_account, 403)
    try:
        events_accept(connection=connection, events=events)
    except Exception:
        webhook_connections_forget()  # e.g. the cached connection was deleted meanwhile
        raise
    return _answer(connector, events)
