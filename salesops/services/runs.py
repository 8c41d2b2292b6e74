"""Runs: create (idempotently), enqueue, claim, execute through the pipeline, retry.

The pipeline's stages live in their own modules, and every entry point (an engine, a Message
Batches result, a reviewer's approval, a retry, a resume after a crash) goes through them:
run_prepare -> propose (here) -> run_verify -> run_conclude.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_q.exceptions import TimeoutException
from django_q.tasks import async_task

from connectors.base import RetriableCRMError
from salesops.agents.base import EngineResult, RunInput
from salesops.models import AgentBatchItem, Escalation, Run
from salesops.services.escalations import escalation_write
from salesops.services.plugins import engine_get
from salesops.services.run_conclude import run_conclude, run_write

# Creating runs lives in run_create; these names stay importable from here.
# Creating runs lives in run_create; these names stay importable from here (re-exported).
from salesops.services.run_create import run_create as run_create
from salesops.services.run_create import run_enqueue as run_enqueue
from salesops.services.run_create import run_key as run_key
from salesops.services.run_create import runs_create as runs_create
from salesops.services.run_prepare import run_prepare
from salesops.services.run_state import (
    TOTALS,
    retries_note,
    run_finish,
    run_retry_later,
    run_totals,
)
from salesops.services.run_verify import judge_get, recorded_judge, run_origin, run_verify
from salesops.services.sops import knowledge_skills_get, sop_spec_get
from salesops.services.steps import StepRecorder
from salesops.specs.model import SopSpec
from salesops.verify import verify_result
from salesops.verify.report import VerificationReport
from salesops.verify.verifier import Judge, Origin

logger = logging.getLogger(__name__)

# A run in a Message Batch waits on the API (up to 24 h), not on a worker: the poller owns it.
BATCH_HELD = (AgentBatchItem.Status.PENDING, AgentBatchItem.Status.SUCCEEDED)
# A `retrying` run is due this much before its `retry_at`, so a worker whose clock is a little
# behind the sweeper's does not turn the delivery away.
CLOCK_SKEW = timedelta(seconds=5)


def runs_abandoned(*, now: datetime) -> QuerySet[Run]:
    """Runs `running` or `writing` that no live worker holds: released, or past their lease.

    The lease is the task timeout (SALESOPS["RUN_TIMEOUT"]) from the claim. Runs waiting on a
    Message Batch are the batch poller's, not a worker's, and are left out.
    """
    lease = now - timedelta(seconds=settings.SALESOPS["RUN_TIMEOUT"])
    return (
        Run.objects.filter(state__in=(Run.State.RUNNING, Run.State.WRITING))
        .filter(Q(started_at__lt=lease) | Q(started_at__isnull=True))
        .exclude(state=Run.State.RUNNING, agent_batch_item__status__in=BATCH_HELD)
    )


def run_give_up(*, run_id: int, now: datetime) -> Run | None:
    """Fail an abandoned run that used its attempts (SALESOPS_Q_MAX_ATTEMPTS); None if it has
    attempts left or a worker holds it. A retry from the admin gives it one more attempt."""
    limit = settings.SALESOPS["MAX_ATTEMPTS"]
    run = runs_abandoned(now=now).filter(pk=run_id, attempts__gte=limit).first()
    if run is None:
        return None
    reason = (
        f"stopped after {run.attempts} attempts (SALESOPS_Q_MAX_ATTEMPTS={limit}): its worker "
        "died or timed out each time; retry it from the admin once the cause is fixed"
    )
    if (
        not runs_abandoned(now=now)
        .filter(pk=run_id, attempts=run.attempts)
        .update(state=Run.State.FAILED, reason=reason, finished_at=now)
    ):
        return None  # a worker took it back meanwhile
    StepRecorder(run).info("abandoned", reason, status="failed")
    run.refresh_from_db()
    return run


def run_release(*, run_id: int, exc: BaseException) -> None:
    """A worker is being stopped mid-run (django-q2's timeout raises a SystemExit, which
    `except Exception` misses): record why and release the claim for the next sweep."""
    try:
        run = Run.objects.get(pk=run_id)
        name = "timeout" if isinstance(exc, TimeoutException) else "stopped"
        why = str(exc) or type(exc).__name__
        StepRecorder(run).info(name, f"the worker was stopped: {why}", status="failed")
        Run.objects.filter(pk=run_id, state__in=(Run.State.RUNNING, Run.State.WRITING)).update(
            started_at=None
        )
    except Exception:  # the process is going away; the lease will run out instead
        logger.exception("could not release run %s", run_id)


def _claim(run_id: int, now: datetime) -> str | None:
    """Claim a run with a conditional UPDATE; the row count says whether we own it.

    django-q2 delivers at least once, so a second delivery finds the run claimed and stops.
    An abandoned run (see `runs_abandoned`) is reclaimed while it has attempts left, else failed.
    """
    if Run.objects.filter(pk=run_id, state=Run.State.QUEUED).update(
        state=Run.State.RUNNING, started_at=now, attempts=F("attempts") + 1
    ):
        return "fresh"
    # A due CRM retry is not a new attempt: Run.crm_retries counts those, and a worker that
    # dies during one still has its SALESOPS_Q_MAX_ATTEMPTS reclaims.
    if Run.objects.filter(
        pk=run_id, state=Run.State.RETRYING, retry_at__lte=now + CLOCK_SKEW
    ).update(state=Run.State.RUNNING, started_at=now, retry_at=None):
        return "retry"
    limit = settings.SALESOPS["MAX_ATTEMPTS"]
    for state in (Run.State.RUNNING, Run.State.WRITING):
        held = runs_abandoned(now=now).filter(pk=run_id, state=state, attempts__lt=limit)
        if held.update(started_at=now, attempts=F("attempts") + 1):
            return f"stale-{state}"
    run_give_up(run_id=run_id, now=now)
    return None


def run_execute(*, run_id: int, now: datetime | None = None) -> Run:
    """Execute one queued run end to end: prepare, propose, verify, conclude.

    Safe to call twice: the second call does nothing.
    """
    now = now or timezone.now()
    claim = _claim(run_id, now)
    run = Run.objects.select_related("sop", "sop_version__sop", "connection").get(pk=run_id)
    if claim is None:
        return run
    first = claim == "fresh" and run.attempts == 1 and not run.crm_retries
    recorder = StepRecorder(run, fresh=first)
    spec = sop_spec_get(run.sop_version)
    try:
        if claim == "stale-writing":
            return _resume_write(run, spec, recorder, now)
        if claim == "retry":
            return _resume_retry(run, spec, recorder, now)
        if run.output is not None:  # reclaimed or retried after the engine had answered
            return _resume_proposal(run, spec, recorder, now, claim=claim)
        if claim == "stale-running":
            recorder.info("restart", f"restarted after a worker stopped (attempt {run.attempts})")
        return _execute(run, spec, recorder, now)
    except RetriableCRMError as exc:  # a CRM call outside the stages that handle their own
        if run_retry_later(run, error=exc, stage="crm", recorder=recorder):
            return run
        reason = f"CRM call failed{retries_note(run)}: {exc}"
        return run_finish(run, Run.State.FAILED, reason=reason)
    except Exception as exc:  # the run must end in a recorded state, whatever broke
        logger.exception("run %s crashed", run.pk)
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return run_finish(run, Run.State.FAILED, reason=reason)
    except BaseException as exc:  # django-q2's timeout, a shutdown: the sweeper takes it back
        run_release(run_id=run.pk, exc=exc)
        raise


def _execute(run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime) -> Run:
    prepared = run_prepare(run=run, spec=spec, recorder=recorder, now=now)
    if isinstance(prepared, Run):
        return prepared
    engine = engine_get()
    # An engine that does no I/O (rules) proposes and is checked in one transaction: on
    # SQLite that is one write lock instead of four, and a crash leaves nothing half-recorded.
    # Engines that call a model record each step as it happens instead (a crash leaves a trail).
    in_process = getattr(engine, "in_process", False)
    with transaction.atomic() if in_process else contextlib.nullcontext():
        outcome = _propose(run, spec, recorder, now, engine, prepared)
        if isinstance(outcome, Run):
            return outcome
        if in_process and not _writes(run, outcome):
            # Nothing goes to the CRM: conclude in the same transaction, whose last save
            # stores the proposal too (run_proposal_accept skipped its own).
            assert run.output is not None
            return run_conclude(
                run=run, spec=spec, recorder=recorder, now=now, report=outcome, output=run.output
            )
    assert run.output is not None  # run_proposal_accept returns the run when there is none
    return run_conclude(
        run=run, spec=spec, recorder=recorder, now=now, report=outcome, output=run.output
    )


def _writes(run: Run, report: VerificationReport) -> bool:
    """Whether concluding this report writes to the CRM (not shadow, nothing blocking)."""
    return not run.shadow and report.writable


def _propose(
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    engine: Any,
    document: dict[str, Any],
) -> VerificationReport | Run:
    """Stage 2, propose: ask the engine, then verify and store the proposal with its checks."""
    run.engine = engine.name
    in_process = getattr(engine, "in_process", False)
    if not in_process:
        # A model call may take minutes: store what was read first. An in-process engine's
        # proposal is stored with its input in the same transaction (run_proposal_accept).
        run.save(update_fields=["engine", "input"])
    origin: Origin = getattr(engine, "origin", "model")
    fallback_judge: list[Judge | None] = []

    def verify(output: dict[str, Any], judge: Judge | None = None) -> VerificationReport:
        if judge is None:  # engines without a judge of their own use the configured one
            if not fallback_judge:
                fallback_judge.append(
                    judge_get(
                        spec=spec,
                        record=document,
                        now=now,
                        record_step=recorder,
                        run_id=str(run.pk),
                    )
                )
            judge = fallback_judge[0]
        return verify_result(spec, output, document, now=now, judge=judge, origin=origin)

    result = engine.run(
        RunInput(
            sop=spec,
            sop_version=run.sop_version.number,
            record=document,
            now=now,
            knowledge=knowledge_skills_get(),
            run_id=str(run.pk),
        ),
        verify=verify,
        record_step=recorder,
    )
    return run_proposal_accept(
        run=run,
        spec=spec,
        result=result,
        recorder=recorder,
        now=now,
        verify=verify,
        concluded_here=in_process,
    )


def run_proposal_accept(
    *,
    run: Run,
    spec: SopSpec,
    result: EngineResult,
    recorder: StepRecorder,
    now: datetime,
    verify: Any = None,
    judge: Judge | None = None,
    concluded_here: bool = False,
) -> VerificationReport | Run:
    """Store an engine's proposal with its verified checks (interactive or batch result);
    the run, failed, when there is no proposal. Stored before anything else happens, so a
    run reclaimed after a worker died resumes from here instead of paying the model again.

    `concluded_here`: the caller concludes in this same transaction when nothing is written
    to the CRM, and that final save stores the proposal; it is not saved twice then.
    """
    run.engine, run.model, run.output = result.engine, result.model, result.output
    if result.output is None:
        run_totals(run, recorder)
        return run_finish(
            run, Run.State.FAILED, reason=result.error or "the engine produced no result"
        )
    origin: Origin = "rules" if result.engine == "rules" else "model"
    report = result.report or (verify(result.output) if verify else None)
    # No savepoint inside an in-process engine's transaction (two queries a run): an error
    # here leaves that transaction too, so nothing could be half-kept.
    with transaction.atomic(savepoint=False):
        report = run_verify(
            run=run,
            spec=spec,
            output=result.output,
            now=now,
            recorder=recorder,
            origin=origin,
            judge=judge,
            report=report,
        )
        run_totals(run, recorder)
        run.reason = result.error
        if not (concluded_here and not _writes(run, report)):
            run.save(update_fields=["output", "input", "engine", "model", "reason", *TOTALS])
    return report


def _resume_proposal(
    run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime, *, claim: str
) -> Run:
    """A reclaimed or retried run whose engine had already answered: verify the stored proposal
    again, replaying judge verdicts from the audit trail; never pay the model twice for it."""
    why = "restarted after a worker stopped" if claim == "stale-running" else "retried"
    count = f"CRM retry {run.crm_retries}" if claim == "retry" else f"attempt {run.attempts}"
    recorder.info(
        "restart" if claim == "stale-running" else "retry",
        f"{why} ({count}): the engine had already proposed a result, so it is "
        "verified again and the model is not called twice",
    )
    report = _verify_stored(run, spec, recorder, now)
    run_totals(run)
    assert run.output is not None  # run_execute resumes only runs with a stored proposal
    return run_conclude(
        run=run, spec=spec, recorder=recorder, now=now, report=report, output=run.output
    )


def _verify_stored(
    run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime
) -> VerificationReport:
    """Verify the run's stored proposal again, judges answered from the audit trail."""
    return run_verify(
        run=run,
        spec=spec,
        output=run.output,
        now=now,
        recorder=recorder,
        origin=run_origin(run),
        judge=recorded_judge(run) if run.model else None,
    )


