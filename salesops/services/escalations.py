"""The review queue: open an escalation, approve (as is, edited, or over named checks), reject,
and write an approved result through the same verify and write stages as every run."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from salesops.agents.base import StepRecord
from salesops.models import Escalation, Run, Sop
from salesops.services.sops import sop_spec_get
from salesops.services.steps import StepRecorder
from salesops.verify import verify_result
from salesops.verify.decisions import DecisionError, ReviewDecision, decision_apply
from salesops.verify.report import CheckOutcome, VerificationReport
from salesops.verify.verifier import Origin

logger = logging.getLogger(__name__)


class EscalationError(ValueError):
    """The decision cannot be made (already decided, failing checks not overridden, ...)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)


def escalation_open(*, run: Run, blocking: list[CheckOutcome], reason: str) -> Escalation:
    """Put a run in the review queue with the checks that stopped its write (once per run).

    One open escalation per (SOP, record): it supersedes the open ones of older runs, or opens
    superseded itself when a newer run of the SOP on the record already escalated or wrote.
    """
    with transaction.atomic():
        _lock_sop(run)
        escalation, created = Escalation.objects.get_or_create(
            run=run,
            defaults={
                "reason": reason,
                "checks": [
                    {"id": o.id, "kind": o.kind, "status": o.status, "message": o.message}
                    for o in blocking
                ],
            },
        )
        if not created:
            return escalation  # a redelivery: the first delivery already queued it
        newer = (
            _same_sop_and_record(run)
            .filter(pk__gt=run.pk)
            .filter(Q(escalation__isnull=False) | Q(state__in=SUPERSEDING_STATES))
            .order_by("-pk")
            .first()
        )
        if newer is not None:
            _supersede(Escalation.objects.filter(pk=escalation.pk), by=newer)
            escalation.refresh_from_db()
        else:
            escalations_supersede(run=run)
    return escalation


# A newer run in these states has a result at least as current as an older open escalation's.
SUPERSEDING_STATES = (Run.State.WRITING, Run.State.WRITTEN)


def escalations_supersede(*, run: Run) -> int:
    """Supersede the open escalations of older runs of this run's SOP on its record, because
    this run escalated or wrote a newer result; returns how many. A reviewer then cannot
    approve a stale result over it."""
    with transaction.atomic():
        _lock_sop(run)
        older = Escalation.objects.filter(
            status=Escalation.Status.OPEN,
            run__in=_same_sop_and_record(run).filter(pk__lt=run.pk),
        )
        return _supersede(older, by=run)


def _same_sop_and_record(run: Run) -> QuerySet[Run]:
    return Run.objects.filter(
        sop_id=run.sop_id,
        connection_id=run.connection_id,
        object_type=run.object_type,
        record_id=run.record_id,
        shadow=False,
    )


def _lock_sop(run: Run) -> None:
    # Serialises escalating and writing runs of one SOP on PostgreSQL, so two runs escalating
    # at once cannot both stay open (SQLite serialises every writer anyway).
    list(Sop.objects.select_for_update().filter(pk=run.sop_id).values_list("pk"))


def _supersede(escalations: QuerySet[Escalation], *, by: Run) -> int:
    return escalations.filter(status=Escalation.Status.OPEN).update(
        status=Escalation.Status.SUPERSEDED,
        superseded_by=by,
        decided_at=timezone.now(),
        decision_note=f"superseded by run {by.pk}, a newer result for this record",
    )


def _not_open(escalation: Escalation) -> EscalationError:
    """Why a decision was refused, read from the row as it is now (it may have just changed)."""
    current = Escalation.objects.filter(pk=escalation.pk).values("status", "superseded_by").first()
    if current and current["status"] == Escalation.Status.SUPERSEDED:
        return EscalationError(
            f"escalation {escalation.pk} was superseded by run {current['superseded_by']}, "
            "a newer result for this record; review that run instead"
        )
    return EscalationError(f"escalation {escalation.pk} was already decided")


def reviewer_name(user: Any) -> str:
    """How the audit trail names a reviewer: full name and username, or "a reviewer"."""
    if not getattr(user, "pk", None):
        return "a reviewer"
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


def _output(escalation: Escalation, edited_output: Any) -> Any:
    if edited_output is not None:
        return edited_output
    if escalation.edited_output is not None:
        return escalation.edited_output
    return escalation.run.output


def escalation_review(
    *,
    escalation: Escalation,
    output: Any = None,
    overrides: dict[str, str] | None = None,
    user: Any = None,
) -> VerificationReport:
    """Verify the result a reviewer would approve (edited or as is), with their overrides applied
    when given; the reviewer sees every check before deciding. Writes nothing."""
    run = escalation.run
    spec = sop_spec_get(run.sop_version)
    edited = output is not None
    origin: Origin = "human" if edited else ("rules" if run.engine == "rules" else "model")
    report = verify_result(
        spec,
        _output(escalation, output),
        run.input or {},
        now=escalation.created_at,  # the clock the run was verified by
        origin=origin,
        judge=None if edited else _stored_judge(run),
    )
    if overrides is not None:
        report = decision_apply(
            report, ReviewDecision(reviewer=reviewer_name(user), overrides=overrides)
        )
    return report


