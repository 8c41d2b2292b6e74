"""Fixtures for sync tests: the default connection, small pages, a connector that breaks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.base import CrmConnector, Page
from salesops.models import Connection
from salesops.services import sync
from salesops.services.connections import connection_default, connections_reset

PAGE = 7


@pytest.fixture
def connection(db) -> Connection:
    return connection_default()


@pytest.fixture
def small_pages(settings) -> Iterator[int]:
    """Local connectors page PAGE records at a time."""
    options = settings.SALESOPS["CONNECTOR_OPTIONS"]
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {**options, "local": {**options.get("local", {}), "page_size": PAGE}},
    }
    connections_reset()
    yield PAGE
    connections_reset()


class Breaking:
    """A connector that answers `pages` pages, then raises `error` on every read (of `only`
    that object type, when given)."""

    def __init__(
        self, inner: CrmConnector, *, pages: int, error: BaseException, only: str | None = None
    ) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.capabilities = inner.capabilities
        self.left = pages
        self.error = error
        self.only = only
        self.reads: list[str] = []

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        self.reads.append(object_type)
        if self.only not in (None, object_type):
            return self.inner.read_page(object_type, cursor, backfill=backfill)
        if self.left <= 0:
            raise self.error
        self.left -= 1
        return self.inner.read_page(object_type, cursor, backfill=backfill)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def breaking(monkeypatch) -> Callable[..., Breaking]:
    """breaking(connection, pages=, error=): its syncs use a connector that breaks after
    `pages` pages (other connections keep the real one); undone by monkeypatch."""

    def install(
        connection: Connection, *, pages: int, error: BaseException, only: str | None = None
    ) -> Breaking:
        real = sync.connection_connector
        broken = Breaking(real(connection), pages=pages, error=error, only=only)
        monkeypatch.setattr(
            sync,
            "connection_connector",
            lambda c: broken if c.pk == connection.pk else real(c),
        )
        return broken

    return install