def _resume_write(run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime) -> Run:
    """A worker stopped mid-write: verify the same result again, then finish the writes (their
    keys make the ones already done no-ops). An approved escalation resumes its own write."""
    recorder.info("resume", f"resumed write-back after a worker stopped (attempt {run.attempts})")
    escalation = Escalation.objects.filter(run=run, status=Escalation.Status.APPROVED).first()
    if escalation is not None:
        return escalation_write(escalation_id=escalation.pk, claimed=True)
    report = _verify_stored(run, spec, recorder, now)
    assert run.output is not None  # write_error stores the output when the run starts writing
    if not report.writable:  # cannot happen unless the stored proposal changed; never write
        return run_conclude(
            run=run, spec=spec, recorder=recorder, now=now, report=report, output=run.output
        )
    return run_write(
        run=run, spec=spec, recorder=recorder, now=now, output=run.output, report=report
    )


def _resume_retry(run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime) -> Run:
    """A due CRM retry: write the approved result again, or verify the stored proposal and
    write it, or read the record again; writes already done are skipped by their keys."""
    limit = settings.SALESOPS["CRM_MAX_RETRIES"]
    escalation = Escalation.objects.filter(run=run, status=Escalation.Status.APPROVED).first()
    if escalation is not None:
        recorder.info("retry", f"retry {run.crm_retries} of {limit}: writing the approved result")
        return escalation_write(escalation_id=escalation.pk, claimed=True)
    if run.output is not None:
        return _resume_proposal(run, spec, recorder, now, claim="retry")
    recorder.info("retry", f"retry {run.crm_retries} of {limit}: reading the record again")
    return _execute(run, spec, recorder, now)


def run_retry(*, run: Run) -> Run:
    """Put a failed run back in the queue; its writes keep their keys, so nothing duplicates.

    A run that failed while writing a reviewer's approved result goes back to that write.
    """
    approved = Escalation.objects.filter(run=run, status=Escalation.Status.APPROVED).first()
    state = Run.State.ESCALATED if approved else Run.State.QUEUED
    # A retry from the admin also gets a fresh budget of CRM retries.
    updated = Run.objects.filter(pk=run.pk, state=Run.State.FAILED).update(
        state=state, reason="", finished_at=None, crm_retries=0, retry_at=None
    )
    if not updated:
        raise ValueError(f"run {run.pk} is {run.state}; only failed runs can be retried")
    run.refresh_from_db()
    if approved is not None:
        transaction.on_commit(lambda: escalation_write_enqueue(escalation_id=approved.pk))
    else:
        transaction.on_commit(lambda: run_enqueue(run=run))
    return run


def escalation_write_enqueue(*, escalation_id: int) -> None:
    """Hand an approved escalation's write to django-q2 (a thin shim around escalation_write)."""
    async_task(
        "salesops.tasks.escalation_write", escalation_id, task_name=f"escalation-{escalation_id}"
    )
