"""The stable prefix carries the cache breakpoints; repeat runs of a version read it from cache."""

from __future__ import annotations

import json

import pytest

from salesops.agents import pricing
from salesops.models import Run
from tests.agents_service.scripted import is_judge

pytestmark = pytest.mark.django_db


def loop_requests(emulator) -> list[dict]:
    return [r.body for r in emulator.message_requests() if not is_judge(r.body)]


def test_the_second_run_of_a_version_reads_the_prefix_from_cache(anthropic_engine, run_sop):
    first = run_sop("lead-qualification", "c-001", key="one")
    second = run_sop("lead-qualification", "c-002", key="two")

    assert first.state == second.state == Run.State.WRITTEN
    assert first.cache_write_tokens > 0
    assert not second.steps.filter(name="prompt_cache").exists()  # prefix above the minimum
    turn1, turn2 = second.steps.filter(kind="model_call", name__startswith="turn").order_by("seq")
    # Turn 1 reads the stable prefix cached by the first run and writes only its own record;
    # turn 2 reads turn 1 whole (the rolling breakpoint), record included.
    assert turn1.cache_read_tokens > 2048 and turn1.cache_write_tokens < turn1.cache_read_tokens
    assert turn2.cache_read_tokens == turn1.cache_read_tokens + turn1.cache_write_tokens
    assert turn2.input_tokens == 0
    assert second.cost_usd < first.cost_usd


def test_breakpoints_sit_on_the_stable_prefix_and_the_record_comes_after(anthropic_engine, run_sop):
    run_sop("lead-qualification", "c-001", key="one")
    run_sop("lead-qualification", "c-002", key="two")

    bodies = loop_requests(anthropic_engine)
    assert len(bodies) == 4
    for body in bodies:
        marked = [t["name"] for t in body["tools"] if "cache_control" in t]
        assert marked == [body["tools"][-1]["name"]]
        assert [b.get("cache_control") for b in body["system"]] == [{"type": "ephemeral"}]
        # One rolling breakpoint, on the newest block: the record is after the stable prefix.
        assert json.dumps(body["messages"]).count("cache_control") == 1
        assert "cache_control" in body["messages"][-1]["content"][-1]
    prefixes = {json.dumps([b["tools"], b["system"]], sort_keys=True) for b in bodies}
    assert len(prefixes) == 1, "the prefix must be byte-identical across runs of a version"
    for body, record in zip(bodies[::2], ("c-001", "c-002"), strict=True):
        assert record not in prefixes.copy().pop()
        assert f'id="{record}"' in body["messages"][0]["content"][0]["text"]


def test_a_prefix_below_the_models_cache_minimum_is_noted_on_the_run(
    anthropic_engine, sop_variant, run_sop
):
    # An SOP may pin its own model; Haiku 4.5 caches only from 4096 tokens.
    sop_variant(
        "lead-qualification",
        ("  max_attempts: 2\n", "  model: claude-haiku-4-5\n  max_attempts: 2\n"),
    )

    run_sop("lead-qualification", "c-001", key="one")
    second = run_sop("lead-qualification", "c-002", key="two")

    assert second.state == Run.State.WRITTEN, second.reason
    assert second.model == "claude-haiku-4-5"
    assert {b["model"] for b in loop_requests(anthropic_engine)} == {"claude-haiku-4-5"}
    note = second.steps.get(kind="info", name="prompt_cache")
    assert note.status == "skipped" and "4096" in note.message
    assert second.cache_read_tokens == 0
    price = pricing.PRICES["claude-haiku-4-5"]
    calls = second.steps.filter(kind="model_call")
    expected = sum(s.input_tokens * price.input + s.output_tokens * price.output for s in calls)
    assert float(second.cost_usd) == pytest.approx(expected / 1e6, abs=1e-5)


def test_a_judge_call_reads_the_procedure_from_cache_on_the_next_run(anthropic_engine, run_sop):
    first = run_sop("lead-qualification", "c-001", key="one")
    second = run_sop("lead-qualification", "c-002", key="two")

    judge1 = first.steps.get(kind="model_call", name__startswith="judge:")
    judge2 = second.steps.get(kind="model_call", name__startswith="judge:")
    assert judge1.cache_write_tokens > 2048 and judge1.cache_read_tokens == 0
    assert judge2.cache_read_tokens == judge1.cache_write_tokens
    assert judge2.cache_write_tokens == 0
