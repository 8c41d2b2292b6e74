"""The `anthropic` engine: a tool-use loop through the official SDK. Pure Python, no Django.

The agent reads the record through read-only tools and proposes a result with submit_result.
Each proposal is verified; on failed checks the model is re-asked once with the checks named,
then the result is returned with its failures so the caller escalates. Every model call and tool
call is reported as a StepRecord, with tokens and cost; a per-run budget stops runaway loops.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import anthropic

from salesops.agents import assembly, pricing
from salesops.agents.anthropic_batches import MessageBatches
from salesops.agents.base import EngineResult, RunInput, StepRecord, StepSink, Verifier
from salesops.skills.registry import ToolError, ToolInputError, tool_call
from salesops.specs.model import Check
from salesops.verify.report import CheckOutcome, VerificationReport

ClientFactory = Callable[[], anthropic.Anthropic]
_RETRYABLE = {408, 409, 429}


class EngineStop(Exception):
    """The run cannot continue (API failure, budget); the message is the run's error."""


class _Run:
    """Per-run state: client, model, spend against the budget, the audit sink."""

    def __init__(self, engine: AnthropicEngine, run_input: RunInput, record_step: StepSink):
        self.engine = engine
        self.input = run_input
        self.policy = run_input.sop.model
        self.model = run_input.sop.model.model or engine.model
        self.record_step = record_step
        self.client = engine.client()
        self.tokens = 0
        self.cost = 0.0
        # The last proposal that failed checks: returned (for review) if the run stops early.
        self.proposal: tuple[dict[str, Any], VerificationReport] | None = None

    def over_budget(self) -> str:
        """Why the run must stop spending, or "" while it may continue."""
        if self.tokens >= self.policy.budget_tokens_per_run:
            return f"token budget exhausted ({self.tokens} of {self.policy.budget_tokens_per_run})"
        if self.cost >= self.policy.budget_usd_per_run:
            return f"cost budget exhausted (${self.cost:.4f} of ${self.policy.budget_usd_per_run})"
        return ""

    def call(self, name: str, params: dict[str, Any], step_input: Any) -> anthropic.types.Message:
        """One model call, recorded as a step; API failures (after SDK retries) raise EngineStop."""
        started = time.perf_counter()
        try:
            message = self.client.messages.create(**params)
        except anthropic.APIError as exc:
            latency = (time.perf_counter() - started) * 1000
            reason = self.engine.describe_error(exc)
            self.record_step(
                StepRecord(
                    kind="model_call",
                    name=name,
                    status="failed",
                    input=step_input,
                    message=reason,
                    latency_ms=latency,
                )
            )
            raise EngineStop(reason) from exc
        latency = (time.perf_counter() - started) * 1000
        usage = message.usage
        cost = pricing.cost(usage, self.model)
        step = StepRecord(
            kind="model_call",
            name=name,
            input=step_input,
            output={
                "stop_reason": message.stop_reason,
                "content": [b.model_dump(mode="json", exclude_none=True) for b in message.content],
            },
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            latency_ms=latency,
            cost_usd=cost,
        )
        self.record_step(step)
        # Cache reads count too: the budget bounds how much context a run may consume.
        self.tokens += (
            step.input_tokens
            + step.output_tokens
            + step.cache_write_tokens
            + step.cache_read_tokens
        )
        self.cost += cost
        return message

    def judge(self, check: Check, result: dict[str, Any], record: dict[str, Any]) -> CheckOutcome:
        """A rubric check by a separate model call with a fixed verdict tool."""
        context = assembly.judge_context(self.input.sop, self.input.knowledge)
        params = assembly.judge_params(check, result, record, model=self.model, context=context)
        try:
            message = self.call(f"judge:{check.id}", params, {"check": check.id})
        except EngineStop as exc:
            return CheckOutcome(check.id, "judge", "error", f"judge call failed: {exc}")
        return assembly.verdict_outcome(check, _blocks(message))


