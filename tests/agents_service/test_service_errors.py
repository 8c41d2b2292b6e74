"""API errors, refusals, truncation and runaway loops end in a failed run with a clear reason."""

from __future__ import annotations

import json

import pytest

from salesops.models import Run
from salesops.services.runs import run_execute, run_retry
from tests.agents_service.scripted import never_submits
from tests.emulators.anthropic_api import error, reply

pytestmark = pytest.mark.django_db


def test_an_overload_storm_fails_the_run_and_a_retry_from_admin_writes_it(
    anthropic_engine, run_sop
):
    # MAX_RETRIES is 2: three deliveries of the first call, all overloaded.
    anthropic_engine.script(*[error(529, retry_after=0.01) for _ in range(3)])

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert "529 overloaded_error" in run.reason and "after 2 retries" in run.reason
    assert len(anthropic_engine.message_requests()) == 3
    failed = run.steps.get(kind="model_call", status="failed")
    assert failed.message == run.reason
    assert not run.writes.exists()

    assert run_retry(run=run).state == Run.State.QUEUED
    retried = run_execute(run_id=run.pk)
    assert retried.state == Run.State.WRITTEN, retried.reason
    assert retried.attempts == 2
    assert retried.steps.filter(kind="model_call", status="failed").count() == 1


def test_rate_limits_within_the_retry_budget_are_absorbed(anthropic_engine, run_sop):
    anthropic_engine.script(error(429, retry_after=0.01), error(500))

    run = run_sop("deal-review", "d-001")

    assert run.state == Run.State.WRITTEN, run.reason
    assert not run.steps.filter(kind="model_call", status="failed").exists()


@pytest.mark.parametrize(
    ("stop_reason", "reason"),
    [("refusal", "refused"), ("max_tokens", "hit max_tokens (1500)")],
)
def test_a_refusal_or_a_truncated_reply_fails_the_run(
    anthropic_engine, run_sop, stop_reason, reason
):
    anthropic_engine.script(reply("I can't help with that.", stop_reason=stop_reason))

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert reason in run.reason
    billed = run.input_tokens + run.cache_write_tokens + run.cache_read_tokens
    assert billed > 0  # the call was billed and is on the run
    assert not run.writes.exists()


def test_a_model_that_never_submits_is_nudged_once_then_failed(anthropic_engine, run_sop):
    anthropic_engine.script(reply("Looks fine."), reply("Still fine."))

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert "without calling submit_result" in run.reason
    nudge = anthropic_engine.message_requests()[1].body["messages"][-1]["content"]
    assert "submit_result" in json.dumps(nudge)


def test_the_turn_limit_stops_a_runaway_loop(anthropic_engine, run_sop):
    anthropic_engine.responder = never_submits

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert "turn limit reached: 6 model calls" in run.reason
    assert len(anthropic_engine.message_requests()) == 6  # lead-qualification's max_turns
    assert run.steps.filter(kind="tool_call", name="list_activities").count() == 6


def test_the_token_budget_stops_a_runaway_loop_before_the_turn_limit(
    anthropic_engine, sop_variant, run_sop
):
    sop_variant(
        "lead-qualification", ("budget_tokens_per_run: 40000", "budget_tokens_per_run: 8000")
    )
    anthropic_engine.responder = never_submits

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert "token budget exhausted" in run.reason and "of 8000" in run.reason
    calls = len(anthropic_engine.message_requests())
    assert 1 < calls < 6
    spent = run.input_tokens + run.output_tokens + run.cache_write_tokens + run.cache_read_tokens
    assert spent >= 8000
    assert run.steps.filter(kind="info", name="budget", status="failed").exists()


def test_the_cost_budget_stops_a_runaway_loop(anthropic_engine, sop_variant, run_sop):
    sop_variant("lead-qualification", ("budget_usd_per_run: 0.05", "budget_usd_per_run: 0.02"))
    anthropic_engine.responder = never_submits

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.FAILED
    assert "cost budget exhausted" in run.reason
    assert float(run.cost_usd) >= 0.02
