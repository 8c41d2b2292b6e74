"""Salesforce Outbound Messages: `POST /webhooks/salesforce/<connection-slug>/<secret>/`.

Salesforce cannot sign a message or add a header, so the secret is the URL's last segment
(the connection's `outbound_secret` credential; the connector compares it in constant time).
The same steps as every webhook (views.py): connection, size, authenticity and org, parsing
and bounds, one INSERT, one routing task, the Ack. Salesforce reads only the Ack: anything
else it redelivers for up to 24 hours, so every answer here is SOAP (a fault with a 4xx
naming the cause, or 503 when we cannot store), and none is logged with its path (it holds
the secret).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import CrmConnector, CrmEvent, WebhookRequest
from connectors.inputs import InputRejected
from connectors.salesforce.outbound import MAX_BYTES, org_ids_match, outbound_response
from salesops.models import Connection
from salesops.services.connections import connection_connector
from salesops.services.events import events_accept
from salesops.webhooks.checks import delivery_check
from salesops.webhooks.connections import webhook_connection, webhook_connections_forget
from salesops.webhooks.views import _declared_size, _refusal, _request

logger = logging.getLogger(__name__)
KIND = Connection.Kind.SALESFORCE


def salesforce_fault(reason: str, status: int) -> HttpResponse:
    """A SOAP fault with `status`, kept out of Django's request log (the path is secret)."""
    answer = outbound_response([], reason, status=status)
    response = HttpResponse(answer.body, status=status, content_type=answer.content_type)
    # django.request logs every 4xx/5xx with the request path, which ends in the secret.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _size_refusal(size: int) -> str | None:
    if size > MAX_BYTES:
        return f"body is {size} bytes; the limit is {MAX_BYTES}"
    return None


def _org_refusal(connection: Connection, events: Sequence[CrmEvent]) -> str | None:
    """Why the message is not this connection's org (15- and 18-character ids compare equal)."""
    for event in events:
        if event.account_id and not org_ids_match(event.account_id, connection.account_id):
            return (
                f"message is for organization {event.account_id!r}; connection "
                f"{connection.slug!r} is organization {connection.account_id!r}"
            )
    return None


@csrf_exempt
def salesforce_outbound_receive(request: HttpRequest, slug: str, secret: str) -> HttpResponse:
    """Check and store one Outbound Message whole, then Ack it (a redelivery stores nothing
    new and is acknowledged too).

    404 for an unknown or disabled connection, 403 for a wrong secret or another org, 413 for
    a body over `MAX_BYTES` or over 100 notifications, 400 naming what is malformed, 405 for
    another method; 503 when the connection cannot be built or the database refuses.
    """
    del secret  # compared by the connector, from the URL it is given (never logged)
    if request.method != "POST":
        return salesforce_fault("Outbound Messages are POSTed", 405)
    connection = webhook_connection(KIND, slug)
    if connection is None:
        return salesforce_fault(f"no enabled salesforce connection {slug!r}", 404)
    try:
        too_big = _size_refusal(_declared_size(request))  # before Django reads the body
    except InputRejected as exc:
        return salesforce_fault(exc.reason, exc.status)
    if too_big:
        return salesforce_fault(too_big, 413)
    incoming = _request(request)
    too_big = _size_refusal(len(incoming.body))
    if too_big:
        return salesforce_fault(too_big, 413)
    try:
        connector = connection_connector(connection)
    except Exception as exc:  # a misconfigured connection is not Salesforce's to retry
        logger.warning("salesforce connection %s cannot be built: %s", slug, type(exc).__name__)
        return salesforce_fault(f"connection {slug!r} is not usable; see the server log", 503)
    return _deliver(connection, connector, incoming)


def _deliver(
    connection: Connection, connector: CrmConnector, incoming: WebhookRequest
) -> HttpResponse:
    refusal = _refusal(connector, incoming)
    if refusal is not None:
        logger.warning("salesforce %s: message refused: %s", connection.slug, refusal)
        return salesforce_fault(refusal, 403)
    try:
        events = connector.parse_webhook(incoming)
        delivery_check(events)
    except InputRejected as exc:
        return salesforce_fault(exc.reason, exc.status)
    except ValueError as exc:
        return salesforce_fault(str(exc), 400)
    wrong_account = _org_refusal(connection, events)
    if wrong_account is not None:
        return salesforce_fault(wrong_account, 403)
    try:
        events_accept(connection=connection, events=events)
    except Exception:
        webhook_connections_forget()  # e.g. the cached connection was deleted meanwhile
        logger.exception("salesforce %s: message not stored", connection.slug)
        return salesforce_fault("the message could not be stored; redeliver it later", 503)
    answer = connector.webhook_response(events, None)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
