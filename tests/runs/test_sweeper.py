"""The sweeper: no run stays `running`, `writing` or lost in the queue, whatever its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.exceptions import TimeoutException

from connectors.local import models as crm
from salesops.agents.rules import RulesEngine
from salesops.models import Escalation, Run, Sop
from salesops.services import runs as runs_service
from salesops.services.escalations import escalation_approve, escalation_write
from salesops.services.runs import run_execute, run_retry
from salesops.services.sweeper import runs_sweep
from tests.helpers import run_now

pytestmark = pytest.mark.django_db

MAX = settings.Q_CLUSTER["max_attempts"]
LEASE = timedelta(seconds=settings.SALESOPS["RUN_TIMEOUT"])


def queued_run(record_id: str = "c-001", key: str = "sweep") -> Run:
    from connectors.base import RecordRef
    from salesops.services.runs import run_create

    sop = Sop.objects.get(name="lead-qualification")
    run, _ = run_create(
        sop=sop, ref=RecordRef("contact", record_id), trigger="manual", event_key=key, enqueue=False
    )
    return run


def abandoned(run: Run, *, state: str = Run.State.RUNNING, attempts: int = 1) -> Run:
    """What a worker killed mid-run leaves: claimed, started, never finished."""
    Run.objects.filter(pk=run.pk).update(
        state=state, started_at=timezone.now() - LEASE - timedelta(seconds=5), attempts=attempts
    )
    run.refresh_from_db()
    return run


class TimingOut(RulesEngine):
    """An engine django-q2's timer interrupts: its TimeoutException derives from SystemExit."""

    in_process = False

    def run(self, *args, **kwargs):
        raise TimeoutException("Task exceeded maximum timeout value (300 seconds)")


def test_it_reclaims_a_run_whose_worker_died_long_after_its_task_was_dequeued(
    library, sample_crm, sync_queue
):
    run = queued_run()
    # The worker claimed the run long after the broker handed out its task, then died: the
    # broker's redelivery comes before the run looks stale, finds it running and is acknowledged.
    Run.objects.filter(pk=run.pk).update(
        state=Run.State.RUNNING, started_at=timezone.now(), attempts=1
    )
    assert run_execute(run_id=run.pk).state == Run.State.RUNNING
    abandoned(run)  # the lease runs out; no broker will deliver the task again
    sweep = runs_sweep()
    run.refresh_from_db()
    assert sweep.reclaimed == 1
    assert run.state in (Run.State.WRITTEN, Run.State.ESCALATED), run.reason
    assert run.attempts == 2
    assert run.steps.filter(name="restart").exists()


def test_it_leaves_a_fresh_running_run_to_its_worker(library, sample_crm, sync_queue):
    run = queued_run()
    Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING, started_at=timezone.now())
    assert runs_sweep().reclaimed == 0
    run.refresh_from_db()
    assert run.state == Run.State.RUNNING and run.attempts == 0


def test_a_task_killed_by_the_timeout_hands_its_run_to_the_sweeper(
    library, sample_crm, sync_queue, monkeypatch
):
    run = queued_run()
    with monkeypatch.context() as patch, pytest.raises(TimeoutException):
        patch.setattr(runs_service, "engine_get", lambda: TimingOut())
        run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == Run.State.RUNNING  # not finished, but released:
    assert run.steps.filter(name="timeout", status="failed").exists()
    # The very next sweep takes it back, without waiting for the run's lease to end.
    assert runs_sweep().reclaimed == 1
    run.refresh_from_db()
    assert run.state in (Run.State.WRITTEN, Run.State.ESCALATED), run.reason
    assert run.attempts == 2


