"""Reading free text for claim grounding: masks, sentences, numbers and tense. Pure Python.

Masking replaces text that states no fact of its own (record ids, e-mail addresses, links,
alphanumeric codes such as "Q3" or "2nd", quotes copied from the record) by spaces of the same
length, so offsets stay valid and the extractors never see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

WORD_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "dozen": 12, "hundred": 100,
}  # fmt: skip
_UNITS = {"one": 1, **{k: v for k, v in WORD_NUMBERS.items() if v < 10}}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "bn": 1e9,
          "b": 1e9, "billion": 1e9}  # fmt: skip
_WORDS = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
_UNIT_WORDS = "|".join(_UNITS)

# A digit number not glued to letters, ids, times or fractions; optional currency, scale, %.
NUMBER = re.compile(
    r"(?<![\w.:/])(?<![A-Za-z]-)(?P<cur>[$€£]\s?)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:\s?(?P<scale>k|K|mm|MM|m|M|bn|B|thousand|million|billion)\b)?(?P<pct>\s?%|\s?percent\b)?"
    r"(?![\w/:]|\.\d)"
)
WORD_NUMBER = re.compile(rf"\b(?P<word>{_WORDS})(?:-(?P<unit>{_UNIT_WORDS}))?\b", re.I)
# One alternation per phase: a single scan is several times faster than one pass per pattern.
_MASKS = re.compile(
    r"(?i:\b[a-z]{1,3}-\d{1,6}\b)"  # record ids: a-0044, c-032, co-001
    r"|\S+@\S+\.\w+"  # e-mail addresses
    r"|https?://\S+|\b\w+\.(?:com|io|org|net|de|ai)\b(?:/\S*)?"  # links, domains
    r"|\+\d[\d ()-]{7,}\d|\(?\b\d{3}\)?[ -]\d{3}[ -]\d{4}\b"  # phone numbers
)
# Applied after dates are read ("May 2nd" needs its "2nd").
_CODE_MASKS = re.compile(
    # Q3, 2nd, 24h, B2B, v2; not amounts such as 64k or 1.2M
    r"(?<![.,\d])\b(?!\d+(?:k|K|m|M|mm|MM|bn|B)\b)(?=\w*\d)(?=\w*[A-Za-z])\w+\b"
    r"|(?m:^\s*(?:\d{1,2}[.)]|\(\d{1,2}\))\s)"  # list numbering
    r"|(?:#|\b(?i:no)\.\s?)\d+"  # "#2", "No. 3"
)
_QUOTE = re.compile(r"\"([^\"]{4,})\"|“([^”]{4,})”|'([^']{8,})'")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<!\d)[.!?;](?=\s|$)|\n+|(?<=\d)\.(?=\s|$)")

PAST_MARKERS = re.compile(
    r"\b(ago|yesterday|earlier today|last (?:week|month|time|mon|tue|wed|thu|fri|sat|sun)\w*"
    r"|mentioned|said|told|asked|discussed|agreed|shared|explained|met|spoke|talked|chatted"
    r"|walked|thanks?(?: you)?(?: again)? for|since|overdue|passed|was|were|had|did|went|sent"
    r"|received|requested|attended|confirmed|signed|booked|logged|scoped|visited|viewed)\b",
    re.I,
)
FUTURE_MARKERS = re.compile(
    r"\?|\b(next|tomorrow|will|would|could|can we|can you|shall|let's|upcoming|coming|later"
    r"|this week|plan to|propose|within|by|before|until|going to|ahead of)\b|'ll\b",
    re.I,
)


@dataclass(frozen=True)
class Number:
    """A number read from text: its value, the literal's rounding unit and where it stands."""

    value: float
    unit: float  # half of this is the rounding slack of the literal ("450" -> 10, "64k" -> 1000)
    start: int
    end: int
    percent: bool = False
    money: bool = False
    word: bool = False


def blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces (offsets elsewhere stay valid)."""
    return text[:start] + " " * (end - start) + text[end:]


def normal(text: str) -> str:
    """Case-fold and collapse whitespace, for substring tests against record text."""
    return _SPACE.sub(" ", text).strip().casefold()


def _spaces(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def masked(text: str, record_text: str) -> str:
    """`text` with ids, links, phone numbers and quotes copied from the record blanked out."""
    text = _MASKS.sub(_spaces, text)
    for match in _QUOTE.finditer(text):
        quoted = next(g for g in match.groups() if g)
        if normal(quoted) in record_text:  # a quote from the record restates it, nothing new
            text = blank(text, match.start(), match.end())
    return text


def codes_masked(text: str) -> str:
    """`text` with codes ("Q3", "2nd", "24h"), list numbering and "#2" blanked out."""
    return _CODE_MASKS.sub(_spaces, text)


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence or clause ending in . ! ? ; or a line break."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.end()].strip():
            yield start, match.end()
        start = match.end()
    if text[start:].strip():
        yield start, len(text)


def tense(sentence: str) -> str:
    """ "past" when the sentence reports something that happened, "future" for proposals."""
    if PAST_MARKERS.search(sentence):
        return "past"
    return "future" if FUTURE_MARKERS.search(sentence) else "neutral"


def _literal_unit(integer: str, decimals: str | None) -> float:
    """The rounding unit a literal implies: "450" -> 10, "1.2" -> 0.1, "448" -> 1."""
    if decimals:
        return 10.0 ** -len(decimals)
    digits = integer.replace(",", "")
    zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
    return 10.0**zeros


def digit_numbers(text: str) -> Iterator[Number]:
    """Every digit number in text (with currency, scale and percent read)."""
    for m in NUMBER.finditer(text):
        scale = _SCALE.get((m["scale"] or "").lower(), 1.0)
        value = float(m["int"].replace(",", "") + (f".{m['dec']}" if m["dec"] else ""))
        unit = _literal_unit(m["int"], m["dec"]) * scale
        yield Number(value * scale, unit, m.start(), m.end(), bool(m["pct"]), bool(m["cur"]))


def word_numbers(text: str) -> Iterator[Number]:
    """Number words ("two", "forty-five", "a dozen"); "one" and "a" are too common to count."""
    for m in WORD_NUMBER.finditer(text):
        value = WORD_NUMBERS[m["word"].lower()] + _UNITS.get((m["unit"] or "").lower(), 0)
        yield Number(float(value), 1.0, m.start(), m.end(), word=True)


def all_numbers(text: str) -> Iterable[Number]:
    """Digit and word numbers of a text, in no particular order."""
    yield from digit_numbers(text)
    yield from word_numbers(text)
