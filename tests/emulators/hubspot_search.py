"""The CRM search API's matching and sorting: filterGroups (OR of ANDed filters) and sorts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.emulators.hubspot_model import parse_moment

OPERATORS = (
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
)
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT, RESULT_CAP = 200, 10_000


def _key(value: str | None, typ: str) -> Any:
    """A comparable form of a stored or filter value for a property type."""
    if value is None or value == "":
        return None
    try:
        if typ == "number":
            return float(value)
        if typ in ("datetime", "date"):
            return parse_moment(value).timestamp()
    except ValueError:
        return None
    return str(value).lower()


def search_problem(body: Any, properties: dict[str, dict]) -> str | None:
    """Why a search body is invalid (HubSpot answers 400), or None."""
    if not isinstance(body, dict):
        return "Invalid input JSON: expected an object"
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        return f"filterGroups: at most {MAX_GROUPS} groups are allowed"
    total = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            return f"each filter group holds a list of at most {MAX_FILTERS_PER_GROUP} filters"
        total += len(filters)
        for f in filters:
            if not isinstance(f, dict) or f.get("operator") not in OPERATORS:
                return f"Unknown filter operator: {f.get('operator') if isinstance(f, dict) else f}"
            if not f.get("propertyName"):
                return "filter without propertyName"
    if total > MAX_FILTERS:
        return f"at most {MAX_FILTERS} filters in all"
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or limit < 0 or limit > MAX_LIMIT:
        return f"limit must be between 0 and {MAX_LIMIT}"
    after = body.get("after") or "0"
    if not str(after).isdigit():
        return f"Invalid after: {after}"
    return None


def matcher(body: dict[str, Any], properties: dict[str, dict]) -> Callable[[dict[str, str]], bool]:
    """A predicate over a record's property values for the body's filterGroups."""
    groups = body.get("filterGroups") or []

    def one(values: dict[str, str], f: dict[str, Any]) -> bool:
        name, op = f["propertyName"], f["operator"]
        typ = properties.get(name, {}).get("type", "string")
        have = _key(values.get(name), typ)
        if op == "HAS_PROPERTY":
            return have is not None
        if op == "NOT_HAS_PROPERTY":
            return have is None
        if op in ("IN", "NOT_IN"):
            wanted = {_key(v, typ) for v in f.get("values") or []}
            return (have in wanted) == (op == "IN")
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(f.get("value", "")).lower().strip("*")
            found = have is not None and token in str(have)
            return found == (op == "CONTAINS_TOKEN")
        want = _key(f.get("value"), typ)
        if op == "NEQ":
            return have != want
        if have is None:
            return False
        if op == "EQ":
            return have == want
        if op == "BETWEEN":
            high = _key(f.get("highValue"), typ)
            return want is not None and high is not None and want <= have <= high
        if want is None:
            return False
        return {"LT": have < want, "LTE": have <= want, "GT": have > want, "GTE": have >= want}[op]

    def match(values: dict[str, str]) -> bool:
        if not groups:
            return True
        return any(all(one(values, f) for f in g["filters"]) for g in groups)

    query = str(body.get("query") or "").lower()
    if not query:
        return match
    return lambda values: match(values) and any(query in str(v).lower() for v in values.values())


def sort_key(body: dict[str, Any], properties: dict[str, dict]) -> list[tuple[str, bool]]:
    """(property, descending) pairs from `sorts` (strings or {propertyName, direction})."""
    out = []
    for item in body.get("sorts") or []:
        if isinstance(item, str):
            out.append((item.lstrip("-"), item.startswith("-")))
        elif isinstance(item, dict) and item.get("propertyName"):
            out.append((item["propertyName"], item.get("direction") == "DESCENDING"))
    return out


def ordered(
    rows: list[tuple[str, dict[str, str]]],
    sorts: list[tuple[str, bool]],
    properties: dict[str, dict],
) -> list[tuple[str, dict[str, str]]]:
    """Rows (id, values) sorted by `sorts`, then by id; missing values sort last."""
    rows = sorted(rows, key=lambda r: int(r[0]))
    for name, descending in reversed(sorts):
        typ = properties.get(name, {}).get("type", "string")
        present = [r for r in rows if _key(r[1].get(name), typ) is not None]
        absent = [r for r in rows if _key(r[1].get(name), typ) is None]
        present.sort(key=lambda r: _key(r[1].get(name), typ), reverse=descending)
        rows = present + absent
    return rows
