"""Bulk runs through the Message Batches API: submit, poll, then the usual verify and write.

A batched run is single-turn (salesops/agents/batch_requests.py). The runs are claimed
(queued -> running) before the batch is sent, so no worker runs them too; a refused batch puts
them back in the queue for the interactive path. When the batch ends, each result is recorded as
a model_call step at the batch price and handed to the run pipeline (services/runs
run_proposal_accept, then run_conclude) in a task of its own (services/agent_batch_items.py);
errored, expired and canceled requests go back to the interactive path. The SDK stays inside the
engine: this module uses its Message Batches capability (salesops/agents/anthropic_batches.py).
See docs/anthropic-batches.md.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from salesops.agents import batch_requests, pricing
from salesops.agents.anthropic_batches import BatchError, MessageBatches
from salesops.agents.base import EngineResult, StepRecord
from salesops.env import env_bool, env_int
from salesops.models import AgentBatch, AgentBatchItem, Run
from salesops.services.plugins import engine_get
from salesops.services.run_prepare import run_prepare
from salesops.services.runs import run_enqueue, run_proposal_accept
from salesops.services.sops import knowledge_skills_get, sop_spec_get
from salesops.services.steps import StepRecorder

logger = logging.getLogger(__name__)

ENGINE = "anthropic"
# Requests per batch: the API takes up to 100,000 or 256 MB; records run to tens of kilobytes.
MAX_REQUESTS = 5_000


# -- configuration ---------------------------------------------------------------------------
def batch_scheduled_runs() -> bool:
    """Whether schedule-triggered runs go through the Message Batches API."""
    enabled = settings.SALESOPS.get(
        "BATCH_SCHEDULED_RUNS", env_bool("SALESOPS_BATCH_SCHEDULED_RUNS", False)
    )
    return bool(enabled) and settings.SALESOPS["ENGINE"] == ENGINE


def batch_min_runs() -> int:
    """The fewest runs worth a batch; smaller slots run interactively."""
    return int(
        settings.SALESOPS.get("BATCH_MIN_RUNS", env_int("SALESOPS_BATCH_MIN_RUNS", 20, minimum=1))
    )


def batches_api() -> MessageBatches:
    """The anthropic engine's Message Batches capability (same key, base URL and retries)."""
    engine = engine_get(ENGINE)
    capability = getattr(engine, "batches", None)
    if capability is None:
        raise BatchError(f"engine {ENGINE!r} ({type(engine).__name__}) cannot send batches")
    batches: MessageBatches = capability()
    return batches


def _engine_model() -> str:
    return str(getattr(engine_get(ENGINE), "model", pricing.DEFAULT_MODEL))


# -- routing ---------------------------------------------------------------------------------
def run_batched(*, run: Run) -> bool:
    """Whether the run was ever put in a batch (each run is sent at most once)."""
    return AgentBatchItem.objects.filter(run=run).exists()


def runs_dispatch(*, runs: list[Run]) -> list[AgentBatch]:
    """Send freshly created (not enqueued) runs as batches, or enqueue them when too few."""
    if len(runs) < batch_min_runs():
        for run in runs:
            transaction.on_commit(partial(run_enqueue, run=run))
        return []
    ids = [run.pk for run in runs]
    return [
        batch_submit(run_ids=ids[i : i + MAX_REQUESTS]) for i in range(0, len(ids), MAX_REQUESTS)
    ]


