"""A worker that dies mid-run: no model step is paid for twice once the engine has answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.base import PermanentCRMError, RecordRef, RetriableCRMError
from connectors.local.connector import LocalConnector
from salesops.models import Escalation, Run, Sop
from salesops.services import runs
from salesops.services.runs import run_create, run_execute, run_retry
from tests.agents_service.scripted import Agent, verdict

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """The process vanished: no `except Exception` in the run gets to record anything."""


def die(*args, **kwargs):
    raise WorkerDied


def crash_run(sop_name: str, record_id: str) -> Run:
    """Execute a run until the injected crash; leave it as a dead worker would, gone stale."""
    sop = Sop.objects.get(name=sop_name)
    run, _ = run_create(
        sop=sop,
        ref=RecordRef(sop.object_type, record_id),
        trigger="manual",
        event_key="crash",
        enqueue=False,
    )
    with pytest.raises(WorkerDied):
        run_execute(run_id=run.pk)
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    run.refresh_from_db()
    assert run.state == Run.State.RUNNING
    return run


def test_a_run_reclaimed_after_the_engine_answered_does_not_call_the_model_again(
    anthropic_engine, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(runs, "run_conclude", die)  # dies after the proposal is stored
        run = crash_run("lead-qualification", "c-001")
    assert run.output is not None and not run.writes.exists()
    requests, billed = len(anthropic_engine.requests), run.input_tokens
    assert billed > 0

    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.WRITTEN, run.reason
    assert len(anthropic_engine.requests) == requests  # zero new requests
    assert run.attempts == 2 and run.input_tokens == billed
    assert run.steps.filter(kind="model_call").count() == 3  # turn 1, turn 2, judge: once each
    restart = run.steps.get(kind="info", name="restart")
    assert "not called twice" in restart.message
    assert run.writes.exists() and all(w.status == "done" for w in run.writes.all())


def test_a_reclaimed_run_replays_the_stored_judge_verdict(anthropic_engine, specs, monkeypatch):
    anthropic_engine.responder = Agent(specs, judge=lambda r: verdict(False, "too generic"))
    with monkeypatch.context() as patch:
        patch.setattr(runs, "run_conclude", die)
        run = crash_run("deal-review", "d-001")
    requests = len(anthropic_engine.requests)

    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.ESCALATED
    assert len(anthropic_engine.requests) == requests
    (check,) = Escalation.objects.get(run=run).checks
    assert check["id"] == "next-steps-are-actionable" and "too generic" in check["message"]


def test_a_run_that_died_before_the_engine_answered_restarts_and_shows_both_attempts(
    anthropic_engine, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(runs, "verify_result", die)  # dies while checking turn 2's proposal
        run = crash_run("lead-qualification", "c-001")
    assert run.output is None
    first = list(run.steps.filter(kind="model_call").values_list("name", flat=True))
    assert first == ["turn 1", "turn 2"]

    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.WRITTEN, run.reason
    calls = run.steps.filter(kind="model_call")
    assert [c.name for c in calls] == [
        "turn 1",
        "turn 2",
        "turn 1",
        "turn 2",
        "judge:rationale-is-specific",
    ]
    # Both attempts were billed by the API, so both count on the run.
    assert run.input_tokens == sum(c.input_tokens for c in calls)
    assert run.cost_usd == sum(c.cost_usd for c in calls)
    assert run.steps.filter(kind="info", name="restart").exists()


def test_an_automatic_retry_of_a_failed_write_reuses_the_stored_proposal(
    anthropic_engine, run_sop
):
    def refuse(self, actions):
        raise RetriableCRMError("CRM is down (503)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalConnector, "apply", refuse)
        run = run_sop("lead-qualification", "c-001")
    assert run.state == Run.State.RETRYING and run.crm_retries == 1
    requests, billed = len(anthropic_engine.requests), run.cost_usd

    Run.objects.filter(pk=run.pk).update(retry_at=timezone.now())  # the retry is due
    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.WRITTEN, run.reason
    assert len(anthropic_engine.requests) == requests  # the model is not asked again
    assert run.cost_usd == billed


def test_a_retry_after_a_failed_write_reuses_the_stored_proposal(anthropic_engine, run_sop):
    def refuse(self, actions):
        raise PermanentCRMError("validation failed: owner is inactive")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalConnector, "apply", refuse)
        run = run_sop("lead-qualification", "c-001")
    assert run.state == Run.State.FAILED and "owner is inactive" in run.reason
    requests, billed = len(anthropic_engine.requests), run.cost_usd

    run_retry(run=run)
    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.WRITTEN, run.reason
    assert len(anthropic_engine.requests) == requests
    assert run.cost_usd == billed
    assert "not called twice" in run.steps.get(kind="info", name="retry").message
