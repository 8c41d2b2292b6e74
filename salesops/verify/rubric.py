"""Compare a result with the SOP's deterministic rubric (its offline skill); escalate big gaps.

Pure: the offline skills are pure functions of the record document and the clock. One skill call
per verification, and none for the rules engine's own results (they are the rubric's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from salesops.skills.registry import OFFLINE_SKILLS
from salesops.specs.model import RubricCompare, SopSpec
from salesops.verify.report import CheckOutcome, CheckStatus

_LEVELS = {1: "one level", 2: "two levels", 3: "three levels"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _show(value: Any) -> str:
    number = _number(value)
    if number is not None and number.is_integer():
        return str(int(number))
    return str(value)


def _context(compare: RubricCompare, values: Mapping[str, Any], spec: SopSpec) -> str:
    """The other compared fields, e.g. " (tier A)", so each message shows the whole picture."""
    others = [c.field for c in spec.rubric if c.field != compare.field and c.field in values]
    if not others:
        return ""
    return " (" + ", ".join(f"{name} {_show(values[name])}" for name in others) + ")"


def _gap(compare: RubricCompare, got: Any, want: Any) -> tuple[bool, str]:
    """(too large?, how they differ) for one field."""
    a, b = _number(got), _number(want)
    if a is not None and b is not None and not compare.order:
        difference = abs(a - b)
        shown = _show(difference)
        if difference > compare.tolerance:
            return True, f"a difference of {shown} > {_show(compare.tolerance)}"
        return False, f"a difference of {shown} (tolerance {_show(compare.tolerance)})"
    if got == want:
        return False, "the same"
    if got in compare.order and want in compare.order:
        steps = abs(compare.order.index(got) - compare.order.index(want))
        apart = _LEVELS.get(steps, f"{steps} levels")
        if steps > compare.tolerance:
            return True, f"{apart} apart > {_show(compare.tolerance)}"
        return False, f"{apart} apart (tolerance {_show(compare.tolerance)})"
    return True, "which disagree"


def rubric_outcomes(
    spec: SopSpec, result: Mapping[str, Any], record: dict[str, Any], now: datetime
) -> list[CheckOutcome]:
    """One `rubric:<field>` outcome per compared field: escalate on a large disagreement."""
    if not spec.rubric or spec.offline is None:
        return []
    name = spec.offline.replace("_", " ")
    skill = OFFLINE_SKILLS.get(spec.offline)
    try:
        if skill is None:
            raise LookupError(f"no offline skill '{spec.offline}'")
        expected = skill(record, now, spec)
    except Exception as exc:  # the rubric is a second opinion; without it a human decides
        message = f"the {name} rubric could not run ({type(exc).__name__}: {exc})"
        return [
            CheckOutcome(f"rubric:{c.field}", "rubric", "escalate", message) for c in spec.rubric
        ]
    outcomes = []
    for compare in spec.rubric:
        got, want = result.get(compare.field), expected.get(compare.field)
        large, how = _gap(compare, got, want)
        label = "" if compare.field == "score" else f"{compare.field} "
        verb = "scores" if compare.field == "score" else "gives"
        message = (
            f"the result {verb} {label}{_show(got)}{_context(compare, result, spec)}; "
            f"the {name} rubric gives {label}{_show(want)}{_context(compare, expected, spec)}, "
            f"{how}"
        )
        status: CheckStatus = "escalate" if large else "passed"
        outcomes.append(CheckOutcome(f"rubric:{compare.field}", "rubric", status, message))
    return outcomes
