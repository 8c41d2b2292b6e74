"""Rubric comparison: a model's score, tier or health far from the SOP's deterministic rubric
escalates with both answers shown; the rules engine's own results are not compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from salesops.skills import registry
from salesops.skills.registry import OFFLINE_SKILLS
from salesops.verify import verify_result
from salesops.verify.report import CheckOutcome
from tests.skills.conftest import NOW, SampleCrm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sops() -> dict[str, Any]:
    from salesops.skills.registry import offline_skill_names, tool_skill_names
    from salesops.specs.library import load_library

    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    return {name: loaded.spec for name, loaded in library.sops.items()}


@pytest.fixture(scope="module")
def crm() -> SampleCrm:
    return SampleCrm(json.loads((ROOT / "sop_library/sample_data/crm.json").read_text()), NOW)


def rubric(report: Any) -> dict[str, CheckOutcome]:
    return {o.id: o for o in report.outcomes if o.kind == "rubric"}


def lead(sops: dict[str, Any], crm: SampleCrm, record_id: str) -> tuple[Any, Any, Any]:
    spec = sops["lead-qualification"]
    doc = crm.document("contact", record_id)
    return spec, doc, OFFLINE_SKILLS["lead_qualification"](doc, NOW, spec)


def test_the_shipped_sops_declare_their_comparisons(sops: dict[str, Any]) -> None:
    lead_rubric = {(c.field, c.tolerance, c.order) for c in sops["lead-qualification"].rubric}
    assert lead_rubric == {("score", 20, ()), ("tier", 1, ("A", "B", "C"))}
    (health,) = sops["deal-review"].rubric
    assert (health.field, health.tolerance, health.order) == (
        "health",
        1,
        ("green", "amber", "red"),
    )
    assert sops["follow-up"].rubric == ()


def test_a_result_that_agrees_with_the_rubric_passes(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec, doc, result = lead(sops, crm, "c-001")

    outcomes = rubric(verify_result(spec, result, doc, now=NOW, origin="model"))

    assert {k: o.status for k, o in outcomes.items()} == {
        "rubric:score": "passed",
        "rubric:tier": "passed",
    }
    assert "a difference of 0 (tolerance 20)" in outcomes["rubric:score"].message


def test_a_large_disagreement_escalates_with_both_numbers(
    sops: dict[str, Any], crm: SampleCrm
) -> None:
    spec, doc, rubric_result = lead(sops, crm, "c-006")
    assert rubric_result["tier"] == "C"
    expected = rubric_result["score"]
    inflated = {**rubric_result, "score": 92, "tier": "A", "next_action": "call_within_24h"}

    report = verify_result(spec, inflated, doc, now=NOW, origin="model")

    outcomes = rubric(report)
    assert outcomes["rubric:score"].status == "escalate"
    assert outcomes["rubric:score"].message == (
        f"the result scores 92 (tier A); the lead qualification rubric gives {expected} "
        f"(tier C), a difference of {92 - expected} > 20"
    )
    assert outcomes["rubric:tier"].status == "escalate"
    assert outcomes["rubric:tier"].message == (
        f"the result gives tier A (score 92); the lead qualification rubric gives tier C "
        f"(score {expected}), two levels apart > 1"
    )
    assert report.passed and not report.writable  # a human decides; nothing failed


def test_a_small_disagreement_passes(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec, doc, result = lead(sops, crm, "c-003")
    assert result["tier"] == "B"
    nudged = {**result, "score": min(result["score"] + 15, 79)}

    outcomes = rubric(verify_result(spec, nudged, doc, now=NOW, origin="model"))

    assert [o.status for o in outcomes.values()] == ["passed", "passed"]


def test_a_disqualification_the_rubric_does_not_see_escalates(
    sops: dict[str, Any], crm: SampleCrm
) -> None:
    spec, doc, result = lead(sops, crm, "c-003")
    disqualified = {**result, "tier": "disqualified", "disqualification_reason": "no_budget",
                    "next_action": "nurture"}  # fmt: skip

    outcome = rubric(verify_result(spec, disqualified, doc, now=NOW))["rubric:tier"]

    assert outcome.status == "escalate"
    assert "tier disqualified" in outcome.message and "tier B" in outcome.message


def test_the_rules_engines_results_are_not_compared(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec, doc, result = lead(sops, crm, "c-006")
    inflated = {**result, "score": 92, "tier": "A", "next_action": "call_within_24h"}

    assert rubric(verify_result(spec, inflated, doc, now=NOW, origin="rules")) == {}
    assert rubric(verify_result(spec, inflated, doc, now=NOW, origin="human")) != {}


@pytest.mark.parametrize(("health", "status"), [("green", "escalate"), ("amber", "passed")])
def test_deal_health_two_levels_from_the_rubric_escalates(
    sops: dict[str, Any], crm: SampleCrm, health: str, status: str
) -> None:
    spec = sops["deal-review"]
    doc = crm.document("deal", "d-004")
    result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)
    assert result["health"] == "red"

    outcome = rubric(verify_result(spec, {**result, "health": health}, doc, now=NOW))

    assert outcome["rubric:health"].status == status
    if status == "escalate":
        assert outcome["rubric:health"].message == (
            "the result gives health green; the deal review rubric gives health red, "
            "two levels apart > 1"
        )


def test_it_costs_one_offline_skill_call(
    sops: dict[str, Any], crm: SampleCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, doc, result = lead(sops, crm, "c-001")
    calls: list[str] = []
    real = OFFLINE_SKILLS["lead_qualification"]

    def counted(*args: Any) -> Any:
        calls.append("call")
        return real(*args)

    monkeypatch.setitem(registry.OFFLINE_SKILLS, "lead_qualification", counted)
    verify_result(spec, result, doc, now=NOW, origin="model")

    assert calls == ["call"]


def test_a_rubric_that_cannot_run_escalates_instead_of_failing(
    sops: dict[str, Any], crm: SampleCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, doc, result = lead(sops, crm, "c-001")

    def broken(*args: Any) -> Any:
        raise ValueError("bad record")

    monkeypatch.setitem(registry.OFFLINE_SKILLS, "lead_qualification", broken)
    outcomes = rubric(verify_result(spec, result, doc, now=NOW, origin="model"))

    assert {o.status for o in outcomes.values()} == {"escalate"}
    assert "could not run (ValueError: bad record)" in outcomes["rubric:score"].message
