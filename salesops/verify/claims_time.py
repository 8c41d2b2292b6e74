"""Time and interaction claims in one sentence: "met on Tuesday", "6 days ago", "our call".

Pure Python. Each finder returns claims with a predicate over the record's Moments; the caller
pairs time claims with the interactions named in the same sentence. Forward-looking phrases
("next Tuesday", "by Friday", "within 24h", "in 2 weeks", "a 30-minute call") are not claims.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from salesops.verify.claims_facts import Moment
from salesops.verify.claims_text import WORD_NUMBERS

Test = Callable[[Moment], bool]

_N = rf"(?P<n>\d+|an?|{'|'.join(WORD_NUMBERS)})"
_UNIT = r"(?P<unit>hours?|(?:business |working )?days?|weeks?|months?|years?)"
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:T[\d:.]+Z?)?\b"),
    re.compile(rf"\b(?:{'|'.join(_DAY_NAMES)}),?\s+{_MONTH}\s+{_DAY}{_YEAR}\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY}{_YEAR}\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}\b"),
)
RECORD_DATE_NOUN = re.compile(
    r"\b(close date|closing|closes|renewal|renews|deadline|due|expir\w+|contract end|go-live)\b",
    re.I,
)
_AGO = re.compile(
    rf"\b(?:(?:in|within|over|during) the (?P<window>last|past) )?{_N}\s+{_UNIT}"
    r"(?:\s+(?P<rel>ago|overdue|late|past|since|without|in (?:the )?stage))?\b",
    re.I,
)
_FOR = re.compile(r"\bfor\s+(?:the\s+(?:last|past)\s+)?$", re.I)
_NOT_A_CLAIM_BEFORE = re.compile(
    r"(?:\b(?:within|next|every|per|each|another|up to|at least|at most|a|an)|-)\s*$", re.I
)
_IN_FUTURE = re.compile(r"\bin\s*$", re.I)
_WEEKDAY = re.compile(
    r"\b(?:(?P<pre>last|next|this|coming|by|until|before|every|each|following|on or before)\s+)?"
    rf"(?:on\s+)?(?P<day>{'|'.join(_DAY_NAMES)})(?P<poss>'s)?\b"
)
_RELATIVE_DAY = re.compile(
    r"\b(?P<word>yesterday(?:'s)?|earlier today|today's|today|this (?:morning|afternoon)"
    r"|last week(?:'s)?|last month(?:'s)?)\b",
    re.I,
)

MEETING = ("meeting", "call")
ANY_TALK = ("meeting", "call", "email", "note")
_NOUNS = (
    r"(?P<noun>phone call|calls?|meetings?|conversations?|chat|discussion|demo|session|catch-up"
    r"|sync|walkthrough|workshop|emails?|reply|message|voicemail)"
    # "your demo request", "your email address" name a thing, not an interaction
    r"(?![\w-]*\s+(?:request|form|link|recording|address|invite|invitation|page|video|opt-out"
    r"|template|signature))"
)
_REFS: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...] = (
    (re.compile(
        r"\b(?:our|your|my|today's|yesterday's|last week's|this morning's"
        rf"|(?:{'|'.join(_DAY_NAMES)})'s)\s+(?:[\w-]+\s+){{0,2}}?{_NOUNS}\b", re.I), None),
    (re.compile(rf"\b(?:after|during|from|following|since)\s+the\s+"
                rf"(?:[\w-]+\s+){{0,2}}?{_NOUNS}\b", re.I), None),
    (re.compile(r"\b(?:(?:we|I)\s+)?(?:met|spoke|talked|chatted|caught up)\b"
                r"|\bmeet(?:ing)? with (?:us|me)\b|\bspeaking with (?:me|us)\b"
                r"|\bwalking (?:me|us) through\b", re.I), MEETING),
    (re.compile(r"\bas (?:we )?(?:discussed|agreed)\b"
                r"|\byou (?:mentioned|said|told|asked|shared|explained)\b", re.I), ANY_TALK),
    (re.compile(r"\bthe email I sent\b|\b(?:emailed|e-mailed|wrote to (?:us|me))\b", re.I),
     ("email",)),
    (re.compile(r"\b(?:called|phoned|rang)\b", re.I), ("call", "meeting")),
    (re.compile(r"\btried to reach you\b|\bleft (?:you )?a voicemail\b", re.I), ("call",)),
)  # fmt: skip
# "on the demo", "in the meeting" may be ahead ("wants her boss on the demo"): past sentences only.
_PAST_ONLY_REFS = re.compile(rf"\b(?:in|at|on)\s+the\s+(?:[\w-]+\s+){{0,2}}?{_NOUNS}\b", re.I)
# In person: a call cannot be a workshop or a visit.
_IN_PERSON = re.compile(r"\b(?:on-?site|in[- ]person|workshop|visit|lunch|dinner)\b", re.I)
_NOUN_KINDS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "reply": ("email",),
    "message": ("email",),
}
_NOUN_KINDS["voicemail"] = ("call",)
# An e-mail thread is a conversation too; a call or a meeting is not an e-mail.
_NOUN_KINDS["conversation"] = _NOUN_KINDS["discussion"] = ("call", "meeting", "email")


@dataclass(frozen=True)
class TimeClaim:
    """A phrase placing something in time, with the test a Moment must pass to support it."""

    start: int
    end: int
    test: Test
    describe: str  # how the message names the time: "on a Tuesday", "6 days ago"


@dataclass(frozen=True)
class Reference:
    """A phrase saying an interaction happened ("our call", "when we met")."""

    start: int
    end: int
    kinds: tuple[str, ...]


def kinds_label(kinds: tuple[str, ...]) -> str:
    """How a message names the interaction kinds: "call or meeting"."""
    return " or ".join(kinds) if len(kinds) < 3 else "interaction"


def references(sentence: str, past: bool) -> list[Reference]:
    """Interactions the sentence says happened; a vague "as discussed" only when nothing more
    specific ("our call") is named, so it cannot widen what the specific one allows."""
    found = list(_references(sentence))
    if past:
        found += [
            Reference(m.start(), m.end(), _kinds(m)) for m in _PAST_ONLY_REFS.finditer(sentence)
        ]
    specific = [r for r in found if r.kinds != ANY_TALK]
    return specific or found


def _kinds(match: re.Match[str], kinds: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The activity kinds that can support a matched interaction phrase."""
    if _IN_PERSON.search(match.group(0)):
        return ("meeting",)
    noun = (match.groupdict().get("noun") or "").lower().rstrip("s")
    return kinds or _NOUN_KINDS.get(noun) or (("call", "meeting") if "call" in noun else MEETING)


