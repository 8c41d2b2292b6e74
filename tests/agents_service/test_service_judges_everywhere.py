"""Judge checks run whenever a model engine is configured: in verify_result, for the rules
engine's runs (SALESOPS_JUDGE_ENGINE) and for batch results; never for a reviewer's edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from salesops.models import Run
from salesops.services.plugins import plugins_reset
from tests.agents_service.scripted import Agent, is_judge, verdict

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "sop_library" / "cases" / "lead-qualification-good-c-001-tier-a.json"

pytestmark = pytest.mark.django_db


def judge_requests(emulator) -> list[dict]:
    return [r.body for r in emulator.message_requests() if is_judge(r.body)]


def exit_code(*args: str) -> int:
    try:
        call_command("verify_result", *args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_verify_result_runs_the_judge_when_a_model_engine_is_configured(
    anthropic_engine, specs, capsys
):
    from tests.helpers import mirror_sync

    mirror_sync()
    anthropic_engine.responder = Agent(specs, judge=lambda r: verdict(False, "too generic"))
    assert exit_code(str(GOOD)) == 1
    out = capsys.readouterr().out
    assert "FAIL     judge" in out and "too generic" in out
    (request,) = judge_requests(anthropic_engine)
    assert json.dumps(json.loads(GOOD.read_text())["result"]["summary"])[1:40] in json.dumps(
        request
    )


def test_the_rules_engines_runs_are_judged_when_a_judge_engine_is_configured(
    anthropic_engine, specs, settings, run_sop
):
    settings.SALESOPS = {**settings.SALESOPS, "ENGINE": "rules", "JUDGE_ENGINE": "anthropic"}
    plugins_reset()
    anthropic_engine.responder = Agent(specs, judge=lambda r: verdict(False, "not specific"))
    run = run_sop("lead-qualification", "c-001")
    assert run.engine == "rules"
    assert run.state == Run.State.ESCALATED
    judged = run.steps.get(kind="check", name="rationale-is-specific")
    assert judged.status == "failed" and "not specific" in judged.message
    assert run.steps.filter(kind="model_call", name="judge:rationale-is-specific").exists()
    assert len(judge_requests(anthropic_engine)) == 1


def test_without_a_judge_engine_the_rules_engine_skips_judges_and_says_why(
    library, sample_crm, run_sop
):
    run = run_sop("lead-qualification", "c-001")
    judged = run.steps.get(kind="check", name="rationale-is-specific")
    assert judged.status == "skipped"
    assert "no model engine is configured" in judged.message