def escalation_overridable_checks(*, escalation: Escalation) -> list[tuple[str, str]]:
    """(check id, label) of every check a reviewer may override for this run's SOP: the ones
    that stopped the run first, then the SOP's other named checks (an edit may fail them)."""
    spec = sop_spec_get(escalation.run.sop_version)
    choices: dict[str, str] = {}
    for check in escalation.checks:
        if check.get("status") in ("failed", "error") and check.get("kind") != "schema":
            choices[check["id"]] = f"{check['id']} (failed: {check.get('message', '')[:120]})"
    for path in spec.evidence:
        choices.setdefault(f"grounding:{path}", f"grounding:{path}")
    choices.setdefault("claims", "claims: facts stated in free text")
    choices.setdefault("injection-guard", "injection-guard: instructions found in CRM text")
    for check in spec.acceptance:
        choices.setdefault(check.id, f"{check.id}: {check.message}"[:160])
    return list(choices.items())


def _stored_judge(run: Run) -> Any:
    from salesops.services.run_verify import recorded_judge  # run_verify imports plugins

    return recorded_judge(run) if run.model else None


def _decide(escalation: Escalation, status: str, user: Any, note: str, **fields: Any) -> bool:
    # Conditional UPDATE: two reviewers clicking at once cannot both decide.
    return bool(
        Escalation.objects.filter(pk=escalation.pk, status=Escalation.Status.OPEN).update(
            status=status,
            decided_by=user if getattr(user, "pk", None) else None,
            decided_at=timezone.now(),
            decision_note=note,
            **fields,
        )
    )


def escalation_approve(
    *,
    escalation: Escalation,
    user: Any,
    edited_output: Any = None,
    overrides: dict[str, str] | None = None,
    note: str = "",
) -> Escalation:
    """Approve a run for write-back, as is or with an edited result; the write goes via the queue.

    The result is verified in full first. A failed check blocks the approval unless the
    reviewer overrides it by id with a reason; met escalation conditions are accepted by the
    approval and recorded as accepted by this reviewer. The schema cannot be overridden.
    """
    if not Escalation.objects.filter(pk=escalation.pk, status=Escalation.Status.OPEN).exists():
        raise _not_open(escalation)  # e.g. superseded since the reviewer opened it
    if _output(escalation, edited_output) is None:
        raise EscalationError("this run produced no result; edit one in before approving")
    overrides = {k: str(v).strip() for k, v in (overrides or {}).items()}
    try:
        escalation_review(
            escalation=escalation, output=edited_output, overrides=overrides, user=user
        )
    except DecisionError as exc:
        raise EscalationError(str(exc), exc.problems) from exc
    fields: dict[str, Any] = {"overrides": overrides}
    if edited_output is not None:
        fields["edited_output"] = edited_output
    with transaction.atomic():
        if not _decide(escalation, Escalation.Status.APPROVED, user, note, **fields):
            raise _not_open(escalation)
        transaction.on_commit(
            lambda: async_task(
                "salesops.tasks.escalation_write",
                escalation.pk,
                task_name=f"escalation-{escalation.pk}",
            )
        )
    escalation.refresh_from_db()
    return escalation


def escalation_reject(*, escalation: Escalation, user: Any, reason: str) -> Escalation:
    """Reject: nothing is written; the reason is kept for the SOP's author."""
    if not reason.strip():
        raise EscalationError("a rejection needs a reason")
    if not _decide(escalation, Escalation.Status.REJECTED, user, reason.strip()):
        raise _not_open(escalation)
    escalation.refresh_from_db()
    return escalation


def escalation_write(*, escalation_id: int, claimed: bool = False) -> Run:
    """Verify the approved result again (with the reviewer's decision) and write it.

    Idempotent: the run is claimed with a conditional UPDATE (`claimed`: the caller reclaimed it
    already) and writes carry keys, so a redelivery or a resume after a crash writes nothing
    twice. A worker stopped mid-write releases the run to the sweeper, which resumes it.
    """
    from salesops.services.runs import run_release  # runs imports us

    escalation = Escalation.objects.select_related("run__sop_version__sop", "decided_by").get(
        pk=escalation_id
    )
    run = escalation.run
    if escalation.status != Escalation.Status.APPROVED:
        return run
    # Each claim counts as an attempt, so SALESOPS_Q_MAX_ATTEMPTS bounds reclaimed writes too;
    # an approval starts with a fresh budget of CRM retries.
    if not claimed and not Run.objects.filter(pk=run.pk, state=Run.State.ESCALATED).update(
        state=Run.State.WRITING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        crm_retries=0,
        retry_at=None,
    ):
        return run  # already written (or being written) by an earlier delivery
    if claimed:  # the caller (run_execute) ends or releases the run whatever is raised
        return _write_approved(escalation, run)
    try:
        return _write_approved(escalation, run)
    except Exception as exc:  # whatever broke, the run must not stay `writing`
        logger.exception("the approved write of run %s crashed", run.pk)
        return _write_crashed(run, exc)
    except BaseException as exc:  # django-q2's timeout (a SystemExit), a shutdown
        run_release(run_id=run.pk, exc=exc)
        raise


