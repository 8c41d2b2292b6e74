"""Claim grounding: facts stated in a result's free text must be supported by the record.

Pure Python, deterministic. For every free-text field (`texts.free_texts`) it reads:
- numbers, amounts ("$240k", "1.2M"), percentages and head counts: a record field or a number
  written in the record's text must round to them ("about 450" ~ 448, "64k" ~ 64000, "60%" ~
  probability 0.6); counts of things ("2 follow-ups", "3 contacts") may not exceed the record's;
- thresholds and ranges ("over 5,000 employees", "200-2,000"): some record value satisfies them
  (a head count against `employees`); other rule numbers count when the SOP's own text has them;
- times ("6 days ago", "yesterday", "last week", "on Tuesday", "May 2", "3 days overdue"): a
  record moment (activity, timestamp or date field) falls there, +-1 day at day boundaries;
- interactions ("our call", "when we met", "as discussed"): an activity of that kind happened,
  at the stated time when the sentence gives one.
Not claims: proposals ("next Tuesday", "by Friday", "within 24h", "a 30-minute call", "in 2
weeks"), record ids, ordinals and codes ("2nd", "Q3"), years, list numbering, scores and rubric
points ("score 85", "fit 50/50", "norm 21"), 0 and 1, and quotes copied from the record.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from salesops.verify.claims_facts import Facts, facts_build, matches
from salesops.verify.claims_text import (
    Number,
    all_numbers,
    blank,
    codes_masked,
    masked,
    sentences,
    tense,
)
from salesops.verify.claims_time import (
    Reference,
    TimeClaim,
    date_claims,
    kinds_label,
    references,
    time_claims,
)
from salesops.verify.report import CheckOutcome
from salesops.verify.texts import free_texts

_BEFORE = 28  # characters of context read before a number
_SKIP_BEFORE = re.compile(
    r"\b(score[sd]?|scoring|fit|intent|points?|norm|threshold|limit|cap|target|benchmark"
    r"|max(?:imum)?|min(?:imum)?|quota|step|phase|option|tier|round|version|page|item|part"
    r"|section|question|slide|top|first|last|every|per|each)\s*(?:of\s*)?$",
    re.I,
)
_SKIP_AFTER = re.compile(
    r"^(?:-?\s*(?:points?|pts|minutes?|mins?|hours?|hrs?|seconds?|words?|characters?)\b"
    r"|-(?:day|week|month|year|quarter)s?\b|\s*(?:(?:business |working )?days?|weeks?|months?"
    r"|years?|quarters?)\b)",
    re.I,
)
_HEDGE = re.compile(
    r"\b(about|around|roughly|approximately|approx\.?|nearly|almost|close to|circa|some|~)\s*$",
    re.I,
)
_MORE = re.compile(r"(?:\b(over|above|more than|at least|exceeds?|exceeding|beyond)|[>≥]=?)\s*$")
_LESS = re.compile(r"(?:\b(under|below|less than|fewer than|at most|up to)|[<≤]=?)\s*$")
_MORE_AFTER = re.compile(r"^\s*(?:\+|or more\b|and (?:up|above)\b|or above\b)", re.I)
_LESS_AFTER = re.compile(r"^\s*(?:or (?:fewer|less|below)\b)", re.I)
_ANAPHORA = re.compile(r"\b(the|these|those|both|all)\s+$", re.I)
_RANGE_GAP = re.compile(r"^\s?(?:-|\u2013|to|and)\s?$")  # 200-2,000, 200\u20132,000, 200 to 2,000
_NOUN = re.compile(r"^[\s-]*([A-Za-z][\w'()-]*(?:[ \t]+[A-Za-z][\w'()-]*){0,2})")
_HEAD_COUNT = ("employee", "staff", "headcount", "fte")
_COUNTS: dict[str, tuple[str, ...]] = {
    "meeting": ("kind:meeting", "kind:call"),
    "call": ("kind:call", "kind:meeting"),
    "email": ("kind:email",),
    "follow-up": ("kind:email", "kind:call"),
    "touch": ("kind:email", "kind:call", "kind:meeting"),
    "touchpoint": ("kind:email", "kind:call", "kind:meeting"),
    "attempt": ("kind:email", "kind:call"),
    "note": ("kind:note",),
    "task": ("kind:task",),
    "activit": ("activities",),
    "interaction": ("activities",),
    "contact": ("contacts",),
    "stakeholder": ("contacts",),
    "deal": ("deals",),
    "opportunit": ("deals",),
    "risk": ("result",),
    "signal": ("result",),
    "step": ("result",),
    "reason": ("result",),
}
_CACHE_SIZE = 64
_vocabulary: OrderedDict[int, tuple[Any, frozenset[float]]] = OrderedDict()


def _spec_vocabulary(spec: Any) -> frozenset[float]:
    """Numbers the SOP's own prose uses (thresholds such as 100,000), cached per spec."""
    cached = _vocabulary.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    texts = [getattr(spec, "body", ""), getattr(spec, "description", "")]
    texts += [getattr(f, "body", "") for f in getattr(spec, "fragments", ())]
    texts += [c.message for c in (*spec.acceptance, *spec.escalate_when)]
    found = frozenset(n.value for t in texts for n in all_numbers(codes_masked(t or "")))
    _vocabulary[id(spec)] = (spec, found)
    if len(_vocabulary) > _CACHE_SIZE:
        _vocabulary.popitem(last=False)
    return found


