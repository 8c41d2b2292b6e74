"""Small shared steps of the run pipeline: end a run in a recorded state, sum its spend, and
put it aside for another try after a retriable CRM error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from connectors.base import RetriableCRMError
from salesops.agents.base import StepRecord
from salesops.models import Run

TOTALS = [
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cost_usd",
]

# A vendor's Retry-After is honoured up to a day (a spent daily budget resets by then).
LONGEST_RETRY_AFTER = 86_400.0


def run_finish(run: Run, state: str, *, reason: str = "", **fields: Any) -> Run:
    """Put the run in a final `state` with its reason, now."""
    run.state = state
    run.reason = reason
    run.finished_at = timezone.now()
    run.retry_at = None
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def run_totals(run: Run, recorder: Any = None) -> None:
    """Tokens and cost over every step of the run, earlier attempts included (all were billed).

    A fresh `recorder` (StepRecorder) already holds the sums of every step: no query then.
    """
    known = recorder.sums() if recorder is not None and hasattr(recorder, "sums") else None
    sums = known or run.steps.aggregate(**{name: Sum(name) for name in TOTALS})
    for name in TOTALS:
        setattr(run, name, sums[name] or 0)


def crm_retry_delay(*, retry: int, retry_after: float | None) -> float:
    """Seconds before CRM retry number `retry` (1-based): the vendor's Retry-After when it
    gave one, else exponential backoff with jitter (CRM_RETRY_BASE * 2^(retry-1) + up to
    CRM_RETRY_BASE, at most CRM_RETRY_MAX_DELAY), so retrying workers do not stampede."""
    if retry_after is not None and retry_after > 0:
        return min(float(retry_after), LONGEST_RETRY_AFTER)
    base = settings.SALESOPS["CRM_RETRY_BASE"]
    wait = wait_exponential_jitter(
        multiplier=base, jitter=base, max=settings.SALESOPS["CRM_RETRY_MAX_DELAY"]
    )
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = retry
    return float(wait(state))


def run_retry_later(run: Run, *, error: RetriableCRMError, stage: str, recorder: Any) -> bool:
    """Put the run aside (`retrying`) for another try of its CRM work after `error`; False,
    with a `retry` step saying so, when it used its SALESOPS_CRM_MAX_RETRIES.

    The decision and its due time are one UPDATE of the run: the sweeper hands every due
    `retrying` run to a worker, so a crash right after it loses nothing.
    """
    limit = settings.SALESOPS["CRM_MAX_RETRIES"]
    if run.crm_retries >= limit:
        recorder(
            StepRecord(
                kind="retry",
                name=stage,
                status="failed",
                message=f"gave up after {run.crm_retries} retries "
                f"(SALESOPS_CRM_MAX_RETRIES={limit}): {error}",
                input={"error": str(error), "retries": run.crm_retries, "max": limit},
            )
        )
        return False
    retry = run.crm_retries + 1
    delay = crm_retry_delay(retry=retry, retry_after=error.retry_after)
    retry_at = timezone.now() + timedelta(seconds=delay)
    message = f"{stage} failed: {error}; retry {retry} of {limit} in {delay:.0f} s"
    recorder(
        StepRecord(
            kind="retry",
            name=stage,
            status="retrying",
            message=message,
            input={
                "error": str(error),
                "retry_after": error.retry_after,
                "delay_seconds": round(delay, 3),
                "retry": retry,
                "max": limit,
                "retry_at": retry_at.isoformat(),
            },
        )
    )
    run.state, run.crm_retries, run.retry_at = Run.State.RETRYING, retry, retry_at
    run.started_at, run.reason = None, message
    run.save(update_fields=["state", "crm_retries", "retry_at", "started_at", "reason"])
    return True


def retries_note(run: Run) -> str:
    """The " after N retries" of a failure's reason when the run was retried, else ""."""
    return f" after {run.crm_retries} retries" if run.crm_retries else ""
