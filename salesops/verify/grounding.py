"""Grounding: every evidence item a result cites must match the record document. Pure Python.

An evidence item is `{field, value, claim?}`; `field` is a record-document path. Strings hold
when the cited text appears in the record's value (case- and whitespace-insensitive), numbers
compare numerically, timestamps compare as instants, anything else must be equal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from salesops.skills.context import document_path_get
from salesops.verify.report import CheckOutcome

_WHITESPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    """Case-fold and collapse whitespace, so formatting differences do not matter."""
    return _WHITESPACE.sub(" ", text).strip().casefold()


def _short(value: Any, limit: int = 80) -> str:
    """A value as the message shows it: repr for strings, truncated."""
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_number(value: Any) -> float | None:
    """A number, or a string holding only a number; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return None
    return None


def _as_instant(value: Any) -> datetime | None:
    """An ISO timestamp string as an aware datetime (naive taken as UTC); None otherwise."""
    if not isinstance(value, str) or len(value) < 11 or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def value_matches(cited: Any, actual: Any) -> bool:
    """True when a cited value holds against the record's value (rules in the module doc)."""
    if isinstance(cited, bool) or isinstance(actual, bool):
        if isinstance(cited, str):
            return _normal(cited) == ("true" if actual else "false")
        return cited is actual if isinstance(cited, bool) and isinstance(actual, bool) else False
    if cited is None or actual is None:
        return cited is None and actual is None
    cited_number, actual_number = _as_number(cited), _as_number(actual)
    if isinstance(cited, int | float) or isinstance(actual, int | float):
        if cited_number is None or actual_number is None:
            return False
        return math.isclose(cited_number, actual_number, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(cited, str) and isinstance(actual, str):
        cited_instant, actual_instant = _as_instant(cited), _as_instant(actual)
        if cited_instant and actual_instant:
            return cited_instant == actual_instant
        needle = _normal(cited)
        if not needle:
            return not _normal(actual)
        return needle in _normal(actual)
    return cited == actual


def evidence_lists(result: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield (label, value) for each place `path` ("risks.*.evidence") reaches in the result."""

    def walk(node: Any, parts: list[str], label: str) -> Iterator[tuple[str, Any]]:
        if not parts:
            yield label, node
            return
        head, rest = parts[0], parts[1:]
        if head == "*":
            if isinstance(node, list):
                for index, item in enumerate(node):
                    yield from walk(item, rest, f"{label}[{index}]")
            elif isinstance(node, Mapping):
                for key, item in node.items():
                    yield from walk(item, rest, f"{label}.{key}" if label else str(key))
            return
        if isinstance(node, Mapping) and head in node:
            yield from walk(node[head], rest, f"{label}.{head}" if label else head)

    yield from walk(result, path.split("."), "")


def _item_problem(label: str, item: Any, record: Mapping[str, Any]) -> str | None:
    """What is wrong with one evidence item, or None when it holds."""
    if not isinstance(item, Mapping):
        return f"{label} is not an evidence item (an object with field and value)"
    field = item.get("field")
    if not isinstance(field, str) or not field:
        return f"{label} has no field"
    if "value" not in item:
        return f"{label} cites {field} without a value"
    try:
        actual = document_path_get(record, field)
    except KeyError:
        return f"{label}: field '{field}' does not exist in the record"
    cited = item["value"]
    if value_matches(cited, actual):
        return None
    return f"{label} cites {field} = {_short(cited)} but the record has {_short(actual)}"


def grounding_check(path: str, result: Any, record: Mapping[str, Any]) -> CheckOutcome:
    """One grounding outcome for an evidence path, listing every item that does not hold."""
    problems: list[str] = []
    count = 0
    for label, items in evidence_lists(result, path):
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"{label} is not a list of evidence items")
            continue
        for index, item in enumerate(items):
            count += 1
            problem = _item_problem(f"{label}[{index}]", item, record)
            if problem:
                problems.append(problem)
    check_id = f"grounding:{path}"
    if problems:
        return CheckOutcome(check_id, "grounding", "failed", "; ".join(problems))
    return CheckOutcome(check_id, "grounding", "passed", f"{count} evidence item(s) hold")
