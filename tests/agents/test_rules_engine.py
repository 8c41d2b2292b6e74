"""The rules engine: runs the SOP's offline skill, records one step, verifies once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from salesops.agents.base import RunInput
from salesops.agents.rules import RulesEngine
from salesops.skills import registry
from salesops.specs.model import ModelPolicy, SopSpec
from salesops.verify.report import CheckOutcome, VerificationReport

NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)
SPEC = SopSpec(
    name="lead-qualification", title="Lead qualification", object="contact", description="d",
    triggers=(), context=(), skills=(), offline="lead_qualification", output={"type": "object"},
    evidence=(), acceptance=(), escalate_when=(), write_back=(), model=ModelPolicy(),
    includes=(), sections={}, body="",
)  # fmt: skip
RECORD = {
    "id": "c-1", "object": "contact", "first_name": "Dana", "job_title": "VP Sales",
    "email": "dana@acme.com", "company": {"id": "co-1", "employees": 300, "industry": "Software"},
    "activities": [], "deals": [], "days_since_last_activity": None,
}  # fmt: skip


def run(spec=SPEC, verify=None):
    steps, verified = [], []

    def default_verify(output):
        verified.append(output)
        return VerificationReport([CheckOutcome("schema", "schema", "passed")])

    result = RulesEngine().run(
        RunInput(sop=spec, sop_version=3, record=RECORD, now=NOW),
        verify=verify or default_verify,
        record_step=steps.append,
    )
    return result, steps, verified


def test_it_runs_the_offline_skill_and_verifies_once():
    result, steps, verified = run()
    assert result.engine == "rules" and result.error == ""
    assert result.output["tier"] in ("A", "B", "C")
    assert verified == [result.output]
    assert result.report.passed
    (step,) = steps
    assert (step.kind, step.name, step.status) == ("tool_call", "lead_qualification", "ok")
    assert step.input["record"] == "contact:c-1" and step.input["sop_version"] == 3
    assert step.output == result.output and step.latency_ms >= 0


def test_it_returns_an_error_for_a_missing_offline_skill():
    result, steps, _ = run(dataclasses.replace(SPEC, offline=None))
    assert result.output is None and "names no offline skill" in result.error
    assert steps == []


def test_it_returns_an_error_for_an_unknown_offline_skill():
    result, _, _ = run(dataclasses.replace(SPEC, offline="magic"))
    assert result.output is None
    assert "unknown offline skill 'magic'" in result.error and "deal_review" in result.error


def test_it_turns_a_crashing_skill_into_an_error(monkeypatch):
    def boom(doc, now, spec):
        raise ValueError("bad record")

    monkeypatch.setitem(registry.OFFLINE_SKILLS, "lead_qualification", boom)
    result, steps, verified = run()
    assert result.output is None and "ValueError: bad record" in result.error
    assert steps[0].status == "failed" and verified == []


def test_it_never_raises_when_verification_crashes():
    def broken_verify(output):
        raise RuntimeError("verifier down")

    result, _, _ = run(verify=broken_verify)
    assert result.output is not None and "verifier down" in result.error
