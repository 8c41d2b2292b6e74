"""Finish one succeeded batch result through the run pipeline: verify (judges included), then
escalate or write, exactly as an interactive run does."""

from __future__ import annotations

import logging

from django.utils import timezone

from salesops.agents.base import EngineResult, RunInput
from salesops.models import AgentBatchItem, Run
from salesops.services.agent_batches import ENGINE
from salesops.services.plugins import engine_get
from salesops.services.run_conclude import run_conclude
from salesops.services.run_state import run_finish
from salesops.services.runs import run_proposal_accept
from salesops.services.sops import knowledge_skills_get, sop_spec_get
from salesops.services.steps import StepRecorder

logger = logging.getLogger(__name__)


def batch_item_complete(*, item_id: int) -> Run | None:
    """Verify a succeeded batch result, then escalate or write, as an interactive run would.

    Safe to deliver twice: a conditional UPDATE on the item lets one delivery through.
    """
    now = timezone.now()
    if not AgentBatchItem.objects.filter(
        pk=item_id, status=AgentBatchItem.Status.SUCCEEDED, completed_at__isnull=True
    ).update(completed_at=now):
        return None
    item = AgentBatchItem.objects.select_related("batch", "run__sop_version__sop", "run__sop").get(
        pk=item_id
    )
    run = item.run
    if run.state != Run.State.RUNNING or run.output is None:
        return run
    recorder = StepRecorder(run)
    spec = sop_spec_get(run.sop_version)
    clock = item.batch.created_at  # the record document was read when the batch was sent
    try:
        # Rubric checks run as interactive calls (full price), recorded like the engine's.
        judge_for = getattr(engine_get(ENGINE), "judge_for", None)
        run_input = RunInput(
            sop=spec,
            sop_version=run.sop_version.number,
            record=run.input or {},
            now=clock,
            knowledge=knowledge_skills_get(),
            run_id=str(run.pk),
        )
        judge = judge_for(run_input, recorder, model=run.model) if judge_for else None
        result = EngineResult(engine=ENGINE, output=run.output, model=run.model)
        report = run_proposal_accept(
            run=run, spec=spec, result=result, recorder=recorder, now=clock, judge=judge
        )
        if isinstance(report, Run):
            return report
        return run_conclude(
            run=run, spec=spec, recorder=recorder, now=clock, report=report, output=run.output
        )
    except Exception as exc:  # the run must end in a recorded state, whatever broke
        logger.exception("batch item %s crashed", item_id)
        return run_finish(
            run, Run.State.FAILED, reason=f"internal error: {type(exc).__name__}: {exc}"
        )
