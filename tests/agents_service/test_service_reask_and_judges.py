"""Failed checks get one re-ask naming them; what still fails is escalated with the reasons."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.local import models as crm
from salesops.agents.assembly import SUBMIT_TOOL
from salesops.models import Escalation, Run
from tests.agents_service.scripted import Agent, is_judge, verdict

pytestmark = pytest.mark.django_db


def low_tier_a(output: dict[str, Any], attempt: int) -> dict[str, Any]:
    """Tier A with a score far below the cut-off, every time."""
    return {**output, "tier": "A", "score": 50}


def test_a_result_that_fails_twice_is_escalated_with_the_failed_checks(
    anthropic_engine, specs, run_sop
):
    anthropic_engine.responder = Agent(specs, propose=low_tier_a)

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.ESCALATED
    escalation = Escalation.objects.get(run=run)
    failed = {c["id"]: c for c in escalation.checks}
    assert failed["tier-a-score"]["status"] == "failed"
    assert "tier-a-score" in escalation.reason
    requests = anthropic_engine.message_requests()
    # turn 1 (lookup), turn 2 (submit), the re-ask: no judge, a deterministic check failed.
    assert len(requests) == 3
    reask = requests[2].body["messages"][-1]["content"][0]
    assert reask["type"] == "tool_result" and reask["is_error"] is True
    assert "tier-a-score" in reask["content"] and SUBMIT_TOOL in reask["content"]
    assert run.steps.filter(kind="check", name="verify", status="failed").count() == 1
    assert crm.Contact.objects.get(pk="c-001").ai_tier in ("", None)
    assert not run.writes.exists()


def test_a_result_fixed_after_the_re_ask_is_written(anthropic_engine, specs, run_sop):
    def fixed_on_retry(output: dict[str, Any], attempt: int) -> dict[str, Any]:
        return low_tier_a(output, attempt) if attempt == 1 else output

    anthropic_engine.responder = Agent(specs, propose=fixed_on_retry)

    run = run_sop("lead-qualification", "c-001")

    assert run.state == Run.State.WRITTEN, run.reason
    assert run.output["tier"] == "A" and run.output["score"] >= 80
    assert "tier-a-score" in run.steps.get(name="verify").message


def test_a_failing_judge_escalates_with_its_reasons(anthropic_engine, specs, run_sop):
    # The shipped judges say `when_unavailable: skip`; that is for the rules engine only.
    anthropic_engine.responder = Agent(
        specs, judge=lambda request: verdict(False, "next step 2 is generic advice")
    )

    run = run_sop("deal-review", "d-001")

    assert run.state == Run.State.ESCALATED
    (check,) = Escalation.objects.get(run=run).checks
    assert (check["id"], check["kind"], check["status"]) == (
        "next-steps-are-actionable",
        "judge",
        "failed",
    )
    assert "next step 2 is generic advice" in check["message"]
    assert "next step 2 is generic advice" in run.reason
    judged = run.steps.filter(kind="model_call", name="judge:next-steps-are-actionable")
    assert judged.count() == 2  # the first proposal and the re-asked one
    assert all(s.output_tokens > 0 for s in judged)
    assert not run.writes.exists()


def test_a_judge_sees_the_record_as_data_and_the_result(anthropic_engine, run_sop):
    run = run_sop("follow-up", "c-004")

    (judge,) = [r.body for r in anthropic_engine.message_requests() if is_judge(r.body)]
    text = judge["messages"][0]["content"]
    assert "<rubric>" in text and "<crm_record>" in text and "<result>" in text
    assert text.index("<crm_record>") < text.index("<result>")
    assert '"id": "c-004"' in text and run.output["due_date"] in text
    (system,) = judge["system"]
    assert "untrusted" in system["text"]
    # The procedure and its skills, in a cached block: the same for every run of the version.
    assert system["cache_control"] == {"type": "ephemeral"}
    assert "## Skill: follow-up-writing" in system["text"]
    assert "c-004" not in system["text"]
