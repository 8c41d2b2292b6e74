"""A connector signing the request URL, as HubSpot's v3 and Salesforce's signatures do.

The local connector signs only the body, so it cannot show which URL the edge hands a
connector; this one signs `method + url + body` and answers in a SOAP-like XML format, and
leaves the account check to the edge (as a vendor connector that trusts it would).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from connectors.base import CrmEvent, WebhookRequest, WebhookResponse
from connectors.local.connector import LocalConnector
from connectors.local.webhook import webhook_events_parse

HEADER = "X-Test-Signature"
PATH = "tests.webhooks.url_signed.UrlSignedConnector"


def url_sign(method: str, url: str, body: bytes, secret: str) -> str:
    """The signature of one request as the vendor computes it: over the URL it was given."""
    return hmac.new(
        secret.encode(), method.encode() + url.encode() + body, hashlib.sha256
    ).hexdigest()


class UrlSignedConnector(LocalConnector):
    """The local CRM's data behind a URL-signed webhook with an XML acknowledgement."""

    kind = "hubspot"

    def webhook_refusal(self, request: WebhookRequest) -> str | None:
        given = next((v for k, v in request.headers.items() if k.lower() == HEADER.lower()), "")
        expected = url_sign(request.method, request.url, request.body, self.webhook_secret)
        return None if hmac.compare_digest(given, expected) else f"not signed for {request.url}"

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        return webhook_events_parse(request.body, mapping=self.mapping)

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        ack = "false" if error else "true"
        body = f"<Ack>{ack}</Ack><Count>{len(events)}</Count><Error>{error or ''}</Error>"
        return WebhookResponse(200 if not error else 500, body.encode(), "text/xml")
