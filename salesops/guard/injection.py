"""Detect CRM text that carries instructions to the AI (prompt injection). Pure Python.

One detector for every consumer: `record_document_build` marks its findings in the document the
engines see, the offline skills keep such text out of their evidence, and the verifier fails a
result that obeys it (salesops/verify/injection.py). What counts is in docs/injection-guard.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from salesops.guard import asks as a
from salesops.guard import patterns as p
from salesops.guard.values import REJECT

AskValue = str | int | float | None
DOCUMENT_KEY = "untrusted_instructions"


@dataclass(frozen=True)
class Ask:
    """One thing a text asks the AI to do: a kind and, when the text names one, a target value."""

    kind: str
    value: AskValue = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}

    def describe(self) -> str:
        return self.kind if self.value is None else f"{self.kind}={self.value}"


@dataclass(frozen=True)
class Finding:
    """Instructions found in one text field of a record document."""

    path: str  # the field: "activities.a-0044.body", "next_step", "contacts.c-9.job_title"
    source: str  # what the field belongs to: "activities.a-0044", or the path itself
    text: str  # the sentences that carry the instructions
    asks: tuple[Ask, ...]

    def as_dict(self) -> dict[str, Any]:
        """The entry the record document carries (JSON-serialisable)."""
        return {"path": self.path, "text": self.text, "asks": [a.as_dict() for a in self.asks]}

    @property
    def label(self) -> str:
        """How a human names the source: the item id ("a-0044") or the field path."""
        return self.source.split(".", 1)[-1] if self.source != self.path else self.path


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))
_PUNCTUATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.M)
_TEXT_LIMIT = 400


def normalise(text: str) -> str:
    """Fold width and compatibility forms, drop invisible characters, straighten punctuation."""
    if text.isascii():
        return text  # nothing to fold; most CRM text takes this path
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_PUNCTUATION)


def _imperative(text: str, start: int) -> bool:
    """True when the verb at `start` reads as a command, not as part of a statement or a no."""
    before = text[max(0, start - 30) : start]
    return bool(p.COMMAND_POSITION.search(before)) and not p.NEGATED.search(before)


def _value(match: re.Match[str], rule: p.Rule, shown: str) -> AskValue:
    """The rule's value from the first group that matched, read from the text as written."""
    group = next((i for i, g in enumerate(match.groups(), 1) if g), 0)
    raw = shown[match.start(group) : match.end(group)] if group else ""
    value: Any = rule.convert(raw) if rule.convert is not None else (raw or None)
    return value


def _field_asks(lowered: str, shown: str, words: set[str]) -> Iterator[tuple[Ask, tuple[int, int]]]:
    for rule in a.FIELD_ASKS:
        if not rule.applies(lowered, words):
            continue
        position = 0
        while (match := rule.pattern.search(lowered, position)) is not None:
            # A statement verb ("we will update") may precede a command in the same clause.
            position = match.start() + 1
            if not _imperative(lowered, match.start()):
                continue
            value = _value(match, rule, shown)
            if value is not REJECT:
                yield Ask(rule.kind, value), match.span()
            position = match.end()


def _sentences(text: str, spans: list[tuple[int, int]]) -> str:
    """The sentences of `text` that overlap any span, in order, bounded in length."""
    picked: list[str] = []
    for sentence in _SENTENCE.finditer(text):
        start, end = sentence.span()
        if any(a < end and start < b for a, b in spans) and sentence.group().strip():
            picked.append(sentence.group().strip())
    joined = " ".join(picked)
    return joined if len(joined) <= _TEXT_LIMIT else joined[: _TEXT_LIMIT - 3] + "..."


def _prose(text: str) -> bool:
    """An instruction takes at least three words; ids, dates, enums and names have fewer."""
    return len(text.split(None, 2)) == 3


def scan_text(text: str) -> tuple[str, tuple[Ask, ...]] | None:
    """(matched sentences, asks) when `text` carries instructions to the AI, else None.

    Flagged when it addresses the AI, tells it to drop its rules or reveal them, or commands a
    change to a pipeline value (stage, score, ...); weaker asks only count next to one of those.
    """
    if not text or not _prose(text):
        return None
    clean = normalise(text)
    lowered = clean.lower()
    # Patterns run on the lower-cased text; report what was written when the offsets agree.
    shown = clean if len(clean) == len(lowered) else lowered
    words = set(p.WORD.findall(lowered))
    if a.STRONG_WORDS.isdisjoint(words) and not any(map(lowered.__contains__, a.STRONG_SYMBOLS)):
        return None  # most CRM text: no word any signal or field ask needs
    asks: list[Ask] = []
    spans: list[tuple[int, int]] = []
    for rule in p.SIGNALS:
        if rule.applies(lowered, words):
            for match in rule.pattern.finditer(lowered):
                spans.append(match.span())
                if rule.kind:
                    asks.append(Ask(rule.kind))
    for ask, span in _field_asks(lowered, shown, words):
        spans.append(span)
        asks.append(ask)
    if not spans:
        return None
    for rule in a.WEAK_ASKS:
        if not rule.applies(lowered, words):
            continue
        for match in rule.pattern.finditer(lowered):
            if rule.kind == "tier" and not _imperative(lowered, match.start()):
                continue
            spans.append(match.span())
            asks.append(Ask(rule.kind, _value(match, rule, shown)))
    unique = tuple(dict.fromkeys(asks)) or (Ask("instructions"),)
    return _sentences(shown, sorted(spans)), unique


def _texts(node: Mapping[str, Any], path: str, source: str) -> Iterator[tuple[str, str, str]]:
    """(path, source, text) for every prose string; list items are addressed by their id."""
    for key, value in node.items():
        if key == DOCUMENT_KEY or key == "id":
            continue  # our own marking, and ids, are not CRM prose
        if isinstance(value, str):
            if _prose(value):
                child = f"{path}.{key}" if path else str(key)
                yield child, source or child, value
        elif isinstance(value, Mapping):
            yield from _texts(value, f"{path}.{key}" if path else str(key), source)
        elif isinstance(value, list):
            child = f"{path}.{key}" if path else str(key)
            for item in value:
                if isinstance(item, Mapping) and item.get("id") is not None:
                    item_path = f"{child}.{item['id']}"
                    # An activity is one message: any part of it is tainted. A related record's
                    # other fields (a contact's email beside an injected title) still hold facts.
                    yield from _texts(item, item_path, item_path if child == "activities" else "")


def detect(document: Mapping[str, Any]) -> list[Finding]:
    """Every text field of a record document that carries instructions to the AI."""
    findings: list[Finding] = []
    for path, source, text in _texts(document, "", ""):
        found = scan_text(text)
        if found is not None:
            findings.append(Finding(path, source, found[0], found[1]))
    return findings


def untrusted_activity_ids(document: Mapping[str, Any]) -> set[str]:
    """Ids of activities holding instructions, from the document's marking when it has one."""
    marked = document.get(DOCUMENT_KEY)
    if isinstance(marked, list):
        paths = [str(entry.get("path", "")) for entry in marked if isinstance(entry, Mapping)]
    else:
        paths = [f.path for f in detect(document)]
    ids = {str(a.get("id")) for a in document.get("activities") or [] if isinstance(a, Mapping)}
    return {i for i in ids if any(path.startswith(f"activities.{i}.") for path in paths)}
