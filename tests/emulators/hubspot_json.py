"""HubSpot's response bodies for CRM objects and batches, and query-parameter parsing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.emulators.framework import Request
from tests.emulators.hubspot_model import DEFAULT_READ, association_type_name, iso, object_type
from tests.emulators.hubspot_store import HsObject, PortalStore, StoreError

# Returned whatever properties a read names, as HubSpot does.
ALWAYS = ("hs_object_id", "createdate", "hs_lastmodifieddate")


def names(req: Request, key: str) -> list[str] | None:
    """A list query parameter, repeated or comma-separated; None when absent."""
    values = req.query.get(key)
    if values is None:
        return None
    return [n for v in values for n in v.split(",") if n]


def flag(req: Request, key: str) -> bool:
    """A boolean query parameter (the SDK sends Python's "True")."""
    return (req.arg(key) or "").lower() == "true"


def object_json(
    store: PortalStore,
    obj: HsObject,
    props: list[str] | None,
    *,
    history: list[str] | None = None,
    assoc: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A SimplePublicObject(WithAssociations): the requested properties (None when unset)."""
    values = obj.properties if values is None else values
    wanted = list(DEFAULT_READ.get(obj.type, [])) if props is None else list(props)
    shown = {n: values.get(n) for n in [*ALWAYS, *wanted]}
    out: dict[str, Any] = {
        "id": obj.id,
        "properties": shown,
        "createdAt": iso(obj.created_at),
        "updatedAt": iso(obj.updated_at),
        "archived": obj.archived,
    }
    if obj.archived_at is not None:
        out["archivedAt"] = iso(obj.archived_at)
    if history:
        out["propertiesWithHistory"] = {
            n: [
                {"value": v, "timestamp": iso(t), "sourceType": s}
                for v, t, s in reversed(obj.history.get(n, []))
            ]
            for n in history
        }
    if assoc:
        found = {}
        for name in assoc:
            target = object_type(name)
            if target is None:
                continue
            links = store.associated(obj.type, obj.id, target.name)
            rows = [
                {"id": to, "type": association_type_name(kind)}
                for to in sorted(links, key=int)
                for kind in sorted(links[to])
            ]
            if rows:
                found[name] = {"results": rows}
        if found:
            out["associations"] = found
    return out


def batch_json(results: list[dict], errors: list[dict], started: datetime) -> tuple[int, dict]:
    """(status, body) of a batch answer: 207 with `errors` when some inputs failed."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(started),
    }
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return 207, body
    return 200, body


def batch_error(exc: StoreError, ids: list[str] | None = None) -> dict[str, Any]:
    """One StandardError entry of a 207 answer."""
    context = dict(exc.context)
    if ids:
        context["ids"] = ids
    return {
        "status": "error",
        "category": exc.category,
        "message": exc.message,
        "context": context,
        "errors": [],
        "links": {},
    }
