"""Run one eval case: the engine on the case's record snapshot, verified as a run would be.

The stages are the run pipeline's (services/runs.py): scope (`applies_when_check`), propose
(the engine, with the same `verify` callback and judge), verify (`verify_result`), and the
verdict `run_conclude` would reach in shadow. Nothing is read from or written to a CRM, and no
Run row is made: an eval must not show up in the runs list, the dashboards or the queue.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from salesops.agents.base import Engine, RunInput, StepRecord
from salesops.models import EvalCase, SopVersion, Verdict
from salesops.services.run_prepare import applies_when_check
from salesops.services.run_verify import judge_get
from salesops.services.sops import knowledge_skills_get
from salesops.specs.model import ExpressionError, SopSpec
from salesops.verify import verify_result
from salesops.verify.report import VerificationReport
from salesops.verify.verifier import Judge, Origin

logger = logging.getLogger(__name__)

# An expected "not written" holds whenever nothing would reach the CRM.
NOT_WRITTEN = {Verdict.ESCALATED, Verdict.FAILED, Verdict.SKIPPED}
_MISSING = object()


@dataclass
class CaseOutcome:
    """What the engine did on one case, and how that compares with the expectation."""

    verdict: str
    reason: str = ""
    output: dict[str, Any] | None = None
    differences: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    cost_usd: Decimal = Decimal(0)

    @property
    def passed(self) -> bool:
        return not self.differences


def verdict_matches(expected: str, verdict: str) -> bool:
    """True when `verdict` satisfies `expected` ("not_written" takes any verdict but written)."""
    if expected == Verdict.NOT_WRITTEN:
        return verdict in NOT_WRITTEN
    return expected == verdict


def field_get(output: Any, path: str) -> Any:
    """The value at a dotted path ("tier", "risks.0.severity") of a result; _MISSING if absent."""
    value = output
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def differences(case: EvalCase, verdict: str, output: dict[str, Any] | None) -> list[str]:
    """Each way the outcome differs from the case's expectation, in words; [] when it passes."""
    found = []
    if not verdict_matches(case.expected_verdict, verdict):
        label = Verdict(case.expected_verdict).label
        found.append(f"verdict: expected {label}, got {Verdict(verdict).label}")
    for path, expected in (case.expected_fields or {}).items():
        got = field_get(output, path) if output is not None else _MISSING
        if got is _MISSING:
            found.append(f"{path}: expected {expected!r}, missing from the result")
        elif got != expected:
            found.append(f"{path}: expected {expected!r}, got {got!r}")
    return found


def _propose(
    case: EvalCase, version: SopVersion, spec: SopSpec, engine: Engine, steps: list[StepRecord]
) -> tuple[str, str, dict[str, Any] | None]:
    """(verdict, reason, output) for the case, as run_prepare / _propose / run_conclude end it."""
    now: datetime = case.as_of
    document = case.record
    try:
        out_of_scope = applies_when_check(spec, document, now)
    except ExpressionError as exc:
        return Verdict.FAILED, f"applies_when failed: {exc}", None
    if out_of_scope:
        return Verdict.SKIPPED, out_of_scope, None
    origin: Origin = getattr(engine, "origin", "model")
    judges: list[Judge | None] = []

    def verify(output: dict[str, Any], judge: Judge | None = None) -> VerificationReport:
        if judge is None:  # engines without a judge of their own use the configured one
            if not judges:
                judges.append(
                    judge_get(spec=spec, record=document, now=now, record_step=steps.append)
                )
            judge = judges[0]
        return verify_result(spec, output, document, now=now, judge=judge, origin=origin)

    run_input = RunInput(
        sop=spec,
        sop_version=version.number,
        record=document,
        now=now,
        knowledge=knowledge_skills_get(),
        run_id=f"eval-{case.pk}",
    )
    result = engine.run(run_input, verify=verify, record_step=steps.append)
    if result.output is None:
        return Verdict.FAILED, result.error or "the engine produced no result", None
    report = result.report or verify(result.output)
    blocking = [o for o in report.outcomes if o.blocks_write]
    if blocking:
        reason = "; ".join(f"{o.id}: {o.message}" for o in blocking)
        return Verdict.ESCALATED, reason, result.output
    return Verdict.WRITTEN, "", result.output


def case_evaluate(
    *, case: EvalCase, version: SopVersion, spec: SopSpec, engine: Engine
) -> CaseOutcome:
    """Run `engine` on the case's snapshot at its `as_of` time and compare with the expectation.

    Never raises for a bad case or an engine error: either becomes a failed verdict.
    """
    steps: list[StepRecord] = []
    started = time.perf_counter()
    try:
        verdict, reason, output = _propose(case, version, spec, engine, steps)
    except Exception as exc:  # one broken case must not stop the suite; its result says why
        logger.exception("eval case %s crashed", case.pk)
        verdict, reason, output = (
            Verdict.FAILED,
            f"internal error: {type(exc).__name__}: {exc}",
            None,
        )
    return CaseOutcome(
        verdict=verdict,
        reason=reason,
        output=output,
        differences=differences(case, verdict, output),
        latency_ms=(time.perf_counter() - started) * 1000,
        cost_usd=sum((Decimal(str(s.cost_usd)) for s in steps), Decimal(0)),
    )
