"""What a record document can support: its numbers, moments and interactions. Pure Python.

Built once per verification by walking the record document: every numeric field, every number
written in its text (notes, subjects, names), every timestamp or date (activities carry their
kind), and counts of what the record holds (activities by kind, contacts, deals).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from salesops.skills.context import parse_timestamp, to_utc
from salesops.verify.claims_text import Number, all_numbers, codes_masked, masked, normal

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?$")
_DIGIT = re.compile(r"\d")
# Contact details and references: their digits are not facts a result could state.
_NOT_FACTS = frozenset({"id", "email", "phone", "domain", "owner", "currency"})
_BOUNDARY = timedelta(hours=3)  # a moment this close to midnight may fall on either day


@dataclass(frozen=True)
class Moment:
    """Something that happened (or will) at a time: an activity, or a dated record field."""

    kind: str | None  # activity kind (meeting, call, email, note, task); None for a field
    days: frozenset[int]  # whole days before now it may be called (negative: in the future)
    weekdays: frozenset[int]  # 0 = Monday
    dates: frozenset[date]
    hours: float  # hours before now
    ai: bool = False


@dataclass
class Facts:
    """The supporting facts of one record document at one `now`."""

    now: datetime
    numbers: list[tuple[float, str]] = field(default_factory=list)  # (value, field name)
    percents: list[float] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    text: str = ""  # every record string, normalised, for quotes

    def values(self, keys: Iterable[str] = ()) -> list[float]:
        """Numbers of the record, only from fields whose name contains one of `keys` if given."""
        wanted = tuple(keys)
        return [v for v, k in self.numbers if not wanted or any(w in k for w in wanted)]

    def past(self, kinds: Iterable[str] | None = None) -> list[Moment]:
        """Moments that already happened, of the given activity kinds (any when None)."""
        allowed = set(kinds) if kinds is not None else None
        return [
            m
            for m in self.moments
            if m.hours >= -1 and (allowed is None or m.kind in allowed) and not m.ai
        ]


def _moment(when: datetime | date, now: datetime, kind: str | None, ai: bool) -> Moment:
    """A Moment with every day count and weekday a careful writer could use for it."""
    if isinstance(when, datetime):
        moment = to_utc(when)
        elapsed = (now - moment).total_seconds() / 86400
        days = {math.floor(elapsed), math.ceil(elapsed), (now.date() - moment.date()).days}
        near = (moment - _BOUNDARY, moment, moment + _BOUNDARY)
        weekdays = {m.weekday() for m in near}
        dates = {m.date() for m in near}
        hours = elapsed * 24
    else:
        days = {(now.date() - when).days}
        weekdays, dates = {when.weekday()}, {when}
        hours = (now - datetime(when.year, when.month, when.day, tzinfo=now.tzinfo)).days * 24.0
    return Moment(kind, frozenset(days), frozenset(weekdays), frozenset(dates), hours, ai)


def _when(value: str) -> datetime | date | None:
    """A record string as a datetime (timestamps) or a date (dates); None for other text."""
    if not _ISO.match(value):
        return None
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return parse_timestamp(value)


@lru_cache(maxsize=8192)
def _text_numbers(value: str) -> tuple[tuple[float, bool], ...]:
    """(value, is a percentage) of every number in a record string; cached, as the same
    company, contact and activity texts come back in run after run."""
    # Text without digits can only hold number words; masks only ever remove digits.
    text = codes_masked(masked(value, "")) if _DIGIT.search(value) else value
    return tuple((n.value, n.percent) for n in all_numbers(text))


class _Builder:
    def __init__(self, now: datetime) -> None:
        self.facts = Facts(now=to_utc(now))
        self.texts: list[str] = []

    def number(self, value: float, key: str, fraction: bool = False) -> None:
        self.facts.numbers.append((value, key))
        if value < 0:  # days_to_close -3 is "3 days overdue"
            self.facts.numbers.append((-value, key))
        if fraction and 0 < value <= 1:
            self.facts.percents.append(value * 100)  # probability 0.6 is "60%"
        elif any(w in key for w in ("probability", "percent", "rate")):
            self.facts.percents.append(value)

    def string(self, value: str, key: str, kind: str | None = None, ai: bool = False) -> None:
        when = _when(value.strip())
        if when is not None:
            self.facts.moments.append(_moment(when, self.facts.now, kind, ai))
            return
        self.texts.append(value)
        for number, percent in _text_numbers(value):
            if percent:
                self.facts.percents.append(number)
            self.facts.numbers.append((number, f"text:{key}"))

    def activity(self, item: Mapping[str, Any]) -> None:
        kind = str(item.get("kind") or "") or None
        ai = bool(item.get("ai_generated"))
        self.facts.counts[f"kind:{kind}"] = self.facts.counts.get(f"kind:{kind}", 0) + 1
        self.facts.counts["activities"] = self.facts.counts.get("activities", 0) + 1
        for key, value in item.items():
            if key == "timestamp" and isinstance(value, str):
                self.string(value, "timestamp", kind, ai)
            elif key != "id":
                self.walk(value, key)

    def walk(self, node: Any, key: str) -> None:
        if isinstance(node, bool) or node is None:
            return
        if isinstance(node, int | float):
            self.number(float(node), key, fraction=isinstance(node, float))
        elif isinstance(node, str):
            if key not in _NOT_FACTS:
                self.string(node, key)
        elif isinstance(node, Mapping):
            for child_key, child in node.items():
                self.walk(child, str(child_key))
        elif isinstance(node, list):
            if key in ("contacts", "deals"):
                self.facts.counts[key] = len(node)
            for item in node:
                if key == "activities" and isinstance(item, Mapping):
                    self.activity(item)
                else:
                    self.walk(item, key)


def facts_build(record: Mapping[str, Any], now: datetime) -> Facts:
    """Index a record document for claim checks."""
    builder = _Builder(now)
    builder.walk(record, "")
    builder.facts.text = normal("\n".join(builder.texts))
    return builder.facts


def matches(claim: Number, values: Iterable[float], hedged: bool = False) -> bool:
    """True when a record value rounds to the claimed number ("about 450" ~ 448, "64k" ~ 64000)."""
    slack = claim.unit / 2
    if hedged:
        slack = max(slack, abs(claim.value) * 0.1)
    return any(abs(v - claim.value) <= slack + 1e-9 for v in values)
