"""Finish one succeeded batch result: verify (judges included), then escalate or write."""

from __future__ import annotations

import logging
import time
from typing import Any

import anthropic
from django.utils import timezone

from salesops.agents import assembly, batch_requests, pricing
from salesops.agents.base import EngineResult, StepRecord
from salesops.models import AgentBatchItem, Run
from salesops.services.agent_batches import ENGINE, BatchRefused, batch_client, batch_error_describe
from salesops.services.runs import run_complete
from salesops.services.sops import knowledge_skills_get, sop_spec_get
from salesops.services.steps import StepRecorder
from salesops.specs.model import Check
from salesops.verify.report import CheckOutcome

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
    result = EngineResult(engine=ENGINE, output=run.output, model=run.model)
    try:
        return run_complete(
            run=run,
            spec=sop_spec_get(run.sop_version),
            result=result,
            recorder=recorder,
            now=item.batch.created_at,
            judge=_judge(run.model, recorder, context=_judge_context(run)),
        )
    except Exception as exc:  # the run must end in a recorded state, whatever broke
        logger.exception("batch item %s crashed", item_id)
        run.state, run.reason, run.finished_at = (
            Run.State.FAILED,
            f"internal error: {type(exc).__name__}: {exc}",
            timezone.now(),
        )
        run.save(update_fields=["state", "reason", "finished_at"])
        return run


def _judge_context(run: Run) -> str:
    return assembly.judge_context(sop_spec_get(run.sop_version), knowledge_skills_get())


def _judge(model: str, recorder: StepRecorder, *, context: str = "") -> Any:
    """Rubric checks as interactive calls (full price), recorded like the engine's judges."""

    def judge(check: Check, result: dict[str, Any], record: dict[str, Any]) -> CheckOutcome:
        params = assembly.judge_params(check, result, record, model=model, context=context)
        started = time.perf_counter()
        try:
            message = batch_client().messages.create(**params)
        except (BatchRefused, anthropic.AnthropicError) as exc:
            reason = batch_error_describe(exc)
            recorder(
                StepRecord(
                    kind="model_call",
                    name=f"judge:{check.id}",
                    status="failed",
                    input={"check": check.id},
                    message=reason,
                )
            )
            return CheckOutcome(check.id, "judge", "error", f"judge call failed: {reason}")
        usage = message.usage
        content = [b.model_dump(mode="json", exclude_none=True) for b in message.content]
        recorder(
            StepRecord(
                kind="model_call",
                name=f"judge:{check.id}",
                input={"check": check.id},
                output={"stop_reason": message.stop_reason, "content": content},
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_write_tokens=usage.cache_creation_input_tokens or 0,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
                latency_ms=(time.perf_counter() - started) * 1000,
                cost_usd=pricing.cost(usage, model),
            )
        )
        return batch_requests.verdict_outcome(check, content)

    return judge
