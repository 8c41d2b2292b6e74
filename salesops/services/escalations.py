"""The review queue: approve (optionally with an edited result), reject, and write approved runs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from salesops.models import Escalation, Run
from salesops.services.sops import sop_spec_get
from salesops.services.steps import StepRecorder
from salesops.services.writeback import run_write_back
from salesops.verify import verify_result
from salesops.verify.report import VerificationReport


class EscalationError(ValueError):
    """The decision cannot be made (already decided, invalid edited result, missing reason)."""


def _decide(escalation: Escalation, status: str, user: Any, note: str) -> bool:
    # Conditional UPDATE: two reviewers clicking at once cannot both decide.
    return bool(
        Escalation.objects.filter(pk=escalation.pk, status=Escalation.Status.OPEN).update(
            status=status,
            decided_by=user if getattr(user, "pk", None) else None,
            decided_at=timezone.now(),
            decision_note=note,
        )
    )


def escalation_edit_check(*, escalation: Escalation, output: Any) -> VerificationReport:
    """Verify an edited result; the reviewer sees every check before approving."""
    run = escalation.run
    spec = sop_spec_get(run.sop_version)
    return verify_result(spec, output, run.input or {}, now=timezone.now())


def escalation_approve(
    *, escalation: Escalation, user: Any, edited_output: Any = None, note: str = ""
) -> Escalation:
    """Approve a run for write-back, as is or with an edited result; the write goes via the queue.

    An edited result must pass the SOP's schema and grounding checks (a human may overrule an
    acceptance check or an escalation condition, not the output's shape or its facts).
    """
    if escalation.run.output is None and edited_output is None:
        raise EscalationError("this run produced no result; edit one in before approving")
    if edited_output is not None:
        report = escalation_edit_check(escalation=escalation, output=edited_output)
        hard = [o for o in report.failures if o.kind in ("schema", "grounding")]
        if hard:
            raise EscalationError("; ".join(f"{o.id}: {o.message}" for o in hard))
    with transaction.atomic():
        if not _decide(escalation, Escalation.Status.APPROVED, user, note):
            raise EscalationError(f"escalation {escalation.pk} was already decided")
        if edited_output is not None:
            Escalation.objects.filter(pk=escalation.pk).update(edited_output=edited_output)
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
        raise EscalationError(f"escalation {escalation.pk} was already decided")
    escalation.refresh_from_db()
    return escalation


def escalation_write(*, escalation_id: int) -> Run:
    """Perform the write-back of an approved escalation (idempotent: keys per run and write)."""
    escalation = Escalation.objects.select_related("run__sop_version__sop").get(pk=escalation_id)
    run = escalation.run
    if escalation.status != Escalation.Status.APPROVED:
        return run
    if not Run.objects.filter(pk=run.pk, state=Run.State.ESCALATED).update(
        state=Run.State.WRITING, started_at=timezone.now()
    ):
        return run  # already written (or being written) by an earlier delivery
    run.refresh_from_db()
    output = escalation.edited_output if escalation.edited_output is not None else run.output
    recorder = StepRecorder(run)
    recorder.info(
        "approved",
        f"approved by {escalation.decided_by or 'a reviewer'}"
        + (" with an edited result" if escalation.edited_output is not None else ""),
    )
    spec = sop_spec_get(run.sop_version)
    from connectors.base import CRMError  # local: keeps the module's import list short

    try:
        run_write_back(
            run=run,
            spec=spec,
            output=output,
            record=run.input or {},
            now=timezone.now(),
            recorder=recorder,
        )
    except CRMError as exc:
        # Back to the queue, open again: the reviewer sees why and can approve once the CRM is back.
        run.state, run.reason = Run.State.ESCALATED, f"approved, but write-back failed: {exc}"
        run.save(update_fields=["state", "reason"])
        Escalation.objects.filter(pk=escalation.pk).update(
            status=Escalation.Status.OPEN, decision_note=f"write-back failed: {exc}"
        )
        return run
    run.state, run.output, run.finished_at = Run.State.WRITTEN, output, timezone.now()
    run.save(update_fields=["state", "output", "finished_at"])
    return run