def _list_sizes(node: Any) -> Iterator[int]:
    """Lengths of every list in the result (risks, next steps ...), for "2 other risks"."""
    if isinstance(node, list):
        yield len(node)
        for item in node:
            yield from _list_sizes(item)
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _list_sizes(value)


class _Checker:
    """Checks the sentences of one result against one record's facts."""

    def __init__(self, facts: Facts, vocabulary: frozenset[float], result: Any) -> None:
        self.facts = facts
        self.vocabulary = vocabulary
        self.counts = dict(facts.counts)
        self.counts["result"] = max(_list_sizes(result), default=0)

    # -- numbers -------------------------------------------------------------------------
    def _count_limit(self, noun: str) -> int | None:
        if not noun.endswith(("s", "(s)")):
            return None  # "a 64,000 deal" sizes one thing; "3 deals" counts
        for stem, keys in _COUNTS.items():
            if noun.lower().startswith(stem):
                return sum(self.counts.get(k, 0) for k in keys)
        return None

    def _number_problem(self, number: Number, sentence: str, noun: str) -> str | None:
        """Why a number is not supported, or None (also None when it is not a claim)."""
        before = sentence[max(0, number.start - _BEFORE) : number.start]
        after = sentence[number.end : number.end + 24]
        if _SKIP_BEFORE.search(before) or _SKIP_AFTER.match(after):
            return None
        plain = not (number.percent or number.money)
        year = 1900 <= number.value <= 2100 and number.unit == 1
        if plain and (number.value in (0, 1) or year):
            return None  # too common to be a fact; a year names a thing ("the 2024 report")
        head_count = noun.lower().startswith(_HEAD_COUNT)
        values = self.facts.values(("employees",)) if head_count else self.facts.values()
        more, less = _MORE.search(before), _LESS.search(before)
        if more or _MORE_AFTER.match(after):
            ok = any(v >= number.value for v in values)
            return None if ok or self._vocabulary_ok(number, head_count) else "more"
        if less or _LESS_AFTER.match(after):
            ok = any(0 < v <= number.value for v in values)
            return None if ok or self._vocabulary_ok(number, head_count) else "less"
        if number.percent:
            return None if matches(number, self.facts.percents, self._hedged(before)) else "pct"
        hedged = self._hedged(before)
        limit = None if head_count or number.money else self._count_limit(noun)
        if limit is not None:
            # "3 contacts" counts what the record holds, unless its text says so ("3 regions").
            if number.value <= limit or matches(number, self.facts.values(("text:",)), hedged):
                return None
            return "count"
        return None if matches(number, values, hedged) else "number"

    def _vocabulary_ok(self, number: Number, head_count: bool) -> bool:
        # A head count is a fact about this company; the SOP quoting one does not support it.
        return not head_count and number.value in self.vocabulary

    @staticmethod
    def _hedged(before: str) -> bool:
        return bool(_HEDGE.search(before))

    def _range_problem(self, low: Number, high: Number, noun: str) -> str | None:
        head_count = noun.lower().startswith(_HEAD_COUNT)
        values = self.facts.values(("employees",)) if head_count else self.facts.values()
        if any(low.value <= v <= high.value for v in values):
            return None
        if not head_count and {low.value, high.value} <= self.vocabulary:
            return None
        return "range"

    def number_problems(self, sentence: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, reason) for each unsupported number in a sentence."""
        numbers = sorted(all_numbers(sentence), key=lambda n: n.start)
        skip: set[int] = set()
        for index, number in enumerate(numbers):
            if index in skip:
                continue
            following = numbers[index + 1] if index + 1 < len(numbers) else None
            end = following.end if following else number.end
            gap = sentence[number.end : following.start] if following else ""
            if following and _RANGE_GAP.match(gap):
                skip.add(index + 1)
                noun, noun_end = _noun_after(sentence, end)
                problem = self._range_problem(number, following, noun)
                if problem:
                    yield number.start, noun_end, problem
                continue
            noun, noun_end = _noun_after(sentence, number.end)
            alone = noun_end == number.end or _ANAPHORA.search(sentence[: number.start])
            if number.word and alone:
                continue  # "a week or two", "the two records": no new quantity is stated
            problem = self._number_problem(number, sentence, noun)
            if problem:
                yield number.start, noun_end, problem

    # -- time and interactions ------------------------------------------------------------
    def time_problem(self, claim: TimeClaim, refs: list[Reference]) -> str | None:
        kinds = tuple(dict.fromkeys(k for r in refs for k in r.kinds)) or None
        if any(claim.test(m) for m in self.facts.past(kinds) + self._future(kinds)):
            return None
        if kinds:
            return f"no {kinds_label(kinds)} {claim.describe} in the record"
        return f"nothing in the record happened {claim.describe}"

    def _future(self, kinds: tuple[str, ...] | None) -> list[Any]:
        # Future record dates (close date in 5 weeks) count only when no interaction is named.
        return [] if kinds else [m for m in self.facts.moments if m.hours < -1]

    def reference_problem(self, ref: Reference) -> str | None:
        if self.facts.past(ref.kinds):
            return None
        return f"the record shows no {kinds_label(ref.kinds)} that happened"


def _noun_after(sentence: str, end: int) -> tuple[str, int]:
    """The word a number counts ("40 regional sales managers" -> managers) and where it ends."""
    match = _NOUN.match(sentence[end:])
    if not match:
        return "", end
    words = match.group(1).split()
    for offset, word in enumerate(words):
        bare = word.strip("()").lower()
        if any(bare.startswith(stem) for stem in (*_COUNTS, *_HEAD_COUNT)):
            span = " ".join(words[: offset + 1])
            return bare, end + sentence[end:].index(span) + len(span)
    first = words[0]
    return "", end + sentence[end:].index(first) + len(first)


_NUMBER_REASONS = {
    "number": "the record has no such number",
    "pct": "the record has no such percentage",
    "count": "the record holds fewer",
    "more": "no record value is that high",
    "less": "no record value is that low",
    "range": "no record value is in that range",
}


def _phrase(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].split())


def _sentence_problems(checker: _Checker, text: str, start: int, end: int) -> Iterator[str]:
    """Unsupported phrases of one sentence of `text` (already masked), as message parts."""
    sentence = text[start:end]
    mood = tense(sentence)
    refs = [] if mood == "future" else references(sentence, past=mood == "past")
    now = checker.facts.now
    times, spans = date_claims(sentence, mood, now)
    for lo, hi in spans:
        sentence = blank(sentence, lo, hi)
    sentence = codes_masked(sentence)
    relative = time_claims(sentence, mood, bool(refs), now)
    for claim in relative:
        sentence = blank(sentence, claim.start, claim.end)
    for claim in (*times, *relative):
        problem = checker.time_problem(claim, refs)
        if problem:
            # Quote the time with the interaction nearest to it ("our call on Tuesday").
            near = min(refs, key=lambda r: abs(r.start - claim.start), default=None)
            lo = min(claim.start, near.start) if near else claim.start
            hi = max(claim.end, near.end) if near else claim.end
            yield f'"{_phrase(text, start + lo, start + hi)}" but {problem}'
    if not (times or relative):
        for ref in refs:
            problem = checker.reference_problem(ref)
            if problem:
                yield f'"{_phrase(text, start + ref.start, start + ref.end)}" but {problem}'
    for lo, hi, reason in checker.number_problems(sentence):
        yield f'"{_phrase(text, start + lo, start + hi)}" but {_NUMBER_REASONS[reason]}'


def _text_problems(checker: _Checker, path: str, text: str) -> Iterator[str]:
    clean = masked(text, checker.facts.text)
    for start, end in sentences(clean):
        for problem in _sentence_problems(checker, clean, start, end):
            yield f"{path} says {problem}"


def claims_problems(
    spec: Any, result: Any, record: Mapping[str, Any], *, now: datetime
) -> list[str]:
    """Every unsupported phrase of the result's free text, as "<path> says "<phrase>" but ..."."""
    checker = _Checker(facts_build(record, now), _spec_vocabulary(spec), result)
    texts: Iterable[tuple[str, str]] = free_texts(spec.output, result)
    return [problem for path, text in texts for problem in _text_problems(checker, path, text)]


def claims_check(
    spec: Any, result: Any, record: Mapping[str, Any], *, now: datetime
) -> CheckOutcome:
    """One "claims" outcome for a result: failed, listing every unsupported phrase, or passed."""
    problems = claims_problems(spec, result, record, now=now)
    if problems:
        return CheckOutcome("claims", "claims", "failed", "claims: " + "; ".join(problems))
    return CheckOutcome("claims", "claims", "passed", "every stated fact holds against the record")
