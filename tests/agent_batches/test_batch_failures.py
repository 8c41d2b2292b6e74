"""A failed batch or request loses nothing: its runs go interactive or fail with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from salesops.models import AgentBatch, AgentBatchItem, Run
from salesops.services.agent_batches import batch_poll, batch_submit, batches_poll_open
from tests.emulators.anthropic_api import error

pytestmark = pytest.mark.django_db


def states(runs) -> dict[int, str]:
    return dict(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("pk", "state"))


def test_an_errored_request_falls_back_to_the_interactive_path(
    claude, lead_runs, sync_queue, django_capture_on_commit_callbacks
):
    # Batch requests are answered in order: the first is overloaded, the second is invalid.
    claude.script(error(529), error(400, message="messages.0: bad content"))
    first, second = lead_runs[0], lead_runs[1]
    batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    with django_capture_on_commit_callbacks(execute=True):
        batch_poll(batch_id=batch.pk)
    first.refresh_from_db()
    assert AgentBatchItem.objects.get(run=first).status == "errored"
    assert first.state in (Run.State.WRITTEN, Run.State.ESCALATED)
    fallback = first.steps.get(kind="info", name="batch", status="failed")
    assert "overloaded_error" in fallback.message and "interactively" in fallback.message
    # The interactive engine ran it: real turns against /v1/messages, after the batch step.
    turns = first.steps.filter(kind="model_call", name__startswith="turn")
    assert turns.exists() and turns.first().seq > fallback.seq
    assert len(claude.message_requests()) >= 1
    # Re-sending an invalid request cannot help: that run fails with the API's reason.
    second.refresh_from_db()
    assert second.state == Run.State.FAILED
    assert "invalid_request_error" in second.reason and "bad content" in second.reason
    assert set(states(lead_runs[2:]).values()) <= {Run.State.WRITTEN, Run.State.ESCALATED}


def test_expired_and_canceled_requests_go_interactive_too(
    claude, lead_runs, django_capture_on_commit_callbacks
):
    batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    claude.requests.clear()
    # Cancel through the API: every request comes back canceled when the batch ends.
    from salesops.services.agent_batches import batches_api

    batches_api().cancel(batch.external_id)
    with django_capture_on_commit_callbacks() as callbacks:
        batch = batch_poll(batch_id=batch.pk)
    assert batch.state == AgentBatch.State.ENDED
    assert set(batch.items.values_list("status", flat=True)) == {"canceled"}
    assert set(states(lead_runs).values()) == {Run.State.QUEUED}
    assert len(callbacks) == len(lead_runs)  # each run is enqueued for run_execute


def test_a_refused_batch_leaves_every_run_queued_for_the_interactive_path(
    claude, lead_runs, django_capture_on_commit_callbacks
):
    claude.api_key = "the-right-key"  # the configured key is refused: 401 on create
    with django_capture_on_commit_callbacks() as callbacks:
        batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    assert batch.state == AgentBatch.State.FAILED
    assert batch.external_id is None
    assert "401" in batch.error and "authentication_error" in batch.error
    assert set(states(lead_runs).values()) == {Run.State.QUEUED}
    assert len(callbacks) == len(lead_runs)
    run = Run.objects.get(pk=lead_runs[0].pk)
    assert "not sent" in run.steps.get(kind="info", name="batch").message
    assert run.started_at is None


def test_runs_already_claimed_by_a_worker_are_not_sent(claude, lead_runs):
    taken = lead_runs[0]
    Run.objects.filter(pk=taken.pk).update(state=Run.State.RUNNING)
    batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    assert not batch.items.filter(run=taken).exists()
    assert batch.items.count() == len(lead_runs) - 1


def test_a_batch_left_unconfirmed_by_a_dead_worker_is_recovered(
    claude, lead_runs, settings, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(seconds=settings.SALESOPS["RUN_TIMEOUT"] + 60)
    batch = AgentBatch.objects.create(created_at=long_ago)
    for run in lead_runs[:3]:
        Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING, started_at=long_ago)
        AgentBatchItem.objects.create(batch=batch, run=run, custom_id=f"run-{run.pk}")
    with django_capture_on_commit_callbacks() as callbacks:
        batches_poll_open()
    batch.refresh_from_db()
    assert batch.state == AgentBatch.State.FAILED
    assert set(states(lead_runs[:3]).values()) == {Run.State.QUEUED}
    assert len(callbacks) == 3
