"""The free text of a result: every string an SOP may write to the CRM as prose. Pure Python.

A string leaf is free text when its schema does not pin it down (no `enum`, `const`, `pattern`
or `format`) and it is not an evidence item's `field` (a record path) or `value` (a copy of the
record, checked by grounding). Claims, summaries, email bodies and next steps all qualify, so
claim grounding and the company-wide policy checks see the same texts, in every SOP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_PINNED = ("enum", "const", "pattern", "format")


def _is_free(schema: Mapping[str, Any]) -> bool:
    return not any(key in schema for key in _PINNED)


def _walk(
    node: Any, schema: Mapping[str, Any], path: str, evidence_item: bool
) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        if _is_free(schema) and node.strip():
            yield path, node
        return
    if isinstance(node, Mapping):
        properties = schema.get("properties") or {}
        # An evidence item is {claim, field, value}: only its claim is prose.
        is_evidence = {"field", "value"} <= set(node)
        for key, value in node.items():
            if is_evidence and key in ("field", "value"):
                continue
            child = properties.get(key) if isinstance(properties, Mapping) else None
            yield from _walk(
                value,
                child if isinstance(child, Mapping) else {},
                f"{path}.{key}" if path else key,
                is_evidence,
            )
        return
    if isinstance(node, list):
        items = schema.get("items")
        item_schema = items if isinstance(items, Mapping) else {}
        for index, value in enumerate(node):
            yield from _walk(value, item_schema, f"{path}[{index}]", evidence_item)


def free_texts(schema: Mapping[str, Any], result: Any) -> list[tuple[str, str]]:
    """(path, text) for every free-text string in `result`, in document order.

    Paths read like `summary`, `risks[0].summary`, `rationale[1].claim`, `email.body`.
    """
    return list(_walk(result, schema, "", False))
