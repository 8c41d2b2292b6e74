"""Helpers for verifier tests: a SopSpec built directly, with fake compiled expressions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salesops.specs.model import (
    Check,
    EscalationRule,
    ExpressionError,
    ModelPolicy,
    SopSpec,
)


@dataclass
class FakeExpression:
    """Stands in for a compiled CEL expression: a Python function of the activation."""

    source: str
    fn: Callable[[dict[str, Any]], Any]

    def evaluate(self, activation: dict[str, Any]) -> Any:
        try:
            return self.fn(activation)
        except (KeyError, TypeError) as exc:
            raise ExpressionError(f"no such key: {exc}") from exc


EVIDENCE = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["field", "value"],
        "properties": {"claim": {"type": "string"}, "field": {"type": "string"}, "value": {}},
    },
}
OUTPUT = {
    "type": "object",
    "required": ["tier", "score", "rationale"],
    "additionalProperties": False,
    "properties": {
        "tier": {"enum": ["A", "B", "C"]},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "rationale": EVIDENCE,
        "risks": {
            "type": "array",
            "items": {"type": "object", "properties": {"evidence": EVIDENCE}},
        },
        "due_date": {"type": "string", "format": "date"},
    },
}


def make_spec(*, acceptance=(), escalate_when=(), evidence=("rationale", "risks.*.evidence")):
    """A SopSpec with the given checks; everything else minimal."""
    return SopSpec(
        name="test-sop",
        title="Test SOP",
        object="contact",
        description="for tests",
        triggers=(),
        context=(),
        skills=(),
        offline="lead_qualification",
        output=OUTPUT,
        evidence=tuple(evidence),
        acceptance=tuple(acceptance),
        escalate_when=tuple(escalate_when),
        write_back=(),
        model=ModelPolicy(),
        includes=(),
        sections={},
        body="",
    )


def check(check_id, fn, message="failed"):
    return Check(id=check_id, message=message, check=FakeExpression(check_id, fn))


def escalation(rule_id, fn, message="needs a human"):
    return EscalationRule(id=rule_id, when=FakeExpression(rule_id, fn), message=message)
