"""Connector kinds by dotted path, imported lazily (no Django: services pass settings in)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from connectors.base import CrmConnector

DEFAULT_CONNECTORS: Mapping[str, str] = {
    "local": "connectors.local.connector.LocalConnector",
    "salesforce": "connectors.salesforce.connector.SalesforceConnector",
}


def connector_get(
    kind: str, *, connectors: Mapping[str, str] | None = None, **options: Any
) -> CrmConnector:
    """Build the connector of `kind` from `connectors` (kind -> dotted class path) with options.

    Raises:
        ValueError: unknown kind (the message lists the known ones) or a path that cannot be
            imported.
        TypeError: the class does not build a `CrmConnector`.
    """
    paths = DEFAULT_CONNECTORS if connectors is None else connectors
    try:
        path = paths[kind]
    except KeyError:
        known = ", ".join(sorted(paths)) or "none"
        raise ValueError(f"unknown connector kind {kind!r}; known kinds: {known}") from None
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"connector {kind!r}: cannot import {path!r}: {exc}") from exc
    connector = cls(**options)
    if not isinstance(connector, CrmConnector):
        raise TypeError(f"connector {kind!r}: {path} does not implement CrmConnector")
    return connector
