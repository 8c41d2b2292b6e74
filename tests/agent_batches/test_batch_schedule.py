"""Scheduled runs go through a Message Batch only when enabled, on Claude, and enough of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from salesops.models import AgentBatch, Run
from salesops.services.schedules import schedule_tick, schedules_install
from tests.helpers import mirror_sync

pytestmark = pytest.mark.django_db

# A Tuesday, five minutes after lead-qualification's 07:00 weekday slot; no other SOP is due.
TICK = datetime(2026, 3, 3, 7, 5, tzinfo=UTC)


@pytest.fixture
def batching(settings, claude):
    settings.SALESOPS = {**settings.SALESOPS, "BATCH_SCHEDULED_RUNS": True, "BATCH_MIN_RUNS": 5}
    return claude


def tick(callbacks) -> tuple[int, int]:
    """Run the schedule tick; return (runs started, runs enqueued for the interactive path)."""
    mirror_sync()  # the sync task's job: the tick reads the mirror only
    with callbacks() as enqueued:
        started = schedule_tick(now=TICK)
    return started, sum(_runs_handed(callback) for callback in enqueued)


def _runs_handed(callback) -> int:
    """Runs one on-commit callback hands to the queue: a chunk's run ids (the tick enqueues
    a chunk at a time) or one run (`run_enqueue`, keyword `run`)."""
    args = getattr(callback, "args", ())
    return len(args[0]) if args and isinstance(args[0], list) else 1


def test_the_due_leads_go_out_as_one_batch_when_enabled(
    batching, library, sample_crm, django_capture_on_commit_callbacks
):
    started, enqueued = tick(django_capture_on_commit_callbacks)
    assert started >= 5 and enqueued == 0
    (batch,) = AgentBatch.objects.all()
    assert batch.state == AgentBatch.State.IN_PROGRESS
    runs = Run.objects.filter(trigger=Run.Trigger.SCHEDULE)
    assert batch.items.count() == runs.count() == started
    assert set(runs.values_list("state", flat=True)) == {Run.State.RUNNING}
    # The next tick in the same slot creates nothing and sends nothing again.
    assert tick(django_capture_on_commit_callbacks) == (0, 0)
    assert AgentBatch.objects.count() == 1


def test_the_schedule_enqueues_runs_as_before_when_batching_is_off(
    claude, library, sample_crm, django_capture_on_commit_callbacks
):
    started, enqueued = tick(django_capture_on_commit_callbacks)
    assert started >= 5 and enqueued == started
    assert not AgentBatch.objects.exists()
    assert not claude.requests


def test_a_slot_with_too_few_runs_is_not_worth_a_batch(
    batching, settings, library, sample_crm, django_capture_on_commit_callbacks
):
    settings.SALESOPS = {**settings.SALESOPS, "BATCH_MIN_RUNS": 1000}
    started, enqueued = tick(django_capture_on_commit_callbacks)
    assert started >= 5 and enqueued == started
    assert not AgentBatch.objects.exists()


def test_the_rules_engine_never_batches(
    batching, settings, library, sample_crm, django_capture_on_commit_callbacks
):
    settings.SALESOPS = {**settings.SALESOPS, "ENGINE": "rules"}
    started, enqueued = tick(django_capture_on_commit_callbacks)
    assert enqueued == started and not AgentBatch.objects.exists()


def test_the_batch_poll_is_installed_as_a_minutely_schedule(db):
    from django_q.models import Schedule

    schedules_install()
    schedules_install()
    poll = Schedule.objects.get(name="salesops-batch-poll")
    assert (poll.func, poll.schedule_type, poll.minutes) == (
        "salesops.tasks.agent_batches_poll",
        Schedule.MINUTES,
        1,
    )
    assert Schedule.objects.filter(name="salesops-schedule-tick").count() == 1


def test_runs_a_dead_tick_created_but_never_sent_go_out_with_the_next_tick(
    batching, library, sample_crm, monkeypatch, django_capture_on_commit_callbacks
):
    from salesops.services import agent_batches

    with monkeypatch.context() as m:
        m.setattr(agent_batches, "runs_dispatch", lambda *, runs: [])  # died before sending
        started, _ = tick(django_capture_on_commit_callbacks)
    assert not AgentBatch.objects.exists()
    assert tick(django_capture_on_commit_callbacks) == (0, 0)
    (batch,) = AgentBatch.objects.all()
    assert batch.items.count() == started
