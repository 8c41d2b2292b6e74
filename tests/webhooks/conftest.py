"""Webhook fixtures: the shared secret, a client that shows 500s as answers, a signed poster."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from connectors.local.webhook import SIGNATURE_HEADER, webhook_sign

SECRET = "s3cret"
SIGNATURE_META = f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}"


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> str:
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {"local": {"webhook_secret": SECRET}},
    }
    return SECRET


@pytest.fixture
def client() -> Client:
    """A test client that answers a server error as a 500, as the CRM would see it."""
    return Client(raise_request_exception=False)


@pytest.fixture
def post(client: Client) -> Callable[..., Any]:
    """POST raw `body` to the local webhook, signed now unless `signature` is given."""

    def post(body: bytes, signature: str | None = None, **extra: Any) -> Any:
        sig = webhook_sign(body, SECRET) if signature is None else signature
        meta = {SIGNATURE_META: sig, **extra}
        return client.post("/webhooks/local/", data=body, content_type="application/json", **meta)

    return post


@pytest.fixture
def deliver(post: Callable[..., Any]) -> Callable[..., Any]:
    """POST a signed delivery of event objects, each `item()` with the given overrides."""

    def deliver(*items: dict[str, Any]) -> Any:
        return post(json.dumps({"events": list(items)}).encode())

    return deliver


def item(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid contact.created event object for the local webhook body."""
    return {
        "event_id": f"ev-{n}",
        "name": "contact.created",
        "object_type": "contact",
        "id": f"c-{n:03d}",
        "occurred_at": "2026-11-20T00:00:00+00:00",
        **overrides,
    }


@pytest.fixture(name="item")
def item_fixture() -> Callable[..., dict[str, Any]]:
    return item


@pytest.fixture
def post_to(client: Client) -> Callable[..., Any]:
    """POST `body` to `url`, signed for the local webhook now."""

    def post_to(url: str, body: bytes, **extra: Any) -> Any:
        meta = {SIGNATURE_META: webhook_sign(body, SECRET), **extra}
        return client.post(url, data=body, content_type="application/json", **meta)

    return post_to


@pytest.fixture
def local_connection(db: Any) -> Callable[..., Any]:
    """Create another local connection (its own slug and account) with the shared secret."""
    from salesops.models import Connection
    from salesops.services.connections import connection_credentials_set

    def create(slug: str, account_id: str | None = None, **fields: Any) -> Connection:
        account = account_id or slug
        connection = Connection.objects.create(
            kind="local", slug=slug, account_id=account, **fields
        )
        connection_credentials_set(connection, {"webhook_secret": SECRET})
        return connection

    return create
