"""A reviewer's decision applied to a verification report. Pure Python.

Approving a result never turns a failed check into a passed one. A failed check may be
overridden only by name, with a reason, and then reads "overridden by <user>: <reason>"; a met
escalation condition is accepted by the approval itself and reads "accepted by <user>". Schema
failures cannot be overridden: the write-back templates need the declared shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from salesops.verify.report import CheckOutcome, VerificationReport

NOT_OVERRIDABLE = frozenset({"schema"})


class DecisionError(ValueError):
    """The decision does not cover the report (a failed check without an override, ...)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ReviewDecision:
    """Who approved, and which failed checks they override with what reason (check id -> why)."""

    reviewer: str
    overrides: Mapping[str, str] = field(default_factory=dict)


def decision_apply(report: VerificationReport, decision: ReviewDecision) -> VerificationReport:
    """The report as approved: overridden failures and accepted escalations, nothing "passed".

    Raises DecisionError naming every failed check that has no override, every override of a
    check that did not fail, every empty reason and any attempt to override the schema.
    """
    failing = {o.id for o in report.outcomes if o.status in ("failed", "error")}
    problems: list[str] = []
    for check_id, reason in decision.overrides.items():
        if check_id not in failing:
            problems.append(f"{check_id}: did not fail, so there is nothing to override")
        elif not str(reason).strip():
            problems.append(f"{check_id}: an override needs a reason")
    outcomes: list[CheckOutcome] = []
    for outcome in report.outcomes:
        if outcome.status in ("failed", "error"):
            reason = str(decision.overrides.get(outcome.id, "")).strip()
            if outcome.kind in NOT_OVERRIDABLE:
                problems.append(
                    f"{outcome.id}: {outcome.message} (the result's shape cannot be "
                    "overridden; edit the result instead)"
                )
            elif not reason:
                problems.append(
                    f"{outcome.id}: {outcome.message} (failed; override it by name "
                    "with a reason, or edit the result)"
                )
            else:
                outcomes.append(
                    replace(
                        outcome,
                        status="overridden",
                        message=f"overridden by {decision.reviewer}: {reason} "
                        f"(was: {outcome.message})",
                    )
                )
            continue
        if outcome.status == "escalate":
            outcomes.append(
                replace(
                    outcome,
                    status="accepted",
                    message=f"accepted by {decision.reviewer}: {outcome.message}".rstrip(": "),
                )
            )
            continue
        outcomes.append(outcome)
    if problems:
        # One message per problem, deduplicated (schema may fail at several paths).
        raise DecisionError(list(dict.fromkeys(problems)))
    return VerificationReport(outcomes=outcomes)
