"""Request assembly from the shipped SOPs, and the price table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesops.agents import pricing
from salesops.agents.assembly import assemble, judge_params, record_json
from salesops.skills.registry import offline_skill_names, tool_skill_names
from salesops.specs.library import load_library
from tests.agents.anthropic_support import INJECTION, JUDGE, NOW, RECORD, RUBRIC, make_spec

ROOT = Path(__file__).resolve().parents[2]
WRITE_WORDS = ("update", "create", "delete", "write", "set_", "apply")


@pytest.fixture(scope="module")
def library():
    lib = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    assert not lib.issues, lib.issues
    return lib


@pytest.mark.parametrize("name", ["lead-qualification", "follow-up", "deal-review"])
def test_shipped_sops_assemble(library, name: str) -> None:
    spec = library.sops[name].spec
    request = assemble(spec, RECORD, NOW, model="claude-sonnet-4-6", knowledge=library.skills)
    names = [t["name"] for t in request.tools]
    assert names[-1] == "submit_result" and request.tools[-1]["input_schema"] == spec.output
    assert not any(w in n for n in names for w in WRITE_WORDS)  # read-only tools only
    knowledge = [s for s in spec.skills if s in library.skills]
    assert ("load_skill" in names) == bool(knowledge)
    text = request.system[0]["text"]
    for skill in knowledge:
        assert library.skills[skill].description in text
        assert library.skills[skill].body.strip()[:200] not in text
    for fragment in spec.fragments:
        assert fragment.body.strip()[:100] in text
    assert spec.sections["goal"].strip()[:80] in text and "untrusted data" in text
    # The stable prefix is long enough to cache on the default model.
    assert request.stable_prefix_tokens >= pricing.min_cacheable_tokens("claude-sonnet-4-6")


def test_stable_prefix_is_the_same_for_every_record() -> None:
    spec = make_spec()
    a = assemble(spec, RECORD, NOW, model="m", knowledge={RUBRIC.name: RUBRIC})
    b = assemble(spec, {**RECORD, "id": "c-2"}, NOW, model="m", knowledge={RUBRIC.name: RUBRIC})
    assert a.tools == b.tools and a.system == b.system
    assert a.first_message != b.first_message


def test_record_cannot_close_its_delimiter() -> None:
    text = record_json(RECORD)
    assert "</crm_record>" not in text
    assert json.loads(text)["activities"][0]["body"] == INJECTION


def test_knowledge_skills_not_listed_by_the_sop_are_left_out() -> None:
    other = RUBRIC.__class__(name="deal-risk-taxonomy", description="risks", body="b")
    request = assemble(make_spec(), RECORD, NOW, model="m", knowledge={other.name: other})
    assert "load_skill" not in [t["name"] for t in request.tools]
    assert "deal-risk-taxonomy" not in request.system[0]["text"]


def test_judge_request_has_a_fixed_verdict_tool() -> None:
    params = judge_params(JUDGE, {"score": 1}, RECORD, model="m")
    assert params["tool_choice"] == {"type": "tool", "name": "verdict"}
    assert params["tools"][0]["input_schema"]["properties"]["pass"] == {
        "type": "boolean",
        "description": "true when the result meets the rubric",
    }
    assert JUDGE.judge in params["messages"][0]["content"]


def test_cost_per_model() -> None:
    usage = {
        "input_tokens": 1_000_000,
        "output_tokens": 1_000_000,
        "cache_creation_input_tokens": 1_000_000,
        "cache_read_input_tokens": 1_000_000,
    }
    # Sonnet: 3 in + 15 out + 3.75 cache write + 0.30 cache read.
    assert pricing.cost(usage, "claude-sonnet-4-5") == pytest.approx(22.05)
    assert pricing.cost(usage, "claude-sonnet-4-5-20250929") == pytest.approx(22.05)
    assert pricing.cost(usage, "claude-haiku-4-5") == pytest.approx(1 + 5 + 1.25 + 0.1)
    assert pricing.cost(usage, "claude-opus-4-1") == pytest.approx(15 + 75 + 18.75 + 1.5)
    assert pricing.cost({"input_tokens": 0, "output_tokens": 0}, "claude-opus-4-6") == 0


def test_unknown_models_are_priced_conservatively() -> None:
    price, exact = pricing.price_for("claude-opus-9")
    assert not exact and price.input == 15.0 and price.min_cacheable_tokens == 4096
    assert pricing.price_for("claude-haiku-4-5-20251001") == (
        pricing.PRICES["claude-haiku-4-5"],
        True,
    )
    assert pricing.price_for("some-other-model")[0].output == 75.0


def test_minimum_cacheable_lengths() -> None:
    assert pricing.min_cacheable_tokens("claude-sonnet-4-5") == 1024
    assert pricing.min_cacheable_tokens("claude-haiku-4-5") == 4096
    assert pricing.min_cacheable_tokens("claude-opus-4-6") == 4096
    assert pricing.DEFAULT_MODEL in pricing.PRICES
