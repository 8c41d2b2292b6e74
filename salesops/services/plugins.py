"""Agent engines, loaded lazily by dotted path from settings.SALESOPS (connectors: see
services/connections.py)."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from salesops.agents.base import Engine


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
    from salesops.services.connections import connections_reset

    connections_reset()
    _engine.cache_clear()
