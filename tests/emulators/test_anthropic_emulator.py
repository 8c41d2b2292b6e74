"""The Messages API emulator, driven by the real anthropic SDK over loopback HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import anthropic
import pytest

from tests.emulators.anthropic_api import AnthropicEmulator, Delay, error, reply, tool_use
from tests.emulators.framework import (
    Drop,
    FakeClock,
    RateLimited,
    SessionExpired,
    Window,
    WindowLimiter,
    client_context,
)

MODEL = "claude-sonnet-4-6"
BIG = "You qualify leads by the rubric. " * 200  # ~1650 tokens at 4 chars/token


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator() as emulator:
        yield emulator


def client(emu: AnthropicEmulator, **kw: object) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 2)
    return anthropic.Anthropic(api_key="test", base_url=emu.base_url, **kw)  # type: ignore[arg-type]


def ask(c: anthropic.Anthropic, **kw: object) -> anthropic.types.Message:
    params: dict[str, object] = {
        "model": MODEL,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    params.update(kw)
    return c.messages.create(**params)  # type: ignore[arg-type]


def test_tool_use_round_trip(emu: AnthropicEmulator) -> None:
    emu.script(
        reply("Looking it up.", tool_use("crm_lookup", {"path": "company"}, id="toolu_1")),
        reply("Done."),
    )
    c = client(emu)
    tools = [{"name": "crm_lookup", "description": "read", "input_schema": {"type": "object"}}]
    first = ask(c, tools=tools)
    assert first.stop_reason == "tool_use"
    block = first.content[1]
    assert block.type == "tool_use" and block.name == "crm_lookup"
    assert block.input == {"path": "company"} and block.id == "toolu_1"
    assert first.model == MODEL and first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    messages = [
        {"role": "user", "content": "hi"},
        first.to_param(),
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "{}"}],
        },
    ]
    second = ask(c, tools=tools, messages=messages)
    assert second.stop_reason == "end_turn" and second.content[0].text == "Done."


def test_missing_tool_result_is_a_400(emu: AnthropicEmulator) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [tool_use("x", {}, id="toolu_9")]},
        {"role": "user", "content": "no result"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="toolu_9"):
        ask(client(emu), messages=messages)


def test_rate_limit_with_retry_after_is_retried(emu: AnthropicEmulator) -> None:
    emu.script(error(429, retry_after=0.3), reply("after the wait"))
    started = time.monotonic()
    msg = ask(client(emu))
    assert msg.content[0].text == "after the wait"
    assert time.monotonic() - started >= 0.3  # the SDK honoured retry-after
    sent = emu.message_requests()
    assert len(sent) == 2 and sent[1].headers["x-stainless-retry-count"] == "1"


def test_overloaded_529_is_retried_then_raised(emu: AnthropicEmulator) -> None:
    emu.script(*[error(529, retry_after=0.01) for _ in range(3)])
    with pytest.raises(anthropic.OverloadedError) as info:
        ask(client(emu, max_retries=2))
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert info.value.request_id and info.value.request_id.startswith("req_")
    assert len(emu.message_requests()) == 3


def test_bad_request_is_not_retried(emu: AnthropicEmulator) -> None:
    emu.script(error(400, message="max_tokens: too large"), reply("never"))
    with pytest.raises(anthropic.BadRequestError, match="too large"):
        ask(client(emu, max_retries=3))
    assert len(emu.message_requests()) == 1 and emu.pending == 1


def test_x_should_retry_false_stops_retries(emu: AnthropicEmulator) -> None:
    emu.script(error(500, should_retry=False), reply("never"))
    with pytest.raises(anthropic.InternalServerError):
        ask(client(emu, max_retries=3))
    assert len(emu.message_requests()) == 1


def test_delay_makes_client_time_out(emu: AnthropicEmulator) -> None:
    emu.script(Delay(0.5), reply("late"), reply("on time"))
    msg = ask(client(emu, max_retries=1, timeout=0.2))
    assert msg.content[0].text == "on time"


def test_missing_api_key_is_401(emu: AnthropicEmulator) -> None:
    req = urllib.request.Request(
        f"{emu.base_url}/v1/messages", data=b"{}", headers={"anthropic-version": "2023-06-01"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 401
    body = json.loads(info.value.read())
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert body["request_id"] == info.value.headers["request-id"]
    with AnthropicEmulator(api_key="right") as strict, pytest.raises(anthropic.AuthenticationError):
        ask(client(strict))


def _cached_params() -> dict[str, object]:
    tools = [
        {
            "name": "t",
            "description": "d",
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    system = [{"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}]
    return {"tools": tools, "system": system}


def test_cache_write_then_read_on_repeated_prefix(emu: AnthropicEmulator) -> None:
    c = client(emu)
    first = ask(c, **_cached_params(), messages=[{"role": "user", "content": "record A"}])
    assert first.usage.cache_creation_input_tokens > 1024
    assert first.usage.cache_read_input_tokens == 0
    second = ask(c, **_cached_params(), messages=[{"role": "user", "content": "record B!"}])
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens < 20  # only the part after the last breakpoint
    count = c.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "x" * 40}])
    assert count.input_tokens >= 10
    # A changed system prompt is a different prefix: the tools part still hits, nothing else.
    params = _cached_params()
    params["system"] = [
        {"type": "text", "text": BIG + "v2", "cache_control": {"type": "ephemeral"}}
    ]
    third = ask(c, **params)
    assert third.usage.cache_read_input_tokens == 0  # tools alone were below the minimum
    assert third.usage.cache_creation_input_tokens > 1024


def test_a_moved_breakpoint_still_reads_what_an_earlier_turn_cached(
    emu: AnthropicEmulator,
) -> None:
    c = client(emu)
    marked = {"type": "text", "text": "record " * 300, "cache_control": {"type": "ephemeral"}}
    first = ask(c, **_cached_params(), messages=[{"role": "user", "content": [marked]}])
    unmarked = {k: v for k, v in marked.items() if k != "cache_control"}
    turn2 = [
        {"role": "user", "content": [unmarked]},
        {"role": "assistant", "content": "thinking"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "go on", "cache_control": {"type": "ephemeral"}}],
        },
    ]
    second = ask(c, **_cached_params(), messages=turn2)
    # The API looks back up to 20 blocks from a breakpoint for an earlier cache entry.
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert 0 < second.usage.cache_creation_input_tokens < 20


def test_below_minimum_prefix_is_not_cached() -> None:
    with AnthropicEmulator(min_cacheable_by_model={MODEL: 4096}) as emu:
        c = client(emu)
        for _ in range(2):
            msg = ask(c, **_cached_params())
            assert msg.usage.cache_creation_input_tokens == 0
            assert msg.usage.cache_read_input_tokens == 0


def test_too_many_breakpoints_is_a_400(emu: AnthropicEmulator) -> None:
    block = {"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        ask(client(emu), system=[block] * 5)


def test_batch_round_trip() -> None:
    with AnthropicEmulator(batch_polls_until_ended=2) as emu:
        emu.script(reply("first"), error(529))
        c = client(emu)
        requests = [
            {
                "custom_id": f"run-{i}",
                "params": {
                    "model": MODEL,
                    "max_tokens": 50,
                    "messages": [{"role": "user", "content": "q"}],
                },
            }
            for i in range(3)
        ]
        batch = c.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        assert batch.processing_status == "in_progress" and batch.request_counts.processing == 3
        assert c.messages.batches.retrieve(batch.id).processing_status == "in_progress"
        done = c.messages.batches.retrieve(batch.id)
        assert done.processing_status == "ended" and done.results_url
        assert done.request_counts.succeeded == 2 and done.request_counts.errored == 1
        results = {r.custom_id: r.result for r in c.messages.batches.results(batch.id)}
        assert results["run-0"].type == "succeeded"
        assert results["run-0"].message.content[0].text == "first"  # type: ignore[union-attr]
        assert results["run-1"].type == "errored"
        assert results["run-2"].message.content[0].text == "ok"  # type: ignore[union-attr]
        paths = [r.path for r in emu.requests]
        assert paths[-1] == f"/v1/messages/batches/{batch.id}/results"


def test_batch_cancel(emu: AnthropicEmulator) -> None:
    emu.batch_polls_until_ended = 5
    c = client(emu)
    params = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "q"}]}
    batch = c.messages.batches.create(requests=[{"custom_id": "a", "params": params}])  # type: ignore[list-item]
    assert c.messages.batches.cancel(batch.id).processing_status == "canceling"
    ended = c.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.request_counts.canceled == 1


def test_request_log_and_default_responder() -> None:
    def responder(request: dict) -> object:
        return reply(f"echo {request['messages'][-1]['content']}")

    with AnthropicEmulator(responder=responder, latency=0.05) as emu:
        c = client(emu)
        started = time.monotonic()
        msg = ask(c, system="be brief", messages=[{"role": "user", "content": "ping"}])
        assert time.monotonic() - started >= 0.05
        assert msg.content[0].text == "echo ping"
        (sent,) = emu.message_requests()
        assert sent.method == "POST" and sent.headers["authorization"] == "Bearer test"
        assert sent.headers["anthropic-version"]
        assert sent.body["system"] == "be brief" and sent.body["max_tokens"] == 100


def test_framework_faults_in_the_api_error_shape(emu: AnthropicEmulator) -> None:
    emu.fail(Drop(), RateLimited(retry_after=0.01), endpoint="POST /v1/messages")
    emu.script(reply("through"))
    # A dropped connection and a 429 are both retried by the SDK; the third try answers.
    assert ask(client(emu, max_retries=2)).content[0].text == "through"
    statuses = [r.status for r in emu.requests_to("POST /v1/messages")]
    assert statuses == [None, 429, 200] and emu.calls["POST /v1/messages"] == 3
    emu.fail(SessionExpired("key revoked"))
    with pytest.raises(anthropic.AuthenticationError) as info:
        ask(client(emu))
    assert info.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_limiter_sends_anthropic_ratelimit_headers_and_429s() -> None:
    clock = FakeClock()
    limiter = WindowLimiter(clock, Window("requests", 2, 60))
    with AnthropicEmulator(clock=clock, limiter=limiter) as emu:
        c = client(emu, max_retries=0)
        raw = c.messages.with_raw_response.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "a"}]
        )
        assert raw.headers["anthropic-ratelimit-requests-limit"] == "2"
        assert raw.headers["anthropic-ratelimit-requests-remaining"] == "1"
        ask(c)
        with pytest.raises(anthropic.RateLimitError) as info:
            ask(c)
        assert float(info.value.response.headers["retry-after"]) > 0
        assert info.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
        clock.advance(60)
        assert ask(c).content[0].text == "ok"


def test_tls_with_a_client_trusting_the_emulator_ca() -> None:
    with AnthropicEmulator(tls=True) as emu:
        assert emu.base_url.startswith("https://") and emu.ca_path is not None
        http = anthropic.DefaultHttpxClient(verify=client_context())
        c = anthropic.Anthropic(api_key="k", base_url=emu.base_url, http_client=http)
        assert ask(c).content[0].text == "ok"