class AnthropicEngine:
    """Runs an SOP as a Claude agent; proposes a result, never writes."""

    name = "anthropic"
    origin = "model"  # its results come from a model: an unavailable judge escalates them

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = pricing.DEFAULT_MODEL,
        timeout: float = 60.0,
        max_retries: int = 3,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self._api_key = api_key
        self._base_url = base_url
        self._factory = client_factory
        self._client: anthropic.Anthropic | None = None

    def client(self) -> anthropic.Anthropic:
        """The SDK client; retries and per-call timeout set explicitly, not left to defaults."""
        if self._client is None:
            if self._factory is not None:
                self._client = self._factory()
            else:
                # api_key/base_url None: the SDK reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL.
                self._client = anthropic.Anthropic(
                    api_key=self._api_key,
                    base_url=self._base_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
        return self._client

    def batches(self) -> MessageBatches:
        """The Message Batches capability (bulk runs at the batch price)."""
        return MessageBatches(self)

    def judge_for(
        self, run_input: RunInput, record_step: StepSink, *, model: str | None = None
    ) -> Callable[[Check, dict[str, Any], dict[str, Any]], CheckOutcome] | None:
        """A stand-alone rubric judge, each call a recorded step; None without credentials."""
        try:
            state = _Run(self, run_input, record_step)
        except anthropic.AnthropicError:
            return None
        if not has_credentials(state.client):
            return None
        state.model = model or state.model
        return state.judge

    def describe_error(self, exc: anthropic.APIError) -> str:
        """A reviewer-readable reason for a failed API call."""
        if isinstance(exc, anthropic.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            detail = body.get("error", body) if isinstance(body.get("error"), dict) else {}
            kind = detail.get("type", "error")
            text = detail.get("message") or str(exc)
            status = exc.status_code
            retried = status in _RETRYABLE or status >= 500
            tail = f"after {self.max_retries} retries" if retried else "not retryable"
            return f"Anthropic API error {status} {kind}: {text} ({tail}; request {exc.request_id})"
        if isinstance(exc, anthropic.APITimeoutError):
            return f"Anthropic API timed out ({self.timeout}s per call, {self.max_retries} retries)"
        if isinstance(exc, anthropic.APIConnectionError):
            return f"could not reach the Anthropic API after {self.max_retries} retries: {exc}"
        return f"Anthropic API error: {exc}"

    def run(self, run_input: RunInput, *, verify: Verifier, record_step: StepSink) -> EngineResult:
        """The tool-use loop; returns a proposal (maybe with failed checks) or an error."""
        try:
            state = _Run(self, run_input, record_step)
        except anthropic.AnthropicError as exc:
            return EngineResult(engine=self.name, output=None, error=f"Anthropic client: {exc}")
        if not has_credentials(state.client):
            # The SDK would raise a bare TypeError on the first call; say what to fix instead.
            reason = "no Anthropic credentials: set ANTHROPIC_API_KEY (or pass api_key)"
            return EngineResult(engine=self.name, output=None, error=reason, model=state.model)
        try:
            return self._loop(state, verify)
        except EngineStop as exc:
            return self._stopped(state, str(exc))

    def _loop(self, state: _Run, verify: Verifier) -> EngineResult:
        spec, policy = state.input.sop, state.policy
        request = assembly.assemble(
            spec,
            state.input.record,
            state.input.now,
            model=state.model,
            knowledge=state.input.knowledge,
        )
        minimum = pricing.min_cacheable_tokens(state.model)
        if request.stable_prefix_tokens < minimum:
            state.record_step(
                StepRecord(
                    kind="info",
                    name="prompt_cache",
                    status="skipped",
                    message=f"stable prefix is about {request.stable_prefix_tokens} tokens, below "
                    f"{state.model}'s minimum cacheable length of {minimum}: it will not be cached",
                )
            )
        if not pricing.price_for(state.model)[1]:
            state.record_step(
                StepRecord(
                    kind="info",
                    name="pricing",
                    message=f"no list price for {state.model}; costs use its family's top price",
                )
            )
        messages = [request.first_message]
        reasks_left = 1 if policy.max_attempts >= 2 else 0
        nudged = False
        for turn in range(1, policy.max_turns + 1):
            stop = state.over_budget()
            if stop:
                state.record_step(
                    StepRecord(
                        kind="info",
                        name="budget",
                        status="failed",
                        message=f"{stop} after {turn - 1} model calls",
                    )
                )
                return self._stopped(state, f"{stop} after {turn - 1} model calls")
            message = state.call(
                f"turn {turn}", request.params(messages, policy.max_tokens), messages[-1]["content"]
            )
            if message.stop_reason == "refusal":
                raise EngineStop("the model refused to complete this run (stop_reason=refusal)")
            if message.stop_reason == "max_tokens":
                raise EngineStop(
                    f"the model's reply hit max_tokens ({policy.max_tokens}) before it finished"
                )
            uses = [b for b in message.content if b.type == "tool_use"]
            if not uses:
                if nudged:
                    raise EngineStop(f"the model ended without calling {assembly.SUBMIT_TOOL}")
                nudged = True
                messages += [
                    {"role": "assistant", "content": _blocks(message)},
                    {"role": "user", "content": f"Call {assembly.SUBMIT_TOOL} with the result."},
                ]
                continue
            results, submitted = [], None
            for use in uses:
                if use.name == assembly.SUBMIT_TOOL:
                    submitted = use
                    continue
                results.append(self._tool(state, request, use))
            if submitted is not None:
                output = submitted.input if isinstance(submitted.input, dict) else {}
                try:
                    report = _verify(verify, output, state.judge)
                except Exception as exc:  # the verifier is the caller's; never raise from run()
                    return EngineResult(
                        engine=self.name,
                        output=output,
                        model=state.model,
                        error=f"verification failed: {type(exc).__name__}: {exc}",
                    )
                if report.passed or reasks_left == 0:
                    return EngineResult(
                        engine=self.name, output=output, model=state.model, report=report
                    )
                reasks_left -= 1
                state.proposal = (output, report)
                state.record_step(
                    StepRecord(
                        kind="check",
                        name="verify",
                        status="failed",
                        input=output,
                        message="re-asked: "
                        + "; ".join(f"{o.id}: {o.message}" for o in report.failures),
                    )
                )
                results.append(_tool_result(submitted.id, _reask_text(report), error=True))
            messages += [
                {"role": "assistant", "content": _blocks(message)},
                {"role": "user", "content": results},
            ]
        raise EngineStop(
            f"turn limit reached: {policy.max_turns} model calls without an accepted "
            f"{assembly.SUBMIT_TOOL}"
        )

    def _stopped(self, state: _Run, reason: str) -> EngineResult:
        """No accepted result: return the last rejected proposal (for review), else nothing."""
        if state.proposal is not None:
            output, report = state.proposal
            return EngineResult(
                engine=self.name, output=output, error=reason, model=state.model, report=report
            )
        return EngineResult(engine=self.name, output=None, error=reason, model=state.model)

    @staticmethod
    def _tool(state: _Run, request: assembly.AgentRequest, use: Any) -> dict[str, Any]:
        """Run one read-only tool; bad input comes back to the model as an is_error result."""
        started = time.perf_counter()
        status, output, message = "ok", None, ""
        try:
            if use.name == assembly.LOAD_SKILL_TOOL:
                skill = request.knowledge.get((use.input or {}).get("name", ""))
                if skill is None:
                    raise ToolInputError(f"unknown skill; choose one of {list(request.knowledge)}")
                output = skill.body
            elif use.name in request.handlers:
                output = tool_call(request.handlers[use.name], use.input, state.input.record)
            else:
                raise ToolInputError(f"no tool named {use.name!r}")
        except ToolError as exc:
            status, message = "failed", str(exc)
        state.record_step(
            StepRecord(
                kind="tool_call",
                name=use.name,
                status=status,
                input=use.input,
                output=output,
                message=message,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
        )
        if status == "failed":
            return _tool_result(use.id, message, error=True)
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        return _tool_result(use.id, text)


def has_credentials(client: anthropic.Anthropic) -> bool:
    """Whether the client holds any credential (the SDK fails late and vaguely otherwise)."""
    return any(getattr(client, a, None) for a in ("api_key", "auth_token", "credentials"))


def _blocks(message: anthropic.types.Message) -> list[dict[str, Any]]:
    """The assistant turn as plain params for the next request."""
    return [b.model_dump(mode="json", exclude_none=True) for b in message.content]


def _tool_result(tool_use_id: str, content: str, *, error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if error:
        block["is_error"] = True
    return block


def _reask_text(report: VerificationReport) -> str:
    lines = [f"- {o.id} ({o.kind}): {o.message}" for o in report.failures]
    return (
        "The result was rejected. These checks failed:\n"
        + "\n".join(lines)
        + f"\nFix exactly these problems and call {assembly.SUBMIT_TOOL} again."
    )


def _verify(verify: Verifier, output: dict[str, Any], judge: Any) -> VerificationReport:
    """Call the caller's verifier, handing it our judge when it accepts one."""
    params: Mapping[str, inspect.Parameter]
    try:
        params = inspect.signature(verify).parameters
    except (TypeError, ValueError):
        params = {}
    takes_judge = "judge" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    return verify(output, judge=judge) if takes_judge else verify(output)  # type: ignore[call-arg]
