"""Turn an SOP's `write_back` rules and a verified result into a list of planned writes.

Pure Python: expressions are evaluated here; templates are rendered by the service layer.
Only the writes the SOP declares can come out of this function: that is the allow-list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from salesops.specs.model import ExpressionError, SopSpec
from salesops.verify.verifier import activation_build


@dataclass(frozen=True)
class PlannedWrite:
    """One allowed write, with expressions already evaluated."""

    seq: int
    kind: str  # set_property | note | task
    property: str | None = None
    value: Any = None
    template: str | None = None
    subject: str | None = None
    due_date: date | None = None
    priority: str = "MEDIUM"


def business_days_add(start: date, days: int) -> date:
    """`start` plus `days` business days (Mon-Fri); 0 keeps `start` when it is a weekday."""
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def writes_plan(
    spec: SopSpec, result: dict[str, Any], record: dict[str, Any], *, now: datetime
) -> list[PlannedWrite]:
    """The writes to make, in SOP order. Raises ExpressionError when an expression fails."""
    # The same variables the checks saw (texts included): one activation builder for both.
    activation = activation_build(record, result, now, spec.output)
    planned: list[PlannedWrite] = []
    for seq, rule in enumerate(spec.write_back):
        if rule.when is not None and rule.when.evaluate(activation) is not True:
            continue
        if rule.kind == "set_property":
            assert rule.value is not None and rule.property is not None
            planned.append(
                PlannedWrite(
                    seq=seq,
                    kind="set_property",
                    property=rule.property,
                    value=rule.value.evaluate(activation),
                )
            )
        elif rule.kind == "note":
            planned.append(PlannedWrite(seq=seq, kind="note", template=rule.template))
        else:
            planned.append(
                PlannedWrite(
                    seq=seq,
                    kind="task",
                    template=rule.template,
                    subject=rule.subject,
                    due_date=_due_date(rule, activation, now),
                    priority=rule.priority,
                )
            )
    return planned


def _due_date(rule: Any, activation: dict[str, Any], now: datetime) -> date:
    if rule.due_date is not None:
        raw = rule.due_date.evaluate(activation)
        try:
            return date.fromisoformat(str(raw))
        except ValueError as exc:
            raise ExpressionError(f"due_date gave {raw!r}, not a YYYY-MM-DD date") from exc
    return business_days_add(now.date(), rule.due_in_business_days or 0)
