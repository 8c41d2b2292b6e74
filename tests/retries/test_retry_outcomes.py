"""What ends a CRM retry: success, a used-up budget (failed with the reason), a permanent
error (failed at once), any other exception (never left `writing`); and the sweeper finds a
due retry whatever happened after it was decided."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.local import models as crm
from salesops.models import Escalation, Run
from salesops.services.run_state import crm_retry_delay
from salesops.services.runs import run_execute, run_retry
from salesops.services.sweeper import runs_sweep
from tests.helpers import run_now
from tests.retries.conftest import sweep_until_settled
from tests.retries.stormy_crm import bad_request, server_error, too_many
from tests.retries.test_crm_storm import approve, escalated_runs

pytestmark = pytest.mark.django_db


def test_a_used_up_retry_budget_fails_the_run_with_the_reason(
    library, sample_crm, stormy_crm, sync_queue
):
    stormy_crm.storm(apply=[server_error() for _ in range(10)])
    run = run_now("lead-qualification", "c-001", key="budget")
    sweep_until_settled()
    run.refresh_from_db()
    assert run.state == Run.State.FAILED
    assert run.reason == "write-back failed after 3 retries: 500 Internal Server Error"
    assert run.crm_retries == 3 and run.retry_at is None
    steps = list(run.steps.filter(kind="retry").values_list("status", flat=True))
    assert steps == ["retrying", "retrying", "retrying", "failed"]
    assert stormy_crm.calls["apply"] == 4  # the first try and three retries

    stormy_crm.calm()  # the admin's retry gets a fresh budget and finishes the job
    run_retry(run=run)
    run = run_execute(run_id=run.pk)
    assert run.state == Run.State.WRITTEN and run.crm_retries == 0


def test_a_permanent_error_fails_the_write_at_once_with_the_vendors_message(
    library, sample_crm, stormy_crm, sync_queue
):
    stormy_crm.storm(apply=[bad_request()])
    run = run_now("lead-qualification", "c-001", key="permanent")
    assert run.state == Run.State.FAILED
    assert run.reason == "write-back failed: 400 Bad Request: property ai_score is read-only"
    assert run.crm_retries == 0 and not run.steps.filter(kind="retry").exists()


def test_a_permanent_read_error_fails_at_once(library, sample_crm, stormy_crm, sync_queue):
    stormy_crm.storm(get_many=[bad_request()])
    run = run_now("lead-qualification", "c-001", key="read-permanent")
    assert run.state == Run.State.FAILED
    assert run.reason.startswith("CRM read failed: 400 Bad Request")
    assert run.crm_retries == 0


def test_a_retriable_read_error_reads_again_later(library, sample_crm, stormy_crm, sync_queue):
    stormy_crm.storm(get_many=[server_error(), too_many()])
    run = run_now("lead-qualification", "c-001", key="read-retry")
    assert run.state == Run.State.RETRYING and run.input is None
    sweep_until_settled()
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason
    assert run.crm_retries == 2 and run.attempts == 1  # retries are not crash attempts
    assert run.steps.filter(kind="retry", name="read", status="retrying").count() == 2


def test_an_early_delivery_leaves_a_retry_waiting(library, sample_crm, stormy_crm, sync_queue):
    stormy_crm.storm(apply=[too_many(retry_after=600)])
    run = run_now("lead-qualification", "c-001", key="early")
    again = run_execute(run_id=run.pk)  # at-least-once: a stray delivery before retry_at
    assert again.state == Run.State.RETRYING
    assert runs_sweep().retried == 0  # not due yet


def test_the_sweeper_finds_a_due_retry_that_nobody_enqueued(
    library, sample_crm, stormy_crm, sync_queue
):
    stormy_crm.storm(apply=[server_error()])
    run = run_now("lead-qualification", "c-001", key="crash")
    # The worker decided to retry (one UPDATE) and died: no task was ever enqueued for it.
    assert run.state == Run.State.RETRYING
    Run.objects.filter(pk=run.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert runs_sweep().retried == 1
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason


def test_an_arbitrary_exception_in_an_approvals_write_does_not_leave_it_writing(
    library, sample_crm, stormy_crm, manager, sync_queue, django_capture_on_commit_callbacks
):
    (run,) = escalated_runs(1)
    stormy_crm.storm(apply=[KeyError("owner_id")])
    with django_capture_on_commit_callbacks(execute=True):
        approve(run, manager)
    run.refresh_from_db()
    assert run.state == Run.State.FAILED, run.state
    assert "KeyError" in run.reason and "retry it from the admin" in run.reason
    assert run.escalation.status == Escalation.Status.APPROVED
    assert run.steps.filter(name="error", status="failed").exists()

    stormy_crm.calm()
    with django_capture_on_commit_callbacks(execute=True):
        run_retry(run=run)
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason
    assert (
        crm.Note.objects.filter(idempotency_key__in=run.writes.values("idempotency_key")).count()
        == 1
    )


def test_an_approval_whose_retries_are_used_up_goes_back_to_the_reviewer(
    library, sample_crm, stormy_crm, manager, sync_queue, django_capture_on_commit_callbacks
):
    (run,) = escalated_runs(1)
    stormy_crm.storm(apply=[too_many() for _ in range(10)])
    with django_capture_on_commit_callbacks(execute=True):
        approve(run, manager)
    sweep_until_settled()
    run.refresh_from_db()
    assert run.state == Run.State.ESCALATED
    assert run.escalation.status == Escalation.Status.OPEN
    assert run.reason == "approved, but write-back failed after 3 retries: 429 Too Many Requests"
    assert run.crm_retries == 3


def test_an_arbitrary_exception_in_a_runs_write_fails_it(
    library, sample_crm, stormy_crm, sync_queue
):
    stormy_crm.storm(apply=[KeyError("owner_id")])
    run = run_now("lead-qualification", "c-001", key="keyerror")
    assert run.state == Run.State.FAILED and "KeyError" in run.reason


def test_the_delay_honours_retry_after_else_backs_off_with_jitter(settings):
    settings.SALESOPS = {**settings.SALESOPS, "CRM_RETRY_BASE": 10, "CRM_RETRY_MAX_DELAY": 100}
    assert crm_retry_delay(retry=1, retry_after=7.5) == 7.5
    assert crm_retry_delay(retry=1, retry_after=10**9) == 86_400
    first = [crm_retry_delay(retry=1, retry_after=None) for _ in range(50)]
    third = [crm_retry_delay(retry=3, retry_after=None) for _ in range(50)]
    assert all(10 <= d <= 20 for d in first) and len(set(first)) > 1  # base + jitter
    assert all(40 <= d <= 50 for d in third)  # base * 2^2 + jitter
    assert crm_retry_delay(retry=9, retry_after=None) == 100  # capped