def _references(sentence: str) -> Iterator[Reference]:
    for pattern, kinds in _REFS:
        for m in pattern.finditer(sentence):
            yield Reference(m.start(), m.end(), _kinds(m, kinds))


def _count(word: str) -> int:
    word = word.lower()
    return 1 if word in ("a", "an") else int(word) if word.isdigit() else WORD_NUMBERS[word]


def _days_range(n: int, unit: str) -> tuple[int, int]:
    """The day counts that "n <unit>" may stand for, with rounding slack."""
    if unit.startswith(("business", "working")):
        return n, n + 4 + 2 * (n // 5)
    if unit.startswith("day"):
        return n, n
    if unit.startswith("week"):
        return 7 * n - 3, 7 * n + 6
    if unit.startswith("month"):
        return 30 * n - 10, 30 * n + 15
    return 365 * n - 60, 365 * n + 90


def _on_weekday(index: int, low: int, high: int) -> Test:
    """A moment on weekday `index` (0 = Monday), between `low` and `high` days ago."""
    within = _within(low, high)
    return lambda moment: index in moment.weekdays and within(moment)


def _on_date(claimed: date, exact: bool) -> Test:
    """A moment on `claimed` (or on its month and day, when the text gave no year)."""
    return lambda moment: any(
        d == claimed if exact else (d.month, d.day) == (claimed.month, claimed.day)
        for d in moment.dates
    )


def _within(low: int, high: int, sign: int = 1) -> Test:
    return lambda m: any(low <= sign * d <= high for d in m.days)


def _amount_claim(m: re.Match[str], sentence: str, future: bool) -> TimeClaim | None:
    """ "6 days ago", "for 41 days", "in the last 14 days", "in 5 weeks" (to a record date)."""
    n, unit, rel = _count(m["n"]), m["unit"].lower(), (m["rel"] or "").lower()
    before = sentence[: m.start()]
    span = f"{m['n']} {m['unit']}"
    phrase = f"{span} ago"
    if unit.startswith("hour"):
        if rel != "ago":
            return None  # "a 2-hour workshop", "within 24 hours": durations of proposals
        return TimeClaim(m.start(), m.end(), lambda mo: abs(mo.hours - n) <= 2 + n / 4, phrase)
    if m["window"]:
        return TimeClaim(m.start(), m.end(), _within(0, n + 1), f"in the last {span}")
    if m["n"].lower() in ("a", "an") and rel != "ago":
        return None  # "a day earlier", "a week in stage": too vague to hold anyone to
    if _NOT_A_CLAIM_BEFORE.search(before) or sentence[m.end() : m.end() + 1] == "-":
        return None
    low, high = _days_range(n, unit)
    if _IN_FUTURE.search(before) and not rel:
        if not RECORD_DATE_NOUN.search(sentence):
            return None  # "talk again in 2 weeks" proposes; "closes in 5 weeks" states
        return TimeClaim(m.start(), m.end(), _within(low - 1, high + 1, -1), f"in {span}")
    if not rel and not _FOR.search(before):
        return None  # a bare "3 weeks" says nothing about when
    if future and rel not in ("ago", "overdue"):
        return None
    return TimeClaim(m.start(), m.end(), _within(low - 1, high + 1), phrase)


def _relative_day(word: str, now: datetime) -> tuple[Test, str]:
    word = word.lower().removesuffix("'s")
    if word == "yesterday":
        return _within(1, 1), "yesterday"
    if word in ("earlier today", "today", "this morning", "this afternoon"):
        return _within(0, 0), "today"
    if word == "last week":
        start = now.date() - timedelta(days=now.weekday() + 7)
        return (
            lambda m: _within(5, 14)(m) or any(start <= d < start + timedelta(7) for d in m.dates),
            "last week",
        )
    return _within(20, 62), "last month"


def time_claims(sentence: str, tense: str, has_reference: bool, now: datetime) -> list[TimeClaim]:
    """Claims about when something happened in one sentence (proposals are left out)."""
    claims: list[TimeClaim] = []
    future = tense == "future"
    for m in _AGO.finditer(sentence):
        claim = _amount_claim(m, sentence, future)
        if claim:
            claims.append(claim)
    for m in _RELATIVE_DAY.finditer(sentence):
        word = m["word"].lower()
        plain_today = word in ("today", "this morning", "this afternoon")
        if plain_today and (tense != "past" and not has_reference):
            continue  # "call her today" proposes
        if future and not word.startswith(("yesterday", "last", "earlier")):
            continue
        test, describe = _relative_day(word, now)
        claims.append(TimeClaim(m.start(), m.end(), test, describe))
    for m in _WEEKDAY.finditer(sentence):
        pre = (m["pre"] or "").lower()
        index = _DAY_NAMES.index(m["day"])
        if pre == "last":
            window = (1, 13)
        elif pre or future or not (tense == "past" or has_reference or m["poss"]):
            continue
        else:
            window = (0, 7)
        low, high = window
        claims.append(TimeClaim(
            m.start(), m.end(),
            _on_weekday(index, low, high),
            f"on a {m['day']}",
        ))  # fmt: skip
    return claims


def _month(text: str) -> int:
    return _MONTHS[text[:3].lower()]


def date_claims(
    sentence: str, tense: str, now: datetime
) -> tuple[list[TimeClaim], list[tuple[int, int]]]:
    """Explicit calendar dates ("May 2", "2026-05-02") as claims (future ones only about a
    record date), and the spans of every date found, claim or not."""
    claims: list[TimeClaim] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATES:
        for m in pattern.finditer(sentence):
            if any(s <= m.start() < e for s, e in taken):
                continue
            groups = m.groupdict()
            try:
                month = int(groups["month"]) if groups.get("month") else _month(groups["mon"])
                day, year = int(groups["day"]), groups.get("year")
                claimed = date(int(year) if year else now.year, month, day)
            except (ValueError, KeyError):
                continue
            taken.append((m.start(), m.end()))
            if claimed > now.date() and not RECORD_DATE_NOUN.search(sentence):
                continue  # a proposed date ("shall we meet on July 2?")
            if claimed <= now.date() and tense == "future":
                continue
            exact = year is not None
            claims.append(TimeClaim(
                m.start(), m.end(),
                _on_date(claimed, exact),
                f"on {m.group(0)}",
            ))  # fmt: skip
    return claims, taken
