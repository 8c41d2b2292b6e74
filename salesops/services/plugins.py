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


# Which SALESOPS key holds an engine's constructor options; engines not listed take none.
_ENGINE_OPTIONS = {"anthropic": "ANTHROPIC"}


def engine_options(name: str) -> dict[str, Any]:
    """Keyword arguments for engine `name` from settings (e.g. SALESOPS["ANTHROPIC"])."""
    key = _ENGINE_OPTIONS.get(name)
    options: dict[str, Any] = settings.SALESOPS.get(key, {}) if key else {}
    return {k.lower(): v for k, v in options.items()}


@functools.cache
def _engine(name: str) -> Engine:
    paths: dict[str, str] = settings.SALESOPS["ENGINES"]
    if name not in paths:
        raise ValueError(f"unknown engine {name!r}; configured: {', '.join(sorted(paths))}")
    # One engine per process: its SDK client (connection pool) is reused across runs.
    return import_string(paths[name])(**engine_options(name))


def plugins_reset() -> None:
    """Forget cached connectors and engines (tests change settings)."""
    _connector.cache_clear()
    _engine.cache_clear()
