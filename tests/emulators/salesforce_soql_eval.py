"""Evaluating parsed SOQL against an org: WHERE trees, ORDER BY, relationship paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from tests.emulators.salesforce_soql import Logic, Query
from tests.emulators.salesforce_store import OrgStore

Resolver = Callable[[dict[str, Any], str], Any]


def matches(cond: Any, row: dict[str, Any], value_of: Resolver) -> bool:
    """Whether a row satisfies a WHERE tree; `value_of(row, path)` walks relationships."""
    if cond is None:
        return True
    if isinstance(cond, Logic):
        if cond.op == "NOT":
            return not matches(cond.parts[0], row, value_of)
        results = (matches(p, row, value_of) for p in cond.parts)
        return all(results) if cond.op == "AND" else any(results)
    have = value_of(row, cond.path)
    want = cond.value
    if cond.op == "LIKE":
        return isinstance(have, str) and cond.value.fullmatch(have) is not None
    if cond.op in ("IN", "NOTIN"):
        hit = any(_equal(have, w) for w in want)
        return hit if cond.op == "IN" else not hit
    if cond.op == "=":
        return _equal(have, want)
    if cond.op == "!=":
        return not _equal(have, want)
    if have is None or want is None:
        return False
    a, b = _key(have), _key(want)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[cond.op]


def _key(value: Any) -> Any:
    # SOQL compares text case-insensitively.
    return value.lower() if isinstance(value, str) else value


def _equal(have: Any, want: Any) -> bool:
    if have is None or want is None:
        return have is None and want is None
    if isinstance(have, datetime | date) or isinstance(want, datetime | date):
        return bool(have == want)
    return bool(_key(have) == _key(want))


def sort_rows(
    rows: list[dict[str, Any]], order: list[tuple[str, bool, bool]], value_of: Resolver
) -> None:
    """Sort in place by ORDER BY items (stable, applied last key first)."""
    for path, desc, nulls_first in reversed(order):
        present = [r for r in rows if value_of(r, path) is not None]
        absent = [r for r in rows if value_of(r, path) is None]
        present.sort(key=lambda r: _key(value_of(r, path)), reverse=desc)
        rows[:] = absent + present if nulls_first else present + absent


def resolver(store: OrgStore, sobject: str) -> Any:
    """value_of(row, path) for SOQL: walks relationship paths through the store."""

    def value_of(row: dict[str, Any], path: str) -> Any:
        current, current_type = row, sobject
        parts = path.split(".")
        for part in parts[:-1]:
            ref = next(
                f for f in store.schema.fields(current_type).values() if f.relationship_name == part
            )
            target = store.find(current.get(ref.name) or "") if current.get(ref.name) else None
            if target is None:
                return None
            current_type, current = target
        if parts[-1] == "Type" and len(parts) > 1:
            return current_type
        return current.get(parts[-1])

    return value_of


def run_query(store: OrgStore, query: Query, *, include_deleted: bool) -> list[dict[str, Any]]:
    """The rows a parsed query selects, ordered, offset and limited."""
    value_of = resolver(store, query.sobject)
    rows = [
        r
        for r in store.rows(query.sobject, deleted=include_deleted)
        if matches(query.where, r, value_of)
    ]
    sort_rows(rows, query.order, value_of)
    rows = rows[query.offset :]
    return rows[: query.limit] if query.limit is not None else rows
