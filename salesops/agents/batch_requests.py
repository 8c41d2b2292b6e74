"""Message Batches API requests and results for single-turn runs. Pure Python, no SDK calls.

A batched run is one request: the interactive engine's assembled request (same tools, same
system prompt, same cache breakpoints) with tool_choice forced to submit_result. The record is
already in the prompt, so no look-up turn is needed; the knowledge skills' bodies, which the
interactive agent loads through a tool, are appended to the system prompt instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from salesops.agents import assembly
from salesops.specs.model import KnowledgeSkill, SopSpec

CUSTOM_ID_PREFIX = "run-"
# The request itself is wrong: running it again interactively would fail the same way.
_NOT_RETRYABLE = {"invalid_request_error"}
_CACHE = {"type": "ephemeral"}


@dataclass
class ItemOutcome:
    """What one batch result means for its run.

    action: "complete" (hand `output` to verification), "fail" (end the run with `reason`) or
    "retry" (run it again through the interactive path).
    """

    custom_id: str
    status: str  # succeeded | errored | expired | canceled
    action: str
    output: dict[str, Any] | None = None
    reason: str = ""
    message: dict[str, Any] = field(default_factory=dict)  # the model's reply, when succeeded
    usage: dict[str, int] = field(default_factory=dict)
    model: str = ""


def custom_id(run_id: int) -> str:
    """The batch request id of a run."""
    return f"{CUSTOM_ID_PREFIX}{run_id}"


def run_id_of(value: str) -> int | None:
    """The run id inside a custom_id, or None for an id we did not make."""
    if not value.startswith(CUSTOM_ID_PREFIX):
        return None
    tail = value[len(CUSTOM_ID_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def skills_block(knowledge: dict[str, KnowledgeSkill]) -> dict[str, Any] | None:
    """The bodies of the SOP's knowledge skills as one cached system block (None if none)."""
    if not knowledge:
        return None
    bodies = "\n\n".join(f"### {s.name}\n{s.body.strip()}" for s in knowledge.values())
    text = (
        "## Skill texts\nThis run is answered in a single turn: the only tool you can call is "
        f"{assembly.SUBMIT_TOOL}. The full text of every skill listed above follows, and the "
        "record below already holds everything the look-up tools would return.\n\n" + bodies
    )
    return {"type": "text", "text": text, "cache_control": dict(_CACHE)}


def batch_params(
    spec: SopSpec,
    record: dict[str, Any],
    now: datetime,
    *,
    model: str,
    knowledge: dict[str, KnowledgeSkill] | None = None,
) -> dict[str, Any]:
    """The Messages API params of one batched run: one turn, submit_result forced."""
    request = assembly.assemble(spec, record, now, model=model, knowledge=knowledge)
    params = request.params([request.first_message], spec.model.max_tokens, rolling=False)
    block = skills_block(request.knowledge)
    if block is not None:
        params["system"] = [*request.system, block]
    params["tool_choice"] = {"type": "tool", "name": assembly.SUBMIT_TOOL}
    return params


def batch_request(run_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """One entry of `requests` for client.messages.batches.create."""
    return {"custom_id": custom_id(run_id), "params": params}


def outcome(result: dict[str, Any]) -> ItemOutcome:
    """Interpret one line of a batch's results (the JSON form of MessageBatchIndividualResponse)."""
    cid = str(result.get("custom_id", ""))
    body = result.get("result") or {}
    kind = body.get("type", "")
    if kind == "succeeded":
        return _succeeded(cid, body.get("message") or {})
    if kind == "errored":
        err = (body.get("error") or {}).get("error") or body.get("error") or {}
        etype = err.get("type", "api_error")
        reason = f"batch request errored: {etype}: {err.get('message', '')}".rstrip(": ")
        action = "fail" if etype in _NOT_RETRYABLE else "retry"
        return ItemOutcome(cid, "errored", action, reason=reason)
    if kind in ("expired", "canceled"):
        return ItemOutcome(cid, kind, "retry", reason=f"batch request {kind}")
    return ItemOutcome(cid, "errored", "retry", reason=f"unknown batch result type {kind!r}")


def _succeeded(cid: str, message: dict[str, Any]) -> ItemOutcome:
    usage = {k: int(v or 0) for k, v in (message.get("usage") or {}).items() if _is_count(v)}
    content = message.get("content") or []
    reply = {"stop_reason": message.get("stop_reason"), "content": content}
    model = str(message.get("model") or "")
    done = ItemOutcome(cid, "succeeded", "fail", message=reply, usage=usage, model=model)
    stop = message.get("stop_reason")
    if stop == "refusal":
        done.reason = "the model refused to complete this run (stop_reason=refusal)"
        return done
    if stop == "max_tokens":
        done.reason = "the model's reply hit max_tokens before it finished"
        return done
    submitted = next(
        (
            b.get("input")
            for b in content
            if b.get("type") == "tool_use" and b.get("name") == assembly.SUBMIT_TOOL
        ),
        None,
    )
    if not isinstance(submitted, dict):
        done.reason = f"the model ended without calling {assembly.SUBMIT_TOOL}"
        return done
    done.action, done.output = "complete", submitted
    return done


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


verdict_outcome = assembly.verdict_outcome  # kept for callers of this module
