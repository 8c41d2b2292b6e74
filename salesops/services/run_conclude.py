"""Pipeline stage 4, conclude: escalate a blocked proposal, or write a verified one.

`run_write` is the only way a run's result reaches the CRM, and it refuses a report that
still blocks: a write needs every check passed, skipped, overridden or accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import CRMError, RetriableCRMError
from salesops.models import Run
from salesops.services.escalations import escalation_open, escalations_supersede
from salesops.services.run_state import TOTALS, retries_note, run_finish, run_retry_later
from salesops.services.steps import StepRecorder
from salesops.services.writeback import run_write_back
from salesops.specs.model import ExpressionError, SopSpec
from salesops.verify.report import VerificationReport


class NotVerified(RuntimeError):
    """A write was attempted with a report that still blocks it (a bug, never a user error)."""


@dataclass(frozen=True)
class WriteFailed:
    """Why the CRM refused a write: the error, and whether trying again later may succeed."""

    error: Exception

    @property
    def retriable(self) -> RetriableCRMError | None:
        """The error when trying again later may succeed (429, 5xx, timeout), else None."""
        return self.error if isinstance(self.error, RetriableCRMError) else None

    def reason(self, note: str = "") -> str:
        """The run's reason: "write-back failed<note>: <the vendor's message>"."""
        return f"write-back failed{note}: {self.error}"

    def __str__(self) -> str:
        return self.reason()


def run_conclude(
    *,
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    report: VerificationReport,
    output: dict[str, Any],
) -> Run:
    """Escalate a proposal with blocking checks; otherwise write it (or stop, in shadow)."""
    blocking = [o for o in report.outcomes if o.blocks_write]
    if blocking:
        reason = "; ".join(f"{o.id}: {o.message}" for o in blocking)
        if run.reason:  # the engine stopped early (budget, turn limit) on a rejected proposal
            reason = f"{run.reason}; {reason}"
        if not run.shadow:
            escalation_open(run=run, blocking=blocking, reason=reason)
        return run_finish(run, Run.State.ESCALATED, reason=reason)
    if run.shadow:
        return run_finish(run, Run.State.VERIFIED, reason="shadow run: nothing written")
    return run_write(run=run, spec=spec, recorder=recorder, now=now, output=output, report=report)


def write_error(
    *,
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    output: dict[str, Any],
    report: VerificationReport,
) -> WriteFailed | None:
    """Perform the writes of a verified result; None when done, else why the CRM refused.

    Writes already done (by their keys) are skipped, so calling it again after a failure or
    a crash completes the rest without duplicates.
    """
    if not report.writable:
        blocking = ", ".join(o.id for o in report.outcomes if o.blocks_write)
        raise NotVerified(f"run {run.pk}: refusing to write over blocking checks ({blocking})")
    run.state, run.output = Run.State.WRITING, output
    run.save(update_fields=["state", "reason", "output", "input", "engine", "model", *TOTALS])
    try:
        run_write_back(
            run=run, spec=spec, output=output, record=run.input or {}, now=now, recorder=recorder
        )
    except (CRMError, ExpressionError) as exc:
        return WriteFailed(exc)
    # The CRM now holds this result: older results waiting for review are stale.
    escalations_supersede(run=run)
    return None


def run_write(
    *,
    run: Run,
    spec: SopSpec,
    recorder: StepRecorder,
    now: datetime,
    output: dict[str, Any],
    report: VerificationReport,
    reason: str = "",
) -> Run:
    """Write a verified result and end the run: written; put aside (`retrying`) after a
    retriable CRM error while it has retries left; else failed with the reason."""
    run.reason = reason
    failed = write_error(
        run=run, spec=spec, recorder=recorder, now=now, output=output, report=report
    )
    if failed is None:
        return run_finish(run, Run.State.WRITTEN, reason=reason)
    if failed.retriable is None:  # permanent: the vendor's message, at once
        return run_finish(run, Run.State.FAILED, reason=str(failed))
    if run_retry_later(run, error=failed.retriable, stage="write", recorder=recorder):
        return run
    return run_finish(run, Run.State.FAILED, reason=failed.reason(retries_note(run)))
