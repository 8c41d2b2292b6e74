"""A batch of lead runs through the real SDK and the emulator: sent once, verified, written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.local import models as crm
from salesops.agents import assembly, pricing
from salesops.models import AgentBatch, AgentBatchItem, Escalation, Run, RunStep, WriteBack
from salesops.services.agent_batch_items import batch_item_complete
from salesops.services.agent_batches import batch_poll, batch_submit
from tests.agent_batches.conftest import MODEL

pytestmark = pytest.mark.django_db


def submit_and_finish(runs, callbacks) -> AgentBatch:
    batch = batch_submit(run_ids=[r.pk for r in runs])
    with callbacks(execute=True):
        batch_poll(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def test_it_sends_one_forced_submit_request_per_run(claude, lead_runs):
    batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    assert batch.state == AgentBatch.State.IN_PROGRESS
    assert batch.external_id.startswith("msgbatch_")
    (create,) = [r for r in claude.requests if r.path == "/v1/messages/batches"]
    requests = create.body["requests"]
    assert [r["custom_id"] for r in requests] == [f"run-{run.pk}" for run in lead_runs]
    params = requests[0]["params"]
    assert params["tool_choice"] == {"type": "tool", "name": assembly.SUBMIT_TOOL}
    assert params["model"] == MODEL
    assert len(params["messages"]) == 1 and "<crm_record" in str(params["messages"][0])
    # The rubric the interactive agent would load through a tool is in the prompt instead.
    assert "## Skill texts" in params["system"][-1]["text"]
    assert "qualification-rubric" in params["system"][-1]["text"]
    assert {r.state for r in Run.objects.filter(pk__in=[r.pk for r in lead_runs])} == {"running"}
    assert batch.items.count() == len(lead_runs)
    assert not claude.message_requests()  # nothing ran interactively


def test_it_writes_or_escalates_every_run_as_usual(
    claude, lead_runs, lead_spec, sync_queue, django_capture_on_commit_callbacks
):
    batch = submit_and_finish(lead_runs, django_capture_on_commit_callbacks)
    assert batch.state == AgentBatch.State.ENDED
    runs = list(Run.objects.filter(pk__in=[r.pk for r in lead_runs]))
    states = {r.state for r in runs}
    assert states <= {Run.State.WRITTEN, Run.State.ESCALATED}
    assert states == {Run.State.WRITTEN, Run.State.ESCALATED}  # the sample has both kinds
    for run in runs:
        assert run.engine == "anthropic" and run.model == MODEL
        assert run.output is not None
        if run.state == Run.State.ESCALATED:
            assert Escalation.objects.filter(run=run).exists()
            assert not run.writes.exists()
        else:
            assert run.writes.exists()
            assert set(run.writes.values_list("status", flat=True)) == {WriteBack.Status.DONE}
            contact = crm.Contact.objects.get(pk=run.record_id)
            assert (contact.ai_score, contact.ai_tier) == (run.output["score"], run.output["tier"])
    kinds = list(runs[0].steps.order_by("seq").values_list("kind", "name"))
    assert kinds.index(("model_call", "batch")) < kinds.index(("check", "schema"))


def test_each_result_costs_half_the_interactive_price(
    claude, lead_runs, sync_queue, django_capture_on_commit_callbacks
):
    submit_and_finish(lead_runs, django_capture_on_commit_callbacks)
    steps = RunStep.objects.filter(kind="model_call", name="batch")
    assert steps.count() == len(lead_runs)
    for step in steps:
        usage = {
            "input_tokens": step.input_tokens,
            "output_tokens": step.output_tokens,
            "cache_creation_input_tokens": step.cache_write_tokens,
            "cache_read_input_tokens": step.cache_read_tokens,
        }
        assert step.input_tokens > 0 and step.output_tokens > 0
        full = Decimal(str(round(pricing.cost(usage, MODEL), 6)))
        assert abs(step.cost_usd * 2 - full) <= Decimal("0.000002")
        item = AgentBatchItem.objects.get(run=step.run)
        assert item.cost_usd == step.cost_usd and item.input_tokens == step.input_tokens
    # A run's cost is its batch call plus any judge call (interactive, full price).
    for run in Run.objects.filter(pk__in=[r.pk for r in lead_runs]):
        assert run.cost_usd == sum(s.cost_usd for s in run.steps.all())


def test_the_judge_runs_on_results_that_pass_the_deterministic_checks(
    claude, lead_runs, sync_queue, django_capture_on_commit_callbacks
):
    submit_and_finish(lead_runs, django_capture_on_commit_callbacks)
    written = Run.objects.filter(pk__in=[r.pk for r in lead_runs], state=Run.State.WRITTEN)
    for run in written:
        judge = run.steps.get(kind="check", name="rationale-is-specific")
        assert judge.status == "passed"
        assert run.steps.filter(kind="model_call", name="judge:rationale-is-specific").exists()


def test_polling_before_the_batch_ends_changes_nothing(claude, lead_runs):
    claude.batch_polls_until_ended = 3
    batch = batch_submit(run_ids=[r.pk for r in lead_runs])
    steps = RunStep.objects.count()
    for _ in range(2):
        batch = batch_poll(batch_id=batch.pk)
        assert batch.state == AgentBatch.State.IN_PROGRESS
        assert batch.request_counts["processing"] == len(lead_runs)
    assert RunStep.objects.count() == steps
    assert not any(r.path.endswith("/results") for r in claude.requests)
    assert set(batch.items.values_list("status", flat=True)) == {"pending"}
    assert {r.state for r in Run.objects.filter(pk__in=[r.pk for r in lead_runs])} == {"running"}


def test_a_second_poll_and_a_redelivered_completion_write_nothing_twice(
    claude, lead_runs, sync_queue, django_capture_on_commit_callbacks
):
    batch = submit_and_finish(lead_runs, django_capture_on_commit_callbacks)
    counts = (
        RunStep.objects.count(),
        WriteBack.objects.count(),
        Escalation.objects.count(),
        crm.Note.objects.count(),
    )
    requests = len(claude.requests)
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_poll(batch_id=batch.pk).state == AgentBatch.State.ENDED
        assert len(claude.requests) == requests  # an ended batch is not polled again
        # Two pollers racing: the second reads the same results but records none of them.
        AgentBatch.objects.filter(pk=batch.pk).update(state=AgentBatch.State.IN_PROGRESS)
        batch_poll(batch_id=batch.pk)
        for item in batch.items.all():
            assert batch_item_complete(item_id=item.pk) is None
    assert (
        RunStep.objects.count(),
        WriteBack.objects.count(),
        Escalation.objects.count(),
        crm.Note.objects.count(),
    ) == counts
