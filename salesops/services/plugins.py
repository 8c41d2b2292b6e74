"""Connectors and engines, loaded lazily by dotted path from settings.SALESOPS."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from connectors import registry
from connectors.base import CrmConnector
from salesops.agents.base import Engine


def connector_get(kind: str | None = None) -> CrmConnector:
    """The connector for `kind` (default: SALESOPS["CONNECTOR"])."""
    kind = kind or settings.SALESOPS["CONNECTOR"]
    return _connector(kind)


@functools.cache
def _connector(kind: str) -> CrmConnector:
    options: dict[str, Any] = settings.SALESOPS.get("CONNECTOR_OPTIONS", {}).get(kind, {})
    return registry.connector_get(kind, connectors=settings.SALESOPS["CONNECTORS"], **options)


def engine_get(name: str | None = None) -> Engine:
    """The agent engine `name` (default: SALESOPS["ENGINE"])."""
    name = name or settings.SALESOPS["ENGINE"]
    return _engine(name)


@functools.cache
def _engine(name: str) -> Engine:
    paths: dict[str, str] = settings.SALESOPS["ENGINES"]
    if name not in paths:
        raise ValueError(f"unknown engine {name!r}; configured: {', '.join(sorted(paths))}")
    return import_string(paths[name])()


def plugins_reset() -> None:
    """Forget cached connectors and engines (tests change settings)."""
    _connector.cache_clear()
    _engine.cache_clear()