def _write_crashed(run: Run, exc: Exception) -> Run:
    """End a run whose approved write raised something unexpected: failed with the reason; the
    escalation stays approved, so a retry from the admin writes it (writes carry keys)."""
    from salesops.services.run_state import run_finish

    reason = (
        f"internal error while writing the approved result: {type(exc).__name__}: {exc}; "
        "retry it from the admin once the cause is fixed"
    )
    StepRecorder(run).info("error", reason, status="failed")
    return run_finish(run, Run.State.FAILED, reason=reason)


def _write_approved(escalation: Escalation, run: Run) -> Run:
    from salesops.services.run_conclude import write_error  # run_conclude imports us
    from salesops.services.run_state import retries_note, run_finish, run_retry_later

    run.refresh_from_db()
    newer = _newer_result(run)
    if newer is not None:
        # Approved, but a newer run of this SOP already wrote (or put up) a newer result for
        # the record while the write waited: writing the older one now would undo it.
        return _superseded_before_write(escalation, run, newer)
    output = _output(escalation, None)
    recorder = StepRecorder(run)
    reviewer = reviewer_name(escalation.decided_by)
    edited = escalation.edited_output is not None
    # The run's output becomes what is written; the engine's proposal stays in this step.
    recorder(
        StepRecord(
            kind="info",
            name="approved",
            message=f"approved by {reviewer}{' with an edited result' if edited else ''}",
            input={"proposed": run.output} if edited else None,
        )
    )
    run.output = output
    spec = sop_spec_get(run.sop_version)
    from salesops.services.run_verify import run_verify

    decision = ReviewDecision(reviewer=reviewer, overrides=escalation.overrides or {})
    try:
        report = run_verify(
            run=run,
            spec=spec,
            output=output,
            now=escalation.created_at,  # the clock the run was verified by
            recorder=recorder,
            origin="human" if edited else ("rules" if run.engine == "rules" else "model"),
            judge=None if edited else _stored_judge(run),
            decision=decision,
        )
    except DecisionError as exc:
        return _reopen(escalation, run, f"approved, but the checks changed: {exc}")
    failed = write_error(
        run=run, spec=spec, recorder=recorder, now=timezone.now(), output=output, report=report
    )
    if failed is not None:
        # 429, 5xx, timeout: write again later (the sweeper hands the run back when due).
        if failed.retriable is not None and run_retry_later(
            run, error=failed.retriable, stage="approved write", recorder=recorder
        ):
            return run
        # Back to the queue, open again: the reviewer sees why and can approve once the CRM is back.
        return _reopen(escalation, run, f"approved, but {failed.reason(retries_note(run))}")
    return run_finish(run, Run.State.WRITTEN, reason=_written_reason(report))


def _written_reason(report: VerificationReport) -> str:
    decided = [o for o in report.outcomes if o.status in ("overridden", "accepted")]
    if not decided:
        return "written after review"
    return "written after review: " + "; ".join(f"{o.id} {o.message}" for o in decided)


def _newer_result(run: Run) -> Run | None:
    """The newest later run of this SOP on this record that wrote, or awaits review."""
    later = _same_sop_and_record(run).filter(pk__gt=run.pk)
    return (
        later.filter(state__in=SUPERSEDING_STATES).order_by("-pk").first()
        or later.filter(escalation__status=Escalation.Status.OPEN).order_by("-pk").first()
    )


def _superseded_before_write(escalation: Escalation, run: Run, newer: Run) -> Run:
    reason = f"approved, but superseded by run {newer.pk}, a newer result for this record"
    run.state, run.reason = Run.State.ESCALATED, f"{reason}; nothing written"
    run.save(update_fields=["state", "reason"])
    Escalation.objects.filter(pk=escalation.pk).update(
        status=Escalation.Status.SUPERSEDED, superseded_by=newer, decision_note=reason
    )
    return run


def _reopen(escalation: Escalation, run: Run, reason: str) -> Run:
    newer = _newer_result(run)
    if newer is not None:  # reopening would put a second open escalation on the record
        return _superseded_before_write(escalation, run, newer)
    run.state, run.reason = Run.State.ESCALATED, reason
    run.save(update_fields=["state", "reason"])
    Escalation.objects.filter(pk=escalation.pk).update(
        status=Escalation.Status.OPEN, decision_note=reason
    )
    return run