# -- submit ----------------------------------------------------------------------------------
def batch_submit(*, run_ids: list[int], now: datetime | None = None) -> AgentBatch:
    """Claim the queued runs among `run_ids` and send them as one Message Batch.

    A run already claimed by a worker is left alone. When the API refuses the batch, the runs go
    back to the queue for the interactive path and the batch is recorded as failed.
    """
    now = now or timezone.now()
    try:
        batches_api().ready()
    except BatchError as exc:
        model, refused = pricing.DEFAULT_MODEL, str(exc)
    else:
        model, refused = _engine_model(), ""
    with transaction.atomic():
        # A run is sent at most once: one that was batched before goes interactive instead.
        sent = set(
            AgentBatchItem.objects.filter(run_id__in=run_ids).values_list("run_id", flat=True)
        )
        claimed = [
            rid
            for rid in run_ids
            if rid not in sent
            and Run.objects.filter(pk=rid, state=Run.State.QUEUED).update(
                state=Run.State.RUNNING, started_at=now, attempts=F("attempts") + 1
            )
        ]
        # The rows exist before the API call: a crash leaves a `submitting` batch to recover.
        batch = AgentBatch.objects.create(model=model, created_at=now)
        AgentBatchItem.objects.bulk_create(
            AgentBatchItem(batch=batch, run_id=rid, custom_id=batch_requests.custom_id(rid))
            for rid in claimed
        )
    if refused:
        return _refused(batch, refused)
    requests = []
    for item in batch.items.select_related("run__sop_version__sop", "run__sop"):
        params = _prepare(item, now, model)
        if params is not None:
            requests.append(batch_requests.batch_request(item.run_id, params))
    if not requests:
        batch.state, batch.ended_at = AgentBatch.State.ENDED, now
        batch.error = "nothing to send: every run ended before the batch"
        batch.save(update_fields=["state", "ended_at", "error"])
        return batch
    try:
        remote = batches_api().submit(requests)
    except BatchError as exc:
        return _refused(batch, str(exc))
    batch.external_id = remote.id
    batch.state = remote.status
    batch.request_counts = remote.counts
    batch.save(update_fields=["external_id", "state", "request_counts"])
    for item in batch.items.select_related("run"):
        StepRecorder(item.run).info(
            "batch", f"sent in Message Batch {remote.id} as {item.custom_id}; polled every minute"
        )
    return batch


def _prepare(item: AgentBatchItem, now: datetime, model: str) -> dict[str, Any] | None:
    """Stage 1 of the pipeline (prepare), then the run's request; None when the run ended."""
    run = item.run
    spec = sop_spec_get(run.sop_version)
    recorder = StepRecorder(run)
    prepared = run_prepare(run=run, spec=spec, recorder=recorder, now=now)
    if isinstance(prepared, Run):
        item.delete()  # ended before sending (vanished, unreadable, out of scope)
        return None
    context = ", ".join(spec.context) or "no context"
    recorder.info("fetch", f"read {run.object_type}:{run.record_id} with {context}")
    run.input, run.engine, run.model = prepared, ENGINE, spec.model.model or model
    run.save(update_fields=["input", "engine", "model"])
    return batch_requests.batch_params(
        spec, prepared, now, model=run.model, knowledge=knowledge_skills_get()
    )


def _refused(batch: AgentBatch, reason: str) -> AgentBatch:
    """The batch was not sent: record why and give every run back to the interactive path."""
    with transaction.atomic():
        batch.state, batch.error = AgentBatch.State.FAILED, reason
        batch.save(update_fields=["state", "error"])
        for item in batch.items.select_related("run"):
            _requeue(item.run, f"Message Batch not sent ({reason}); running interactively")
        batch.items.filter(status=AgentBatchItem.Status.PENDING).update(
            status=AgentBatchItem.Status.ERRORED, error=reason, resolved_at=timezone.now()
        )
    logger.warning("batch %s refused: %s", batch.pk, reason)
    return batch


def _requeue(run: Run, message: str) -> bool:
    """Put a claimed run back in the queue and enqueue it for the interactive engine."""
    if not Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(
        state=Run.State.QUEUED, started_at=None, reason=""
    ):
        return False
    StepRecorder(run).info("batch", message, status="failed")
    transaction.on_commit(lambda: run_enqueue(run=run))
    return True


# -- poll ------------------------------------------------------------------------------------
def batches_poll_open(*, now: datetime | None = None) -> int:
    """Poll every open batch and recover work a dead worker left behind; returns batches polled."""
    now = now or timezone.now()
    _recover(now)
    open_ids = list(
        AgentBatch.objects.filter(state__in=AgentBatch.OPEN).values_list("pk", flat=True)
    )
    for batch_id in open_ids:
        try:
            batch_poll(batch_id=batch_id, now=now)
        except Exception:  # one broken batch must not stop the others
            logger.exception("polling batch %s failed", batch_id)
    return len(open_ids)


