"""The `texts` CEL variable and messages that name the free text a failed check objects to. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from salesops.specs.expressions import PreparedActivation
from salesops.specs.model import Check
from salesops.verify.texts import free_texts


def texts_variable(schema: Mapping[str, Any] | None, result: Any) -> list[dict[str, str]]:
    """Every free-text string of `result` as {path, text}; [] without a result or schema."""
    if result is None or schema is None:
        return []
    return [{"path": path, "text": text} for path, text in free_texts(schema, result)]


def _fails(check: Check, activation: Mapping[str, Any], texts: list[dict[str, str]]) -> bool:
    assert check.check is not None
    try:
        return check.check.evaluate(PreparedActivation({**activation, "texts": texts})) is False
    except Exception:  # an error is not evidence that this text is at fault
        return False


def failure_message(check: Check, activation: Mapping[str, Any]) -> str:
    """The check's message, plus the paths of the texts that fail it on their own.

    Only for checks over `texts` that pass without any text, so the blame is on the texts; costs
    one evaluation per text, and only when the check has already failed.
    """
    texts = activation.get("texts") or []
    if check.check is None or "texts" not in check.check.source or not texts:
        return check.message
    if _fails(check, activation, []):
        return check.message
    paths = [t["path"] for t in texts if _fails(check, activation, [t])]
    return f"{check.message} (in {', '.join(paths)})" if paths else check.message
