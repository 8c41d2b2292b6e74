"""The run lifecycle: create (idempotently), claim, execute, verify, then write or escalate."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_q.tasks import async_task

from connectors.base import CRMError, RecordNotFound, RecordRef
from salesops.agents.base import EngineResult, RunInput
from salesops.models import Escalation, Run, Sop, SopVersion
from salesops.services.plugins import connector_get, engine_get
from salesops.services.records import record_document_fetch
from salesops.services.sops import knowledge_skills_get, sop_spec_get
from salesops.services.steps import StepRecorder
from salesops.services.writeback import run_write_back
from salesops.specs.model import Check, ExpressionError, SopSpec
from salesops.verify import verify_result
from salesops.verify.report import CheckOutcome, VerificationReport
from salesops.verify.verifier import Judge

logger = logging.getLogger(__name__)


def run_key(*, sop: Sop, ref: RecordRef, event_key: str) -> str:
    """One run per (SOP, record, triggering event); long keys are hashed to fit the column."""
    key = f"{sop.name}|{ref.object_type}:{ref.id}|{event_key}"
    if len(key) > 200:
        key = f"{sop.name}|{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _version_for(sop: Sop, version: SopVersion | None, object_type: str) -> SopVersion:
    version = version or sop.published_version
    if version is None:
        raise ValueError(f"SOP {sop.name!r} has no published version")
    if object_type != sop.object_type:
        raise ValueError(f"SOP {sop.name!r} runs on {sop.object_type} records, not {object_type}")
    return version


def run_create(
    *,
    sop: Sop,
    ref: RecordRef,
    trigger: str,
    event_key: str,
    version: SopVersion | None = None,
    shadow: bool = False,
    connector: str | None = None,
    user: Any = None,
    enqueue: bool = True,
) -> tuple[Run, bool]:
    """Create the run for this (SOP, record, event) unless it exists; enqueue it after commit.

    Returns (run, created). A second call with the same event returns the first run untouched.
    """
    runs, new = runs_create(
        sop=sop,
        refs=[ref],
        trigger=trigger,
        event_key=event_key,
        version=version,
        shadow=shadow,
        connector=connector,
        user=user,
        enqueue=enqueue,
    )
    return runs[0], bool(new)


def runs_create(
    *,
    sop: Sop,
    refs: list[RecordRef],
    trigger: str,
    event_key: str,
    version: SopVersion | None = None,
    shadow: bool = False,
    connector: str | None = None,
    user: Any = None,
    enqueue: bool = True,
) -> tuple[list[Run], int]:
    """`run_create` for many records of one event, in three queries; returns (runs, new).

    Runs come back in the order of `refs`. A key created concurrently by another process may be
    enqueued twice; the claim in `run_execute` makes the second delivery a no-op.
    """
    for ref in refs:
        version = _version_for(sop, version, ref.object_type)
    keys = [run_key(sop=sop, ref=ref, event_key=event_key) for ref in refs]
    with transaction.atomic():
        existing = set(
            Run.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        fresh = [
            Run(
                idempotency_key=key,
                sop=sop,
                sop_version=version,
                connector=connector or settings.SALESOPS["CONNECTOR"],
                object_type=ref.object_type,
                record_id=ref.id,
                trigger=trigger,
                shadow=shadow,
                created_by=user if getattr(user, "pk", None) else None,
            )
            for key, ref in dict(zip(keys, refs, strict=True)).items()
            if key not in existing
        ]
        Run.objects.bulk_create(fresh, ignore_conflicts=True)
        by_key = {r.idempotency_key: r for r in Run.objects.filter(idempotency_key__in=keys)}
        created = [by_key[run.idempotency_key] for run in fresh]
        if created and enqueue:
            transaction.on_commit(lambda: [run_enqueue(run=run) for run in created])
    return [by_key[key] for key in keys], len(created)


def run_enqueue(*, run: Run) -> None:
    """Hand the run to django-q2 by dotted path: the task is a thin shim around run_execute."""
    async_task(
        "salesops.tasks.run_execute",
        run.pk,
        task_name=f"run-{run.pk}",
        group=f"sop:{run.sop_id}",
        cluster=settings.SALESOPS["RUN_CLUSTER"],
    )


def _claim(run_id: int, now: datetime) -> str | None:
    """Claim a run with a conditional UPDATE; the row count says whether we own it.

    django-q2 delivers at least once, so a second delivery finds the run claimed and stops.
    A run left `running` or `writing` past the task timeout by a dead worker is reclaimed.
    """
    if Run.objects.filter(pk=run_id, state=Run.State.QUEUED).update(
        state=Run.State.RUNNING, started_at=now, attempts=F("attempts") + 1
    ):
        return "fresh"
    stale = now - timedelta(seconds=settings.SALESOPS["RUN_TIMEOUT"])
    for state in (Run.State.RUNNING, Run.State.WRITING):
        if Run.objects.filter(pk=run_id, state=state, started_at__lt=stale).update(
            started_at=now, attempts=F("attempts") + 1
        ):
            return f"stale-{state}"
    return None


def _finish(run: Run, state: str, *, reason: str = "", **fields: Any) -> Run:
    run.state = state
    run.reason = reason
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def run_execute(*, run_id: int, now: datetime | None = None) -> Run:
    """Execute one queued run end to end. Safe to call twice: the second call does nothing."""
    now = now or timezone.now()
    claim = _claim(run_id, now)
    run = Run.objects.select_related("sop", "sop_version__sop").get(pk=run_id)
    if claim is None:
        return run
    recorder = StepRecorder(run, fresh=claim == "fresh" and run.attempts == 1)
    if claim == "stale-writing":
        recorder.info(
            "resume", f"resumed write-back after a worker stopped (attempt {run.attempts})"
        )
        return _write_and_finish(run, recorder, spec=sop_spec_get(run.sop_version), now=now)
    spec = sop_spec_get(run.sop_version)
    try:
        if run.output is not None:  # reclaimed or retried after the engine had answered
            return _resume_proposal(run, spec, recorder, now, claim=claim)
        if claim == "stale-running":
            recorder.info("restart", f"restarted after a worker stopped (attempt {run.attempts})")
        return _execute(run, spec, recorder, now)
    except Exception as exc:  # the run must end in a recorded state, whatever broke
        logger.exception("run %s crashed", run.pk)
        return _finish(run, Run.State.FAILED, reason=f"internal error: {type(exc).__name__}: {exc}")


def _execute(run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime) -> Run:
    ref = RecordRef(run.object_type, run.record_id)
    started = time.perf_counter()
    try:
        document = record_document_fetch(
            connector=connector_get(run.connector), ref=ref, spec=spec, now=now
        )
    except RecordNotFound as exc:
        return _finish(run, Run.State.FAILED, reason=f"record vanished: {exc}")
    except CRMError as exc:
        return _finish(run, Run.State.FAILED, reason=f"CRM read failed: {exc}")
    run.input = document  # the audit of what was read: the record document itself
    if spec.applies_when is not None:
        activation = {"record": document, "now": now.isoformat(), "today": now.date().isoformat()}
        try:
            applies = spec.applies_when.evaluate(activation) is True
        except ExpressionError as exc:
            return _finish(run, Run.State.FAILED, reason=f"applies_when failed: {exc}")
        if not applies:
            recorder.info("applies_when", "the record is out of this SOP's scope", status="skipped")
            return _finish(
                run, Run.State.SKIPPED, reason=f"applies_when is false: {spec.applies_when.source}"
            )

    engine = engine_get()
    # An engine that does no I/O (rules) proposes and is checked in one transaction: on
    # SQLite that is one write lock instead of four, and a crash leaves nothing half-recorded.
    # Engines that call a model record each step as it happens instead (a crash leaves a trail).
    in_process = getattr(engine, "in_process", False)
    with transaction.atomic() if in_process else contextlib.nullcontext():
        outcome = _propose(run, spec, recorder, now, engine, document)
    if isinstance(outcome, Run):
        return outcome
    return _conclude(run, spec, recorder, now, outcome, started=started)


def _propose(
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    engine: Any,
    document: dict[str, Any],
) -> VerificationReport | Run:
    """Ask the engine, verify, and store the proposal with its checks; a Run when it failed."""
    run.engine = engine.name
    run.save(update_fields=["engine", "input"])

    def verify(output: dict[str, Any], judge: Any = None):
        return verify_result(spec, output, document, now=now, judge=judge)

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
    run.model = result.model
    run.output = result.output
    if result.output is None:
        _totals(run)
        return _finish(
            run, Run.State.FAILED, reason=result.error or "the engine produced no result"
        )
    report = result.report or verify(result.output)
    # The proposal and its verdicts are stored together, before anything else happens: a run
    # reclaimed after a worker died resumes from here instead of paying the model again.
    with transaction.atomic():
        recorder.checks(report.outcomes)
        _totals(run)
        run.reason = result.error
        run.save(update_fields=["output", "model", "reason", *_TOTALS])
    return report


def _resume_proposal(
    run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime, *, claim: str
) -> Run:
    """A reclaimed or retried run whose engine had already answered: verify the stored proposal
    again, replaying judge verdicts from the audit trail; never pay the model twice for it."""
    why = "restarted after a worker stopped" if claim == "stale-running" else "retried"
    recorder.info(
        "restart" if claim == "stale-running" else "retry",
        f"{why} (attempt {run.attempts}): the engine had already proposed a result, so it is "
        "verified again and the model is not called twice",
    )
    judge = _recorded_judge(run) if run.model else None
    report = verify_result(spec, run.output, run.input or {}, now=now, judge=judge)
    recorder.checks(report.outcomes)
    _totals(run)
    return _conclude(run, spec, recorder, now, report, started=time.perf_counter())


def _recorded_judge(run: Run) -> Judge:
    """A judge that answers with the verdicts stored for this run (the latest per check)."""
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


def _conclude(
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    report: VerificationReport,
    *,
    started: float,
) -> Run:
    """Escalate a proposal with blocking checks; otherwise write it (or stop, in shadow)."""
    blocking = [o for o in report.outcomes if o.blocks_write]
    if blocking:
        reason = "; ".join(f"{o.id}: {o.message}" for o in blocking)
        if run.reason:  # the engine stopped early (budget, turn limit) on a rejected proposal
            reason = f"{run.reason}; {reason}"
        if not run.shadow:
            Escalation.objects.get_or_create(
                run=run,
                defaults={
                    "reason": reason,
                    "checks": [
                        {"id": o.id, "kind": o.kind, "status": o.status, "message": o.message}
                        for o in blocking
                    ],
                },
            )
        return _finish(run, Run.State.ESCALATED, reason=reason)
    if run.shadow:
        return _finish(run, Run.State.VERIFIED, reason="shadow run: nothing written")
    return _write_and_finish(run, recorder, spec=spec, now=now)


def _write_and_finish(run: Run, recorder: StepRecorder, *, spec: SopSpec, now: datetime) -> Run:
    run.state = Run.State.WRITING
    run.reason = ""
    run.save(update_fields=["state", "reason", "output", "input", "engine", "model", *_TOTALS])
    try:
        run_write_back(
            run=run, spec=spec, output=run.output, record=run.input, now=now, recorder=recorder
        )
    except (CRMError, ExpressionError) as exc:
        return _finish(run, Run.State.FAILED, reason=f"write-back failed: {exc}")
    return _finish(run, Run.State.WRITTEN)


_TOTALS = [
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cost_usd",
]


def _totals(run: Run) -> None:
    """Tokens and cost over every step of the run, earlier attempts included (all were billed)."""
    sums = run.steps.aggregate(**{name: Sum(name) for name in _TOTALS})
    for name in _TOTALS:
        setattr(run, name, sums[name] or 0)


def run_retry(*, run: Run) -> Run:
    """Put a failed run back in the queue; its writes keep their keys, so nothing duplicates."""
    updated = Run.objects.filter(pk=run.pk, state=Run.State.FAILED).update(
        state=Run.State.QUEUED, reason="", finished_at=None
    )
    if not updated:
        raise ValueError(f"run {run.pk} is {run.state}; only failed runs can be retried")
    run.refresh_from_db()
    transaction.on_commit(lambda: run_enqueue(run=run))
    return run


def run_complete(
    *,
    run: Run,
    spec: SopSpec,
    result: EngineResult,
    recorder: StepRecorder,
    now: datetime,
    judge: Judge | None = None,
) -> Run:
    """Finish a running run whose engine result arrived out of band (a Message Batch):
    verify (with `judge` for rubric checks), then escalate or write, as run_execute does."""
    started = time.perf_counter()
    run.engine, run.model, run.output = result.engine, result.model, result.output
    if result.output is None:
        _totals(run)
        return _finish(
            run, Run.State.FAILED, reason=result.error or "the engine produced no result"
        )
    report = result.report or verify_result(
        spec, result.output, run.input or {}, now=now, judge=judge
    )
    with transaction.atomic():
        recorder.checks(report.outcomes)
        _totals(run)
        run.reason = result.error
        run.save(update_fields=["output", "engine", "model", "reason", *_TOTALS])
    return _conclude(run, spec, recorder, now, report, started=started)
