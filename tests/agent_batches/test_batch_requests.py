"""Building batch requests and reading batch results: pure functions, no HTTP."""

from __future__ import annotations

import pytest

from salesops.agents import assembly, batch_requests
from salesops.specs.model import Check
from tests.agents.anthropic_support import MODEL, NOW, RECORD, RUBRIC, make_spec


def params(**kw):
    return batch_requests.batch_params(
        make_spec(**kw), RECORD, NOW, model=MODEL, knowledge={RUBRIC.name: RUBRIC}
    )


def test_it_keeps_the_interactive_prefix_and_forces_submit_result():
    spec = make_spec()
    interactive = assembly.assemble(spec, RECORD, NOW, model=MODEL, knowledge={RUBRIC.name: RUBRIC})
    p = params()
    assert p["tools"] == interactive.tools  # same cached prefix as interactive runs
    assert p["system"][0] == interactive.system[0]
    assert p["tool_choice"] == {"type": "tool", "name": assembly.SUBMIT_TOOL}
    assert p["messages"] == [interactive.first_message]
    assert p["max_tokens"] == spec.model.max_tokens


def test_it_puts_the_skill_bodies_in_the_prompt_behind_a_cache_breakpoint():
    block = params()["system"][-1]
    assert RUBRIC.body in block["text"] and block["cache_control"] == {"type": "ephemeral"}
    marks = sum("cache_control" in b for b in params()["tools"] + params()["system"])
    assert marks <= 4


def test_custom_ids_round_trip_and_foreign_ids_are_ignored():
    assert batch_requests.run_id_of(batch_requests.custom_id(42)) == 42
    assert batch_requests.run_id_of("other-7") is None


def message(*content, stop_reason="tool_use"):
    return {
        "custom_id": "run-1",
        "result": {
            "type": "succeeded",
            "message": {
                "model": MODEL,
                "content": list(content),
                "stop_reason": stop_reason,
                "usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation": {"x": 1}},
            },
        },
    }


def test_a_submitted_result_is_handed_on_with_its_usage():
    use = {"type": "tool_use", "id": "t", "name": "submit_result", "input": {"score": 1}}
    out = batch_requests.outcome(message(use))
    assert (out.action, out.output, out.model) == ("complete", {"score": 1}, MODEL)
    assert out.usage == {"input_tokens": 10, "output_tokens": 5}


@pytest.mark.parametrize(
    ("content", "stop", "reason"),
    [
        ([], "refusal", "refused"),
        ([{"type": "text", "text": "hm"}], "max_tokens", "max_tokens"),
        ([{"type": "text", "text": "hm"}], "end_turn", "without calling submit_result"),
    ],
)
def test_a_reply_without_a_result_fails_the_run_with_the_reason(content, stop, reason):
    out = batch_requests.outcome(message(*content, stop_reason=stop))
    assert out.action == "fail" and reason in out.reason and out.status == "succeeded"


@pytest.mark.parametrize(
    ("result", "action"),
    [
        ({"type": "errored", "error": {"error": {"type": "overloaded_error"}}}, "retry"),
        ({"type": "errored", "error": {"error": {"type": "api_error"}}}, "retry"),
        ({"type": "errored", "error": {"error": {"type": "invalid_request_error"}}}, "fail"),
        ({"type": "expired"}, "retry"),
        ({"type": "canceled"}, "retry"),
    ],
)
def test_failed_requests_are_retried_interactively_unless_the_request_is_wrong(result, action):
    out = batch_requests.outcome({"custom_id": "run-3", "result": result})
    assert out.action == action and out.status == result["type"]


def test_a_judge_verdict_becomes_a_check_outcome():
    check = Check(id="j", message="Be specific.", judge="rubric")
    verdict = {"type": "tool_use", "id": "v", "name": "verdict"}
    passed = batch_requests.verdict_outcome(check, [{**verdict, "input": {"pass": True}}])
    failed = batch_requests.verdict_outcome(
        check, [{**verdict, "input": {"pass": False, "reasons": ["generic"]}}]
    )
    assert passed.status == "passed"
    assert failed.status == "failed" and "generic" in failed.message
    assert batch_requests.verdict_outcome(check, []).status == "error"
