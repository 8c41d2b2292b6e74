"""SOQL with bound values: every literal is quoted and escaped here, never formatted in.

`bind("SELECT Id FROM Lead WHERE Email = :email", email=text)` replaces each `:name` with
the SOQL literal of its value, by type: text is quoted with Salesforce's escapes (backslash,
quotes, newline, carriage return, tab, backspace, form feed); numbers must be finite; a
datetime becomes a UTC datetime literal (`2025-03-04T12:00:00Z`, whole seconds: SOQL has no
fractions); a date `2025-03-04`; a list an `IN` list of literals; an `SfId` a quoted,
validated 15/18-character Id. Field and object names are not values and are checked by
`name()` against SOQL's identifier syntax.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)
_LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_"})
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


class SfId(str):
    """A Salesforce Id, checked to be 15 or 18 letters and digits (ValueError otherwise)."""

    __slots__ = ()

    def __new__(cls, value: str) -> SfId:
        text = str(value)
        if not _ID.fullmatch(text):
            raise ValueError(f"not a Salesforce Id: {text[:40]!r}")
        return super().__new__(cls, text)


class Like(str):
    """A LIKE pattern matching `text` literally (its `%` and `_` escaped too), with the
    wildcards of `before` and `after` around it: `Like("50%", after="%")`."""

    __slots__ = ()

    def __new__(cls, text: str, *, before: str = "", after: str = "") -> Like:
        if set(before + after) - {"%", "_"}:
            raise ValueError("only % and _ may wrap a LIKE pattern")
        body = str(text).translate(_ESCAPES).translate(_LIKE_ESCAPES)
        return super().__new__(cls, before + body + after)


def quote(text: str) -> str:
    """`text` as a quoted SOQL string literal."""
    return "'" + text.translate(_ESCAPES) + "'"


def literal(value: Any) -> str:
    """The SOQL literal of a Python value (see the module docstring); ValueError otherwise."""
    if isinstance(value, Like):  # escaped when it was made
        return "'" + str(value) + "'"
    if isinstance(value, SfId):
        return "'" + str(value) + "'"
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no SOQL literal for {value!r}")
        return repr(value)
    if isinstance(value, datetime):
        return datetime_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if not items:
            raise ValueError("an IN list needs at least one value")
        if isinstance(value, set | frozenset):
            items = sorted(items, key=str)
        return "(" + ", ".join(literal(v) for v in items) + ")"
    raise ValueError(f"no SOQL literal for a {type(value).__name__}")


def datetime_literal(moment: datetime) -> str:
    """A SOQL datetime literal in UTC, whole seconds (fractions are cut: floor)."""
    if moment.tzinfo is None:
        raise ValueError("a SOQL datetime needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def name(text: str) -> str:
    """A field or object name (`Account.Name`), refused unless it is a plain identifier."""
    if not _NAME.fullmatch(text):
        raise ValueError(f"not a SOQL field name: {text[:60]!r}")
    return text


def names(fields: Iterable[str]) -> str:
    """A SELECT list of checked field names."""
    return ", ".join(name(f) for f in fields)


def bind(template: str, **params: Any) -> str:
    """`template` with each `:name` replaced by the literal of `params[name]`.

    The template is ours (a constant), never built from record values; every placeholder
    must have a value and every value a placeholder (a typo is a KeyError / ValueError, not
    a query that silently matches everything).
    """
    if "'" in template:
        raise ValueError("a SOQL template holds no literals: bind them")
    used: set[str] = set()

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in params:
            raise KeyError(f"no value bound for :{key}")
        used.add(key)
        return literal(params[key])

    text = _PLACEHOLDER.sub(sub, template)
    unused = set(params) - used
    if unused:
        raise ValueError(f"values bound to no placeholder: {', '.join(sorted(unused))}")
    return text


def ids_valid(values: Iterable[str]) -> list[SfId]:
    """The valid Salesforce Ids among `values`, deduplicated in order (others dropped)."""
    out: dict[str, SfId] = {}
    for value in values:
        text = str(value)
        if _ID.fullmatch(text):
            out.setdefault(text, SfId(text))
    return list(out.values())


def chunks(values: list[Any], size: int) -> list[list[Any]]:
    """`values` in lists of at most `size` (IN lists are kept short: URL and SOQL limits)."""
    return [values[i : i + size] for i in range(0, len(values), size)]
