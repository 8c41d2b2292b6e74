"""Pipeline stage 1, prepare: read the record document and decide whether the SOP applies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import CRMError, RecordNotFound, RecordRef, RetriableCRMError
from salesops.models import Run
from salesops.services.records import record_document_fetch
from salesops.services.run_state import retries_note, run_finish, run_retry_later
from salesops.services.steps import StepRecorder
from salesops.specs.model import ExpressionError, SopSpec


def applies_when_check(spec: SopSpec, document: dict[str, Any], now: datetime) -> str | None:
    """None when the SOP applies to the record; otherwise why not ("out of scope: ...").

    Raises ExpressionError when `applies_when` cannot be evaluated on this record.
    """
    if spec.applies_when is None:
        return None
    activation = {"record": document, "now": now.isoformat(), "today": now.date().isoformat()}
    if spec.applies_when.evaluate(activation) is True:
        return None
    return f"applies_when is false: {spec.applies_when.source}"


def run_prepare(
    *, run: Run, spec: SopSpec, recorder: StepRecorder, now: datetime
) -> dict[str, Any] | Run:
    """The record document the run works on (stored on the run as its input), or the run,
    ended, when the record is gone, unreadable or out of the SOP's scope, or put aside
    (`retrying`) after a retriable CRM error."""
    ref = RecordRef(run.object_type, run.record_id)
    try:
        document = record_document_fetch(connection=run.connection, ref=ref, spec=spec, now=now)
    except RecordNotFound as exc:
        return run_finish(run, Run.State.FAILED, reason=f"record vanished: {exc}")
    except RetriableCRMError as exc:  # 429, 5xx, timeout: read again later, a few times
        if run_retry_later(run, error=exc, stage="read", recorder=recorder):
            return run
        reason = f"CRM read failed{retries_note(run)}: {exc}"
        return run_finish(run, Run.State.FAILED, reason=reason)
    except CRMError as exc:  # permanent: the vendor's message, at once
        return run_finish(run, Run.State.FAILED, reason=f"CRM read failed: {exc}")
    run.input = document  # the audit of what was read: the record document itself
    try:
        out_of_scope = applies_when_check(spec, document, now)
    except ExpressionError as exc:
        return run_finish(run, Run.State.FAILED, reason=f"applies_when failed: {exc}")
    if out_of_scope:
        recorder.info("applies_when", "the record is out of this SOP's scope", status="skipped")
        return run_finish(run, Run.State.SKIPPED, reason=out_of_scope)
    return document
