"""A run's result laid out as the SOP's fields, read from its output schema. Pure Python.

Generic over any SOP: the JSON Schema gives labels, order and which fields are headline values;
the shape of the value picks the block (an email card, a list, items with their evidence).
Evidence items are checked against the record with the verifier's own grounding rules, so a
reviewer sees the cited value beside what the record holds. Any JSON renders: what the schema
does not describe falls back to a labelled value or a JSON block, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from salesops.skills.context import document_path_get
from salesops.verify.grounding import value_matches

BlockKind = Literal["value", "text", "email", "list", "items", "object", "evidence", "json"]

# Enum values a sales reader takes as good / caution / bad news, whatever the SOP.
_TONES = {
    "good": {"green", "a", "low", "passed", "commit", "call_within_24h"},
    "warn": {"amber", "b", "medium", "best_case"},
    "bad": {"red", "c", "high", "disqualified", "failed", "omitted"},
}
_SHORT_TEXT = 90  # longer strings read as a paragraph, not a value


@dataclass(frozen=True)
class Evidence:
    """One evidence item: the claim, the record path it cites, the cited and the actual value."""

    claim: str
    path: str
    cited: str
    actual: str = ""
    found: bool = False
    holds: bool = False


@dataclass
class Block:
    """One field of a result, typed by how it reads (see BlockKind)."""

    kind: BlockKind
    key: str
    label: str
    display: str = ""  # value, text and json blocks
    tone: str = ""  # good | warn | bad | "" (value blocks)
    badge: bool = False  # a classification or number (an enum, a score): a headline or chip
    help: str = ""  # the schema's description
    children: list[Block] = field(default_factory=list)  # object fields, or items (objects)
    entries: list[str] = field(default_factory=list)  # list of strings
    evidence: list[Evidence] = field(default_factory=list)
    subject: str = ""  # email
    body: str = ""  # email
    to: str = ""  # email: the record's name and address, when it has them

    @property
    def inline(self) -> list[Block]:
        """An item's classifications (type, severity), shown as chips above its text."""
        return [c for c in self.children if c.badge]

    @property
    def rest(self) -> list[Block]:
        return [c for c in self.children if not c.badge]


@dataclass
class ResultView:
    """A result as headline values (score, tier, health, ...) and the blocks below them."""

    headline: list[Block]
    blocks: list[Block]
    raw: str  # the result as indented JSON, for the collapsed raw view
    empty: bool = False


def result_view(
    schema: Mapping[str, Any] | None, result: Any, record: Mapping[str, Any] | None = None
) -> ResultView:
    """Lay out `result` by the SOP's output `schema`; `record` grounds evidence items."""
    raw = json.dumps(result, indent=2, ensure_ascii=False, default=str)
    record = record if isinstance(record, Mapping) else {}
    schema = schema if isinstance(schema, Mapping) else {}
    if result is None:
        return ResultView(headline=[], blocks=[], raw=raw, empty=True)
    if not isinstance(result, Mapping):
        return ResultView(headline=[], blocks=[_block("result", schema, result, record)], raw=raw)
    headline, blocks = [], []
    for key, sub, value in _fields(schema, result):
        block = _block(key, sub, value, record)
        if block.badge:
            headline.append(block)
        else:
            blocks.append(block)
    return ResultView(headline=headline, blocks=blocks, raw=raw)


def humanize(key: str) -> str:
    """`forecast_category` -> `Forecast category`."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "-"


def value_text(value: Any) -> str:
    """A scalar as a reader sees it: yes/no, numbers with thousands separators, text as is."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _fields(schema: Mapping[str, Any], result: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, sub-schema, value) in schema order, then keys the schema does not name."""
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    ordered = [k for k in props if k in result] + [k for k in result if k not in props]
    return [(str(k), props.get(k), result[k]) for k in ordered]


def _label(key: str, schema: Any) -> tuple[str, str]:
    if not isinstance(schema, Mapping):
        return humanize(key), ""
    title, description = schema.get("title"), schema.get("description")
    return (
        title if isinstance(title, str) and title else humanize(key),
        description if isinstance(description, str) else "",
    )


def _is_headline(schema: Any, value: Any) -> bool:
    # Scores and classifications lead; free text and dates do not.
    if value is None or not isinstance(schema, Mapping):
        return False
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    return "enum" in schema or bool({"integer", "number"} & set(map(str, types)))


def _tone(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    word = value.lower()
    return next((tone for tone, words in _TONES.items() if word in words), "")


def _block(key: str, schema: Any, value: Any, record: Mapping[str, Any]) -> Block:
    label, help_text = _label(key, schema)
    base: dict[str, Any] = {"key": key, "label": label, "help": help_text}
    sub = schema if isinstance(schema, Mapping) else {}
    if isinstance(value, Mapping):
        if _is_email(value):
            return _email(base, sub, value, record)
        if _is_evidence(value):
            return Block(kind="evidence", evidence=[_evidence(value, record)], **base)
        children = [_block(k, s, v, record) for k, s, v in _fields(sub, value)]
        return Block(kind="object", children=children, **base)
    if isinstance(value, list):
        return _list_block(base, sub, value, record)
    if isinstance(value, str) and (len(value) > _SHORT_TEXT or "\n" in value):
        return Block(kind="text", display=value, **base)
    badge = _is_headline(sub, value)
    return Block(kind="value", display=value_text(value), tone=_tone(value), badge=badge, **base)


def _list_block(
    base: dict[str, Any], schema: Mapping[str, Any], value: list[Any], record: Mapping[str, Any]
) -> Block:
    if not value:
        return Block(kind="list", **base)
    if all(isinstance(v, Mapping) and _is_evidence(v) for v in value):
        return Block(kind="evidence", evidence=[_evidence(v, record) for v in value], **base)
    if all(not isinstance(v, Mapping | list) for v in value):
        return Block(kind="list", entries=[value_text(v) for v in value], **base)
    if all(isinstance(v, Mapping) for v in value):
        items_schema = schema.get("items")
        items = [
            _block(f"{base['key']}[{i}]", items_schema, v, record) for i, v in enumerate(value)
        ]
        for index, item in enumerate(items, start=1):
            item.label = f"{base['label']} {index}"
        return Block(kind="items", children=items, **base)
    return Block(kind="json", display=json.dumps(value, indent=2, ensure_ascii=False), **base)


def _is_email(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("subject"), str) and isinstance(value.get("body"), str)


def _is_evidence(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("field"), str) and "value" in value


def _email(
    base: dict[str, Any], schema: Mapping[str, Any], value: Mapping[str, Any], record: Mapping
) -> Block:
    name = " ".join(str(record.get(k) or "") for k in ("first_name", "last_name")).strip()
    address = record.get("email") if isinstance(record.get("email"), str) else ""
    to = f"{name} <{address}>" if name and address else (address or name)
    others = [
        _block(k, s, v, record)
        for k, s, v in _fields(schema, value)
        if k not in ("subject", "body")
    ]
    return Block(
        kind="email", subject=value["subject"], body=value["body"], to=to, children=others, **base
    )


def _evidence(item: Mapping[str, Any], record: Mapping[str, Any]) -> Evidence:
    path, cited = str(item.get("field")), item.get("value")
    claim = item.get("claim")
    claim_text = claim if isinstance(claim, str) else ""
    try:
        actual = document_path_get(record, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return Evidence(claim=claim_text, path=path, cited=value_text(cited))
    return Evidence(
        claim=claim_text,
        path=path,
        cited=value_text(cited),
        actual=value_text(actual),
        found=True,
        holds=value_matches(cited, actual),
    )