def test_a_run_past_the_maximum_attempts_fails_with_a_reason_and_can_be_retried(
    library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    run = abandoned(queued_run(), attempts=MAX)
    sweep = runs_sweep()
    run.refresh_from_db()
    assert sweep.failed == 1 and sweep.reclaimed == 0
    assert run.state == Run.State.FAILED
    assert f"{MAX} attempts" in run.reason and "retry" in run.reason
    assert run.steps.filter(name="abandoned").exists()
    with django_capture_on_commit_callbacks(execute=True):
        run_retry(run=run)
    run.refresh_from_db()
    assert run.state in (Run.State.WRITTEN, Run.State.ESCALATED), run.reason


def test_a_redelivery_does_not_reclaim_a_run_past_the_maximum_attempts(library, sample_crm):
    run = abandoned(queued_run(), attempts=MAX)
    again = run_execute(run_id=run.pk)
    assert again.state == Run.State.FAILED
    assert again.attempts == MAX
    assert f"{MAX} attempts" in again.reason


def test_it_finishes_a_write_whose_worker_died(library, sample_crm, sync_queue):
    run = run_now("lead-qualification", "c-001", key="w")
    assert run.state == Run.State.WRITTEN, run.reason
    notes = crm.Note.objects.count()
    abandoned(run, state=Run.State.WRITING)
    assert runs_sweep().reclaimed == 1
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN
    assert crm.Note.objects.count() == notes  # the note's key already existed
    assert run.steps.filter(name="resume").exists()


def approved_but_not_written(run: Run, manager, monkeypatch) -> Escalation:
    """Approve the run's escalation; the approval's own write task is lost with its worker."""
    escalation = Escalation.objects.get(run=run)
    failed = {c["id"] for c in escalation.checks if c["status"] in ("failed", "error")}
    with monkeypatch.context() as patch:
        patch.setattr("salesops.services.escalations.async_task", lambda *a, **k: None)
        escalation_approve(
            escalation=escalation,
            user=manager,
            overrides={check: "checked by hand" for check in failed - {"schema"}},
        )
    escalation.refresh_from_db()
    return escalation


def escalated_run(library, sample_crm) -> Run:
    for contact in crm.Contact.objects.order_by("id"):
        run = run_now("lead-qualification", contact.id, key=f"esc-{contact.id}")
        if run.state == Run.State.ESCALATED:
            return run
    raise AssertionError("the sample data has escalation cases")


def test_it_finishes_an_approved_escalation_write_whose_worker_died(
    library, sample_crm, manager, sync_queue, monkeypatch
):
    run = escalated_run(library, sample_crm)
    approved_but_not_written(run, manager, monkeypatch)
    Run.objects.filter(pk=run.pk).update(state=Run.State.WRITING, started_at=timezone.now())
    abandoned(run, state=Run.State.WRITING, attempts=run.attempts + 1)
    assert runs_sweep().reclaimed == 1
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason
    assert run.reason.startswith("written after review")


def test_an_escalation_write_killed_by_the_timeout_is_reclaimed(
    library, sample_crm, manager, sync_queue, monkeypatch
):
    run = escalated_run(library, sample_crm)
    escalation = approved_but_not_written(run, manager, monkeypatch)

    def timing_out(**kwargs):
        raise TimeoutException("Task exceeded maximum timeout value (300 seconds)")

    attempts = run.attempts
    with monkeypatch.context() as patch, pytest.raises(TimeoutException):
        patch.setattr("salesops.services.run_conclude.write_error", timing_out)
        escalation_write(escalation_id=escalation.pk)
    run.refresh_from_db()
    assert run.state == Run.State.WRITING and run.attempts == attempts + 1
    assert run.steps.filter(name="timeout").exists()
    assert runs_sweep().reclaimed == 1
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason


def test_a_run_past_the_maximum_with_an_approved_escalation_retries_its_write(
    library, sample_crm, manager, sync_queue, monkeypatch, django_capture_on_commit_callbacks
):
    run = escalated_run(library, sample_crm)
    approved_but_not_written(run, manager, monkeypatch)
    abandoned(run, state=Run.State.WRITING, attempts=MAX)
    assert runs_sweep().failed == 1
    run.refresh_from_db()
    assert run.state == Run.State.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        run_retry(run=run)
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN, run.reason


def test_it_enqueues_again_a_queued_run_whose_task_was_lost(library, sample_crm, sync_queue):
    run = queued_run()  # created, its task never reached (or left) the broker
    Run.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(minutes=10))
    assert runs_sweep().requeued == 1
    run.refresh_from_db()
    assert run.state in (Run.State.WRITTEN, Run.State.ESCALATED), run.reason


def test_it_leaves_a_queued_run_whose_task_waits_in_the_broker(library, sample_crm):
    from django_q.brokers import get_broker

    broker = get_broker(settings.SALESOPS["RUN_CLUSTER"] or None)
    broker.purge_queue()
    try:
        run = queued_run()
        runs_service.run_enqueue(run=run)
        Run.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(minutes=10))
        assert runs_sweep().requeued == 0
        assert broker.queue_size() == 1
    finally:
        broker.purge_queue()


def test_the_sweeper_runs_every_minute_on_a_django_q2_schedule(db):
    from django_q.models import Schedule

    from salesops.services.schedules import schedules_install

    schedules_install()
    sweeper = Schedule.objects.get(func="salesops.tasks.runs_sweep")
    assert (sweeper.schedule_type, sweeper.minutes, sweeper.repeats) == (Schedule.MINUTES, 1, -1)