def batch_poll(*, batch_id: int, now: datetime | None = None) -> AgentBatch:
    """Check one batch; when it has ended, record each result and hand its run on.

    Idempotent: results already recorded are skipped, and an ended batch is not polled again.
    """
    now = now or timezone.now()
    batch = AgentBatch.objects.get(pk=batch_id)
    if batch.state not in AgentBatch.OPEN:
        return batch
    external_id = batch.external_id
    assert external_id is not None  # batch_submit sets it together with the first open state
    try:
        api = batches_api()
        remote = api.retrieve(external_id)
        batch.polled_at, batch.request_counts = now, remote.counts
        if remote.status != "ended":
            batch.state, batch.error = remote.status, ""
            batch.save(update_fields=["state", "error", "polled_at", "request_counts"])
            return batch
        for line in api.results(external_id):
            _record(batch, batch_requests.outcome(line), now)
    except BatchError as exc:
        # Transient or not, the next poll tries again; results already recorded stay recorded.
        batch.error, batch.polled_at = str(exc), now
        batch.save(update_fields=["error", "polled_at"])
        return batch
    for item in batch.items.filter(status=AgentBatchItem.Status.PENDING):
        missing = batch_requests.ItemOutcome(item.custom_id, "expired", "retry", reason="no result")
        _record(batch, missing, now)
    batch.state, batch.error = AgentBatch.State.ENDED, ""
    batch.ended_at = remote.ended_at or now
    batch.save(update_fields=["state", "error", "ended_at", "polled_at", "request_counts"])
    return batch


def _record(batch: AgentBatch, out: batch_requests.ItemOutcome, now: datetime) -> None:
    """Record one result once (a conditional UPDATE claims it), then route its run."""
    item = batch.items.select_related("run").filter(custom_id=out.custom_id).first()
    if item is None:
        logger.warning("batch %s: result for unknown %s", batch.pk, out.custom_id)
        return
    model = out.model or item.run.model or batch.model
    usage = out.usage
    cost = pricing.cost(usage, model, batch=True) if out.status == "succeeded" else 0.0
    tokens = {
        "input_tokens": usage.get("input_tokens", 0),
        "output_tokens": usage.get("output_tokens", 0),
        "cache_write_tokens": usage.get("cache_creation_input_tokens", 0),
        "cache_read_tokens": usage.get("cache_read_input_tokens", 0),
    }
    with transaction.atomic():
        if not AgentBatchItem.objects.filter(
            pk=item.pk, status=AgentBatchItem.Status.PENDING
        ).update(
            status=out.status,
            error=out.reason,
            resolved_at=now,
            cost_usd=Decimal(str(round(cost, 6))),
            **tokens,
        ):
            return  # another poll recorded it
        run = item.run
        if run.state != Run.State.RUNNING:
            return  # the run was ended elsewhere (admin); nothing to hand on
        recorder = StepRecorder(run)
        if out.status == "succeeded":
            recorder(
                StepRecord(
                    kind="model_call",
                    name="batch",
                    status="ok" if out.action == "complete" else "failed",
                    input={"batch": batch.external_id, "custom_id": out.custom_id},
                    output=out.message,
                    message=f"Message Batch {batch.external_id} at "
                    f"{pricing.BATCH_DISCOUNT:.0%} of the interactive price",
                    cost_usd=cost,
                    **tokens,
                )
            )
        if out.action == "retry":
            _requeue(run, f"{out.reason}; running interactively")
        elif out.action == "fail":
            result = EngineResult(engine=ENGINE, output=None, error=out.reason, model=model)
            run_proposal_accept(
                run=run,
                spec=sop_spec_get(run.sop_version),
                result=result,
                recorder=recorder,
                now=batch.created_at,
            )
        else:
            run.output, run.model, run.engine = out.output, model, ENGINE
            run.save(update_fields=["output", "model", "engine"])
            transaction.on_commit(lambda: batch_item_enqueue(item_id=item.pk))


def batch_item_enqueue(*, item_id: int) -> None:
    """Hand one succeeded batch result to a worker for verification and write-back."""
    async_task(
        "salesops.tasks.agent_batch_item_complete", item_id, task_name=f"batch-item-{item_id}"
    )


# -- recovery --------------------------------------------------------------------------------
def _recover(now: datetime) -> None:
    """Finish what a worker killed mid-way left: unsent batches and unfinished results."""
    stale = now - timedelta(seconds=settings.SALESOPS["RUN_TIMEOUT"])
    for batch in AgentBatch.objects.filter(state=AgentBatch.State.SUBMITTING, created_at__lt=stale):
        # The API may have accepted it; we cannot know, so the runs go interactive.
        _refused(batch, "the worker stopped before the batch was confirmed")
    stuck = AgentBatchItem.objects.filter(
        status=AgentBatchItem.Status.SUCCEEDED, resolved_at__lt=stale, run__state=Run.State.RUNNING
    ).exclude(completed_at__gt=stale)
    for item_id in list(stuck.values_list("pk", flat=True)):
        AgentBatchItem.objects.filter(pk=item_id).update(completed_at=None)
        transaction.on_commit(partial(batch_item_enqueue, item_id=item_id))
