"""Custom CEL functions available to every SOP expression (docs/sop-format.md).

Each function takes and returns plain Python values (str or a record map in; int, bool, str or
a list of str out). The type checker knows their signatures through `SIGNATURES`;
`PLAIN_FUNCTIONS` is what the Rust CEL runtime binds (cel_runtime.py) and `FUNCTIONS` wraps the
same implementations for celpy, whose results must be celpy values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from celpy import celtypes
from celpy.evaluation import base_functions

from salesops.specs.deal_stages import DEFAULT_NORM_DAYS, LATE_STAGES, STAGE_NORM_DAYS, stage_key
from salesops.specs.policy_text import commercial_promise, opted_out_people, proposes_outreach

_PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}"  # Django/Jinja leftovers: {{ first_name }}
    r"|\{\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}"  # {first_name}
    r"|\[[A-Z][A-Za-z0-9 _-]{0,40}\](?!\()"  # [Name], [Company] but not a markdown link
    r"|<[A-Z][A-Z0-9_]{1,40}>"  # <FIRST_NAME>
    r"|\bX{3,}\b"  # XXX
    r"|\bTBD\b|\bTODO\b|\bINSERT\b",
    re.DOTALL,
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
    """True when the text states or offers prices, discounts, credits, free periods or terms.

    Naming the topic is fine in a deferral ("the rep will follow up on pricing") or a report.
    """
    return commercial_promise(_text(text, "mentions_pricing"))


def outreach_to(text: Any, name: Any) -> bool:
    """True when the text proposes contacting `name` ("email Dana") or is addressed to them."""
    if name is None:
        return False
    return proposes_outreach(_text(text, "outreach_to"), _text(name, "outreach_to"))


def opted_out_names(record: Any) -> list[str]:
    """Names and emails of the opted-out contacts of a record (itself and related contacts)."""
    return opted_out_people(record)


SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


def late_stage(stage: Any) -> bool:
    """True for decisionmakerboughtin, contractsent and their equivalents (any spelling)."""
    return stage_key(stage) in LATE_STAGES


def stage_norm_days(stage: Any) -> int:
    """Days a deal normally spends in `stage` before it counts as stalled."""
    return STAGE_NORM_DAYS.get(stage_key(stage), DEFAULT_NORM_DAYS)


def severity_at_least(severity: Any, minimum: Any) -> bool:
    """True when `severity` (low/medium/high) is at least `minimum`."""
    have = SEVERITY_RANK.get(_text(severity, "severity_at_least"), 0)
    return have >= SEVERITY_RANK[_text(minimum, "severity_at_least")]


def _moment(value: Any, function: str) -> dt.datetime:
    text = _text(value, function)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{function}() expects an ISO date or timestamp, got {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def days_between(start: Any, end: Any) -> int:
    """Whole days from `start` to `end` (ISO dates or timestamps); negative if `end` is earlier."""
    delta = _moment(end, "days_between") - _moment(start, "days_between")
    return delta.days


def _date(value: Any, function: str) -> dt.date:
    text = _text(value, function)
    try:
        # Timestamps are accepted too: only their calendar date counts.
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ValueError(f"{function}() expects a YYYY-MM-DD date, got {text!r}") from exc


def business_days_between(start: Any, end: Any) -> int:
    """Business days (Mon-Fri) from `start` to `end`: counted after `start` up to and including
    `end`; when `end` is earlier, minus the business days from `end` up to `start`, and never
    0: a date in the past is in the past even when only a weekend lies between."""
    first = _date(start, "business_days_between")
    last = _date(end, "business_days_between")
    if last < first:
        return -max(1, _weekdays(last, first))
    return _weekdays(first + dt.timedelta(days=1), last + dt.timedelta(days=1))


def _weekdays(begin: dt.date, stop: dt.date) -> int:
    """Mon-Fri days in [begin, stop), in constant time (long spans cost nothing more)."""
    days = (stop - begin).days
    weeks, rest = divmod(max(days, 0), 7)
    count = weeks * 5
    for offset in range(rest):
        if (begin.weekday() + offset) % 7 < 5:
            count += 1
    return count


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
    "outreach_to": outreach_to,
    "opted_out_names": opted_out_names,
    "late_stage": late_stage,
    "stage_norm_days": stage_norm_days,
    "severity_at_least": severity_at_least,
    "days_between": days_between,
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
        if isinstance(value, list):
            return celtypes.ListType([celtypes.StringType(item) for item in value])
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
    "outreach_to": (("string", "string"), "bool"),
    "opted_out_names": (("dyn",), "list"),
    "late_stage": (("string",), "bool"),
    "stage_norm_days": (("string",), "int"),
    "severity_at_least": (("string", "string"), "bool"),
    "days_between": (("string", "string"), "int"),
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
