"""Custom CEL functions available to every SOP expression (docs/sop-format.md).

Each function takes and returns plain Python values (str in; int, bool or str out). The type
checker knows their signatures through `SIGNATURES`; `PLAIN_FUNCTIONS` is what the Rust CEL runtime
binds (cel_runtime.py) and `FUNCTIONS` wraps the same implementations for celpy, whose results must
be celpy values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from celpy import celtypes
from celpy.evaluation import base_functions

_PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}"  # Django/Jinja leftovers: {{ first_name }}
    r"|\{\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}"  # {first_name}
    r"|\[[A-Z][A-Za-z0-9 _-]{0,40}\](?!\()"  # [Name], [Company] but not a markdown link
    r"|<[A-Z][A-Z0-9_]{1,40}>"  # <FIRST_NAME>
    r"|\bX{3,}\b"  # XXX
    r"|\bTBD\b|\bTODO\b|\bINSERT\b",
    re.DOTALL,
)

_PRICING = re.compile(
    r"[$€£¥]\s?\d"  # $5, € 40
    r"|\b\d[\d,.]*\s?(?:k|K|m|M)?\s?(?:USD|EUR|GBP|CHF|dollars?|euros?|pounds?)\b"
    r"|\b\d+(?:[.,]\d+)?\s?%\s?(?:off|discount|reduction|cheaper)\b"
    r"|\bdiscount(?:s|ed)?\b|\bpric(?:e|es|ing)\b|\brebates?\b|\bcoupons?\b"
    r"|\bfree of charge\b|\bat no (?:extra |additional )?cost\b|\bfree (?:trial|month|upgrade)s?\b"
    r"|\bquot(?:e|es|ation)\b|\bcontract terms?\b|\bper (?:seat|user|month|year|licen[cs]e)\b"
    r"|\blicen[cs]e fees?\b|\bspecial offer\b",
    re.IGNORECASE,
)


def _text(value: Any, function: str) -> str:
    # celpy turns a TypeError into "no such overload"; name the function so the message helps.
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise TypeError(f"{function}() expects a string, got {kind}")
    return str(value)


def word_count(text: Any) -> int:
    """Number of whitespace-separated words."""
    return len(_text(text, "word_count").split())


def has_placeholder(text: Any) -> bool:
    """True when the text still holds template leftovers like `{{ x }}`, `[Name]`, `XXX`, `TBD`."""
    return bool(_PLACEHOLDER.search(_text(text, "has_placeholder")))


def mentions_pricing(text: Any) -> bool:
    """True when the text talks about prices, discounts, amounts, quotes or contract terms."""
    return bool(_PRICING.search(_text(text, "mentions_pricing")))


def _date(value: Any, function: str) -> dt.date:
    text = _text(value, function)
    try:
        # Timestamps are accepted too: only their calendar date counts.
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ValueError(f"{function}() expects a YYYY-MM-DD date, got {text!r}") from exc


def business_days_between(start: Any, end: Any) -> int:
    """Mon-Fri days after `start` up to and including `end`; negative when `end` is earlier."""
    first = _date(start, "business_days_between")
    last = _date(end, "business_days_between")
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    days = 0
    day = first + dt.timedelta(days=1)
    while day <= last:
        if day.weekday() < 5:
            days += 1
        day += dt.timedelta(days=1)
    return sign * days


def lower(text: Any) -> str:
    """Lower-cased copy of a string."""
    return _text(text, "lower").lower()


# CEL (like most languages) refuses `1 < 2.5`; record numbers arrive as int or float depending on
# the CRM, so a check such as `record.amount >= 100000` must not depend on that. Newer CEL specs
# compare numbers across types too.
def _numeric(a: Any, b: Any) -> tuple[Any, Any]:
    numbers = (celtypes.IntType, celtypes.UintType, celtypes.DoubleType)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, celtypes.BoolType)
        and not isinstance(b, celtypes.BoolType)
        and type(a) is not type(b)
    ):
        return float(a), float(b)
    return a, b


def _comparison(name: str, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(a: Any, b: Any) -> Any:
        left, right = _numeric(a, b)
        if left is not a:
            return celtypes.BoolType(op(left, right))
        return op(a, b)

    compare.__name__ = name
    return compare


PLAIN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "word_count": word_count,
    "has_placeholder": has_placeholder,
    "mentions_pricing": mentions_pricing,
    "business_days_between": business_days_between,
    "lower": lower,
}


def _celpy(function: Callable[..., Any]) -> Callable[..., Any]:
    """The same function for celpy: its result as a celpy value."""

    def wrapper(*args: Any) -> Any:
        value = function(*args)
        if isinstance(value, bool):
            return celtypes.BoolType(value)
        if isinstance(value, int):
            return celtypes.IntType(value)
        return celtypes.StringType(value)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: _celpy(function) for name, function in PLAIN_FUNCTIONS.items()},
    **{
        op: _comparison(op, base_functions[op])
        for op in ("_<_", "_<=_", "_>_", "_>=_", "_==_", "_!=_")
    },
}

# name -> (argument kinds, result kind); the receiver of a method call is the first argument.
# "dyn" accepts anything. Built-ins of CEL that SOPs may use are listed too.
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "word_count": (("string",), "int"),
    "has_placeholder": (("string",), "bool"),
    "mentions_pricing": (("string",), "bool"),
    "business_days_between": (("string", "string"), "int"),
    "lower": (("string",), "string"),
    "size": (("dyn",), "int"),
    "contains": (("string", "string"), "bool"),
    "startsWith": (("string", "string"), "bool"),
    "endsWith": (("string", "string"), "bool"),
    "matches": (("string", "string"), "bool"),
    "int": (("dyn",), "int"),
    "uint": (("dyn",), "int"),
    "double": (("dyn",), "double"),
    "string": (("dyn",), "string"),
    "bool": (("dyn",), "bool"),
    "timestamp": (("string",), "timestamp"),
    "duration": (("string",), "duration"),
    "type": (("dyn",), "dyn"),
    "getFullYear": (("timestamp",), "int"),
    "getMonth": (("timestamp",), "int"),
    "getDayOfMonth": (("timestamp",), "int"),
    "getDayOfWeek": (("timestamp",), "int"),
    "getDayOfYear": (("timestamp",), "int"),
    "getDate": (("timestamp",), "int"),
    "getHours": (("dyn",), "int"),
    "getMinutes": (("dyn",), "int"),
    "getSeconds": (("dyn",), "int"),
    "getMilliseconds": (("dyn",), "int"),
}
