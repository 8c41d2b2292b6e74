"""Each shipped SOP runs end to end on Claude (through the emulator) and is written."""

from __future__ import annotations

import pytest

from connectors.local import models as crm
from salesops.agents import pricing
from salesops.agents.assembly import SUBMIT_TOOL
from salesops.models import Run

pytestmark = pytest.mark.django_db

CASES = [
    ("lead-qualification", "c-001"),
    ("follow-up", "c-004"),
    ("deal-review", "d-001"),
]


@pytest.mark.parametrize(("sop", "record"), CASES)
def test_it_runs_each_prebuilt_sop_with_a_tool_call_and_writes_it(
    anthropic_engine, run_sop, sop, record
):
    run = run_sop(sop, record)

    assert run.state == Run.State.WRITTEN, run.reason
    assert (run.engine, run.model) == ("anthropic", pricing.DEFAULT_MODEL)
    steps = list(run.steps.order_by("seq"))
    names = [(s.kind, s.name) for s in steps]
    assert ("tool_call", "list_activities") in names
    calls = [s for s in steps if s.kind == "model_call"]
    assert [s.name for s in calls][:2] == ["turn 1", "turn 2"]
    assert any(s.name.startswith("judge:") for s in calls), "the SOP's judge ran"
    assert all(s.input_tokens + s.cache_write_tokens + s.cache_read_tokens > 0 for s in calls)
    assert all(s.output_tokens > 0 and s.cost_usd > 0 for s in calls)
    assert run.input_tokens == sum(s.input_tokens for s in calls)
    assert run.output_tokens == sum(s.output_tokens for s in calls)
    assert run.cost_usd == sum(s.cost_usd for s in calls)
    submitted = calls[1].output["content"][-1]
    assert submitted["name"] == SUBMIT_TOOL and submitted["input"] == run.output
    assert run.writes.exists()
    assert all(w.status == "done" for w in run.writes.all())
    assert len(anthropic_engine.message_requests()) == len(calls)


def test_a_lead_written_by_claude_lands_in_the_crm(anthropic_engine, run_sop):
    run = run_sop("lead-qualification", "c-001")

    contact = crm.Contact.objects.get(pk="c-001")
    assert (contact.ai_tier, contact.ai_score) == (run.output["tier"], run.output["score"])
    assert run.output["tier"] == "A"
    note = crm.Note.objects.get(idempotency_key__in=run.writes.values("idempotency_key"))
    assert f"/admin/salesops/run/{run.pk}/" in note.body


def test_the_agent_gets_read_only_tools_and_submit_result(anthropic_engine, run_sop):
    run_sop("deal-review", "d-001")

    first = anthropic_engine.message_requests()[0].body
    tools = [t["name"] for t in first["tools"]]
    assert tools[-1] == SUBMIT_TOOL
    assert {"get_field", "list_activities", "get_related", "load_skill"} <= set(tools)
    assert not [t for t in tools if any(w in t for w in ("write", "update", "set_", "create"))]
    assert first["model"] == pricing.DEFAULT_MODEL
    assert first["max_tokens"] == 2500  # deal-review's model policy
