"""Pipeline stage 3, verify: the one place a proposed result is checked and the checks recorded.

Every proposal goes through here, whatever produced it: an engine, a Message Batches result, a
reviewer's edit, a retry, `verify_result`. A reviewer's decision (overrides, accepted
escalations) is applied to the report here too, so the audit trail never shows a check that
was approved over as passed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from salesops.agents.base import RunInput, StepSink
from salesops.models import Run
from salesops.services.plugins import engine_get
from salesops.services.sops import knowledge_skills_get
from salesops.services.steps import StepRecorder
from salesops.specs.model import Check, SopSpec
from salesops.verify import verify_result
from salesops.verify.decisions import ReviewDecision, decision_apply
from salesops.verify.report import CheckOutcome, VerificationReport
from salesops.verify.verifier import Judge, Origin


def run_origin(run: Run) -> Origin:
    """Who produced the run's proposal: the rules engine, or a model."""
    return "rules" if run.engine == "rules" else "model"


def judge_get(
    *, spec: SopSpec, record: dict[str, Any], now: datetime, record_step: StepSink, run_id: str = ""
) -> Judge | None:
    """A judge for rubric checks when a model engine is configured; None otherwise.

    SALESOPS["JUDGE_ENGINE"] names it (default: the anthropic engine when a key is set);
    otherwise the configured engine judges if it can.
    """
    name = settings.SALESOPS.get("JUDGE_ENGINE") or settings.SALESOPS["ENGINE"]
    engine = engine_get(name)
    factory = getattr(engine, "judge_for", None)
    if factory is None:
        return None
    run_input = RunInput(
        sop=spec,
        sop_version=0,
        record=record,
        now=now,
        knowledge=knowledge_skills_get(),
        run_id=run_id,
    )
    judge: Judge | None = factory(run_input, record_step)
    return judge


def recorded_judge(run: Run) -> Judge:
    """A judge that answers with the verdicts stored for this run (the latest per check), so a
    restarted or resumed run never pays the model twice for the same result."""
    verdicts = {
        step.name: step
        for step in run.steps.filter(kind="check", input__kind="judge").order_by("seq")
    }

    def judge(check: Check, result: dict[str, Any], record: dict[str, Any]) -> CheckOutcome:
        step = verdicts.get(check.id)
        if step is None or step.status not in ("passed", "failed", "error"):
            return CheckOutcome(
                check.id, "judge", "error", "no judge verdict was stored before the worker stopped"
            )
        return CheckOutcome(check.id, "judge", step.status, step.message)  # type: ignore[arg-type]

    return judge


def run_verify(
    *,
    run: Run,
    spec: SopSpec,
    output: Any,
    now: datetime,
    recorder: StepRecorder,
    origin: Origin,
    judge: Judge | None = None,
    decision: ReviewDecision | None = None,
    report: VerificationReport | None = None,
) -> VerificationReport:
    """Verify `output` for the run's record, apply a reviewer's decision, record every check.

    `report` is an engine's verification of this very output (engines verify inside their
    loop to re-ask); it is recorded as is. Raises DecisionError, recording nothing, when the
    decision does not cover a failed check.
    """
    if report is None:
        report = verify_result(spec, output, run.input or {}, now=now, judge=judge, origin=origin)
    if decision is not None:
        report = decision_apply(report, decision)
    recorder.checks(report.outcomes)
    return report
