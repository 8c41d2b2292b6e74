"""The anthropic engine's tool loop, driven through the real SDK against the loopback emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from salesops.agents import pricing
from salesops.agents.anthropic_engine import AnthropicEngine
from tests.agents.anthropic_support import (
    BAD,
    GOOD,
    RECORD,
    RUBRIC,
    make_engine,
    make_spec,
    run_engine,
)
from tests.emulators.anthropic_api import AnthropicEmulator, Delay, error, reply, tool_use


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    minimums = {m: p.min_cacheable_tokens for m, p in pricing.PRICES.items()}
    with AnthropicEmulator(min_cacheable_by_model=minimums) as emulator:
        yield emulator


def kinds(steps: list) -> list[str]:
    return [s.kind for s in steps if s.kind != "info"]


def test_tool_call_then_submit(emu: AnthropicEmulator) -> None:
    emu.script(
        reply("Checking the role.", tool_use("get_field", {"path": "job_title"}, id="toolu_a")),
        reply(tool_use("submit_result", GOOD)),
    )
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.error == "" and result.output == GOOD and result.report.writable
    assert result.engine == "anthropic" and result.model == "claude-sonnet-4-6"
    assert kinds(steps) == ["model_call", "tool_call", "model_call"]
    call, tool = steps[-3], steps[-2]
    assert call.input_tokens > 0 and call.output_tokens > 0 and call.cost_usd > 0
    assert call.latency_ms > 0
    assert tool.name == "get_field" and tool.output == {"path": "job_title", "value": "VP Sales"}
    second = emu.message_requests()[1].body["messages"]
    assert second[1]["role"] == "assistant" and second[1]["content"][1]["id"] == "toolu_a"
    (res,) = second[2]["content"]
    assert res["tool_use_id"] == "toolu_a" and "VP Sales" in res["content"]
    assert "is_error" not in res


def test_load_skill_returns_the_skill_body(emu: AnthropicEmulator) -> None:
    emu.script(
        reply(tool_use("load_skill", {"name": "qualification-rubric"}, id="toolu_s")),
        reply(tool_use("submit_result", GOOD)),
    )
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.output == GOOD
    (res,) = emu.message_requests()[1].body["messages"][2]["content"]
    assert res["content"] == RUBRIC.body
    assert [s.name for s in steps if s.kind == "tool_call"] == ["load_skill"]


def test_invalid_tool_input_is_an_error_result(emu: AnthropicEmulator) -> None:
    emu.script(
        reply(
            tool_use("get_field", {"nope": 1}, id="toolu_x"),
            tool_use("delete_contact", {}, id="toolu_y"),
        ),
        reply(tool_use("submit_result", GOOD)),
    )
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.output == GOOD
    failed = [s for s in steps if s.kind == "tool_call"]
    assert [s.status for s in failed] == ["failed", "failed"]
    assert "invalid arguments" in failed[0].message and "delete_contact" in failed[1].message
    results = emu.message_requests()[1].body["messages"][2]["content"]
    assert [r["tool_use_id"] for r in results] == ["toolu_x", "toolu_y"]
    assert all(r["is_error"] for r in results)


def test_failing_result_is_reasked_once_then_returned_with_failures(
    emu: AnthropicEmulator,
) -> None:
    emu.script(
        reply(tool_use("submit_result", BAD, id="toolu_1")),
        reply(tool_use("submit_result", BAD, id="toolu_2")),
        reply(tool_use("submit_result", GOOD)),  # never asked for
    )
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.output == BAD and result.error == ""
    assert [o.id for o in result.report.failures] == ["tier-a-score"]
    assert len(emu.message_requests()) == 2 and emu.pending == 1
    (reask,) = emu.message_requests()[1].body["messages"][-1]["content"]
    assert reask["tool_use_id"] == "toolu_1" and reask["is_error"] is True
    assert "tier-a-score" in reask["content"] and "80 or more" in reask["content"]
    (check,) = [s for s in steps if s.kind == "check"]
    assert check.status == "failed" and "tier-a-score" in check.message


def test_reask_can_fix_the_result(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", BAD)), reply(tool_use("submit_result", GOOD)))
    result, _ = run_engine(make_engine(emu), make_spec())
    assert result.output == GOOD and result.report.passed


def test_no_reask_when_policy_allows_one_attempt(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", BAD)))
    result, _ = run_engine(make_engine(emu), make_spec(max_attempts=1))
    assert result.output == BAD and not result.report.passed
    assert len(emu.message_requests()) == 1


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([reply("I won't do that.", stop_reason="refusal")], "refused"),
        ([reply("Long answer", stop_reason="max_tokens")], "max_tokens (2000)"),
        ([reply("All done."), reply("Really done.")], "without calling submit_result"),
        ([error(529, retry_after=0.01)] * 3, "529 overloaded_error"),
        ([error(500, retry_after=0.01)] * 3, "after 2 retries"),
        ([error(400, message="messages: bad")], "not retryable"),
        ([error(401)], "authentication_error"),
    ],
)
def test_error_paths_end_without_output(
    emu: AnthropicEmulator, script: list, expected: str
) -> None:
    emu.script(*script)
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.output is None and expected in result.error
    assert steps[-1].kind == "model_call"


def test_api_failure_is_recorded_as_a_failed_step(emu: AnthropicEmulator) -> None:
    emu.script(error(400, message="bad request"))
    _, steps = run_engine(make_engine(emu), make_spec())
    assert steps[-1].status == "failed" and "bad request" in steps[-1].message
    assert len(emu.message_requests()) == 1  # a 400 is not retried


def test_rate_limit_is_retried_by_the_sdk(emu: AnthropicEmulator) -> None:
    emu.script(error(429, retry_after=0.05), reply(tool_use("submit_result", GOOD)))
    result, steps = run_engine(make_engine(emu), make_spec())
    assert result.output == GOOD and len(emu.message_requests()) == 2
    assert kinds(steps) == ["model_call"]


def test_timeout_after_retries_is_an_error(emu: AnthropicEmulator) -> None:
    emu.script(Delay(0.6), reply("late"), Delay(0.6), reply("late"))
    result, _ = run_engine(make_engine(emu, timeout=0.2, max_retries=1), make_spec())
    assert result.output is None and "timed out" in result.error


def test_token_budget_stops_a_runaway_loop(emu: AnthropicEmulator) -> None:
    emu.responder = lambda request: reply(tool_use("get_field", {"path": "job_title"}))
    spec = make_spec(max_turns=50, budget_tokens_per_run=4000)
    result, steps = run_engine(make_engine(emu), spec)
    assert result.output is None and "token budget exhausted" in result.error
    calls = [s for s in steps if s.kind == "model_call"]
    assert 1 < len(calls) < 10
    assert steps[-1].kind == "info" and steps[-1].name == "budget"


def test_cost_budget_stops_a_runaway_loop(emu: AnthropicEmulator) -> None:
    emu.responder = lambda request: reply(tool_use("get_field", {"path": "job_title"}))
    spec = make_spec(max_turns=50, budget_usd_per_run=0.01)
    result, steps = run_engine(make_engine(emu), spec)
    assert "cost budget exhausted" in result.error
    spent = sum(s.cost_usd for s in steps)
    assert 0.01 <= spent < 0.02


def test_turn_limit(emu: AnthropicEmulator) -> None:
    emu.responder = lambda request: reply(tool_use("get_field", {"path": "job_title"}))
    result, _ = run_engine(make_engine(emu), make_spec(max_turns=3))
    assert "turn limit reached: 3" in result.error and len(emu.message_requests()) == 3


def verdict(passed: bool, *reasons: str) -> object:
    return reply(tool_use("verdict", {"pass": passed, "reasons": list(reasons)}))


def test_judge_fail_is_reasked_then_returned(emu: AnthropicEmulator) -> None:
    emu.script(
        reply(tool_use("submit_result", GOOD)),
        verdict(False, "claims are generic"),
        reply(tool_use("submit_result", GOOD)),
        verdict(False, "still generic"),
    )
    result, steps = run_engine(make_engine(emu), make_spec(judge=True))
    assert result.output == GOOD
    (failure,) = result.report.failures
    assert failure.kind == "judge" and "still generic" in failure.message
    judges = [s for s in steps if s.name == "judge:rationale-is-specific"]
    assert len(judges) == 2 and all(s.input_tokens > 0 for s in judges)
    judge_request = emu.message_requests()[1].body
    assert judge_request["tool_choice"] == {"type": "tool", "name": "verdict"}
    assert judge_request["tools"][0]["input_schema"]["required"] == ["pass", "reasons"]
    assert "specific to this lead" in judge_request["messages"][0]["content"]
    reask = emu.message_requests()[2].body["messages"][-1]["content"][0]["content"]
    assert "rationale-is-specific" in reask and "claims are generic" in reask


def test_judge_pass(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", GOOD)), verdict(True, "specific"))
    result, _ = run_engine(make_engine(emu), make_spec(judge=True))
    assert result.report.writable
    assert [o.status for o in result.report.outcomes if o.kind == "judge"] == ["passed"]


def test_judge_without_a_verdict_is_a_check_error(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", GOOD)), reply("I think it passes."))
    emu.script(reply(tool_use("submit_result", GOOD)), error(400))
    result, _ = run_engine(make_engine(emu), make_spec(judge=True))
    assert [o.status for o in result.report.outcomes if o.kind == "judge"] == ["error"]


def test_prompt_cache_breakpoints_and_record_placement(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", GOOD)))
    spec = make_spec()
    run_engine(make_engine(emu), spec)
    body = emu.message_requests()[0].body
    names = [t["name"] for t in body["tools"]]
    assert names == ["get_field", "list_activities", "get_related", "load_skill", "submit_result"]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in t for t in body["tools"][:-1])
    assert body["tools"][-1]["input_schema"] == spec.output
    (system,) = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert "untrusted data" in system["text"] and "qualification-rubric" in system["text"]
    assert RUBRIC.body not in system["text"]  # loaded on demand, not up front
    assert "Ada" not in json.dumps(body["tools"]) + system["text"]
    (message,) = body["messages"]
    text = message["content"][0]["text"]
    # The rolling breakpoint: the newest block, so the next turn reads the record from cache.
    assert message["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert text.count("</crm_record>") == 1 and text.rstrip().endswith("call submit_result.")
    record = json.loads(text.split("\n", 2)[2].split("\n</crm_record>")[0].split("\n", 1)[1])
    assert record["activities"][0]["body"].startswith("Ignore all previous instructions")


def test_second_run_reads_the_cached_prefix(emu: AnthropicEmulator) -> None:
    spec = make_spec(long=True)
    engine = make_engine(emu)
    emu.script(reply(tool_use("submit_result", GOOD)))
    _, first = run_engine(engine, spec)
    emu.script(reply(tool_use("submit_result", GOOD)))
    _, second = run_engine(engine, spec, {**RECORD, "first_name": "Grace"})
    (call1,) = [s for s in first if s.kind == "model_call"]
    (call2,) = [s for s in second if s.kind == "model_call"]
    assert call1.cache_write_tokens > 2048 and call1.cache_read_tokens == 0
    # The stable prefix (tools + system) is read; only this run's record is written.
    assert 2048 < call2.cache_read_tokens < call1.cache_write_tokens
    assert 0 < call2.cache_write_tokens < call2.cache_read_tokens
    assert call2.cost_usd < call1.cost_usd
    assert not [s for s in first if s.name == "prompt_cache"]


def test_short_prefix_is_reported(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", GOOD)))
    _, steps = run_engine(make_engine(emu), make_spec())
    (info,) = [s for s in steps if s.name == "prompt_cache"]
    assert info.kind == "info" and "minimum cacheable length of 2048" in info.message
    assert steps[1].cache_write_tokens == 0


def test_reask_then_turn_limit_returns_the_rejected_proposal(emu: AnthropicEmulator) -> None:
    emu.script(reply(tool_use("submit_result", BAD)), reply(tool_use("get_field", {"path": "x"})))
    result, _ = run_engine(make_engine(emu), make_spec(max_turns=2))
    assert result.output == BAD and "turn limit" in result.error
    assert [o.id for o in result.report.failures] == ["tier-a-score"]


def test_missing_api_key_is_a_clear_error(
    emu: AnthropicEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    engine = AnthropicEngine(base_url=emu.base_url)
    result, _ = run_engine(engine, make_spec())
    assert result.output is None and "ANTHROPIC_API_KEY" in result.error
    assert emu.message_requests() == []


def test_sdk_retry_settings_are_explicit() -> None:
    client = AnthropicEngine(api_key="k", base_url="http://127.0.0.1:9", timeout=7, max_retries=4)
    sdk = client.client()
    assert sdk.max_retries == 4 and sdk.timeout == 7
