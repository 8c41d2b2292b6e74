"""Loopback emulator of the Anthropic Messages API for tests and benchmarks.

Drive it with the real `anthropic` SDK (`base_url=emulator.base_url`). Responses come from a
per-test script (replies, errors, delays), then from a default responder. Usage figures are
estimated (4 characters per token) and prompt caching is simulated per cache_control breakpoint.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.emulators.anthropic_prompt import PromptCache, canon, count_tokens, validate_request
from tests.emulators.framework import (
    Clock,
    Decision,
    Emulator,
    HttpError,
    RateLimited,
    RecordedRequest,
    RenderedFault,
    Request,
    Response,
    ServerError,
    SessionExpired,
    SystemClock,
    WindowLimiter,
    json_response,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    """A scripted assistant message; `usage` overrides the estimated figures."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class ErrorReply:
    """A scripted API error in the real error shape."""

    status: int
    error_type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    """Sleep before answering the current request with the next script item."""

    seconds: float


ScriptItem = Reply | ErrorReply | Delay
Responder = Callable[[dict[str, Any]], Reply | ErrorReply]


def text(value: str) -> dict[str, Any]:
    """A text content block."""
    return {"type": "text", "text": value}


def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    """A tool_use content block (id generated when not given)."""
    return {
        "type": "tool_use",
        "id": id or f"toolu_{uuid.uuid4().hex[:24]}",
        "name": name,
        "input": input,
    }


def reply(*blocks: dict[str, Any] | str, stop_reason: str | None = None, **usage: int) -> Reply:
    """A scripted message; stop_reason defaults to tool_use when a tool_use block is present."""
    content = [text(b) if isinstance(b, str) else b for b in blocks]
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return Reply(content=content, stop_reason=stop_reason, usage=dict(usage))


def error(
    status: int,
    error_type: str | None = None,
    message: str = "",
    *,
    retry_after: float | None = None,
    should_retry: bool | None = None,
    headers: dict[str, str] | None = None,
) -> ErrorReply:
    """A scripted error; the type defaults to the API's type for the status code."""
    hdrs = dict(headers or {})
    if retry_after is not None:
        hdrs["retry-after"] = str(retry_after)
    if should_retry is not None:
        hdrs["x-should-retry"] = "true" if should_retry else "false"
    etype = error_type or _ERROR_TYPES.get(status, "api_error")
    return ErrorReply(status, etype, message or etype.replace("_", " "), hdrs)


def default_responder(request: dict[str, Any]) -> Reply:
    """Answer every request with a short end_turn text."""
    return reply("ok")


class AnthropicEmulator(Emulator):
    """A Messages API on 127.0.0.1: scripted replies, usage, cache simulation, batches.

    Built on the emulator framework: `fail(...)` injects framework faults (rendered in the
    API's error shape), `calls` counts requests per endpoint, and a `limiter` adds the API's
    `anthropic-ratelimit-requests-*` headers and 429s.
    """

    def __init__(
        self,
        *,
        responder: Responder = default_responder,
        latency: float = 0.0,
        min_cacheable_tokens: int = 1024,
        min_cacheable_by_model: dict[str, int] | None = None,
        cache_ttl_seconds: float = 300.0,
        batch_polls_until_ended: int = 1,
        api_key: str | None = None,
        tls: bool = False,
        clock: Clock | None = None,
        limiter: WindowLimiter | None = None,
    ) -> None:
        super().__init__(tls=tls, clock=clock or SystemClock(), limiter=limiter)
        self.responder = responder
        self.latency = latency
        self.min_cacheable_tokens = min_cacheable_tokens
        self.min_cacheable_by_model = dict(min_cacheable_by_model or {})
        self.batch_polls_until_ended = batch_polls_until_ended
        self.api_key = api_key  # None: any non-empty key is accepted
        self._script: deque[ScriptItem] = deque()
        self.cache = PromptCache(cache_ttl_seconds)
        self._batches: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        add = self.router.add
        # Looked up per request, so a benchmark may wrap `_messages` on the instance.
        add("POST", "/v1/messages", lambda req: self._messages(req, req.json))
        add("POST", "/v1/messages/count_tokens", self._count_tokens)
        add("POST", "/v1/messages/batches", lambda req: self._batch_create(req, req.json))
        add("GET", "/v1/messages/batches/{id}", self._batch_get)
        add("GET", "/v1/messages/batches/{id}/results", self._batch_results)
        add("POST", "/v1/messages/batches/{id}/cancel", self._batch_cancel)

    # -- scripting and inspection ----------------------------------------------------------
    def script(self, *items: ScriptItem) -> None:
        """Queue replies, errors and delays, consumed one per request (delays chain)."""
        with self._lock:
            self._script.extend(items)

    @property
    def pending(self) -> int:
        """Script items not yet consumed."""
        return len(self._script)

    def message_requests(self) -> list[RecordedRequest]:
        """The recorded POST /v1/messages requests, in order."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    def clear_cache(self) -> None:
        """Forget every cached prefix."""
        self.cache.clear()

    # -- framework hooks -------------------------------------------------------------------
    def before(self, req: Request) -> Response | None:
        """Authentication, the version header and JSON, checked before routing like the API."""
        # The SDK sends its api_key as `Authorization: Bearer`; older clients use x-api-key.
        key = req.headers.get("x-api-key") or req.bearer
        if not key or (self.api_key is not None and key != self.api_key):
            return self._error(error(401, message="invalid x-api-key"))
        if not req.headers.get("anthropic-version"):
            return self._error(error(400, message="anthropic-version header is required"))
        if req.bad_json:
            return self._error(error(400, message="request body is not valid JSON"))
        return None

    def render_fault(self, fault: RenderedFault, req: Request) -> Response:
        """Framework faults in the API's error shape."""
        if isinstance(fault, RateLimited):
            return self._error(error(429, message=fault.message, retry_after=fault.retry_after))
        if isinstance(fault, ServerError):
            return self._error(
                error(fault.status, message=fault.message, retry_after=fault.retry_after)
            )
        if isinstance(fault, SessionExpired):
            return self._error(error(401, message=fault.message or "invalid x-api-key"))
        assert isinstance(fault, HttpError)
        return self._error(error(fault.status, message=fault.message, headers=fault.headers))

    def render_bug(self, req: Request, exc: Exception) -> Response:
        """A handler bug: a 500 the SDK must not retry."""
        return self._error(error(500, message=f"emulator bug: {exc!r}", should_retry=False))

    def rate_limit_key(self, req: Request) -> str | None:
        """Limits are per API key."""
        return req.headers.get("x-api-key") or req.bearer or None

    def rate_limit_headers(self, decision: Decision, req: Request) -> dict[str, str]:
        """The API's request-limit headers, from the limiter's first window."""
        usage = next(iter(decision.usage.values()))
        reset = self.clock.now() + timedelta(seconds=usage.reset_in)
        return {
            "anthropic-ratelimit-requests-limit": str(usage.window.limit),
            "anthropic-ratelimit-requests-remaining": str(usage.remaining),
            "anthropic-ratelimit-requests-reset": reset.isoformat().replace("+00:00", "Z"),
        }

    def finish(self, req: Request, resp: Response) -> None:
        """Every answer carries a request-id, as the API's do."""
        resp.headers.setdefault("request-id", f"req_{uuid.uuid4().hex[:24]}")

    # -- request handling ------------------------------------------------------------------
    def _count_tokens(self, req: Request) -> Response:
        problem = validate_request(req.json, need_max_tokens=False)
        if problem:
            return self._error(error(400, message=problem))
        return json_response(200, {"input_tokens": count_tokens(req.json)})

    def _next_item(self, request: dict[str, Any]) -> Reply | ErrorReply:
        # A Delay and the item it delays are taken together, under the lock: a client retry
        # arriving during the sleep must not steal the delayed answer.
        delay = 0.0
        with self._lock:
            item = self._script.popleft() if self._script else None
            while isinstance(item, Delay):
                delay += item.seconds
                item = self._script.popleft() if self._script else None
        if delay:
            time.sleep(delay)
        return self.responder(request) if item is None else item

    def _messages(self, req: Request, body: dict[str, Any]) -> Response:
        if self.latency:
            time.sleep(self.latency)
        problem = validate_request(body, need_max_tokens=True)
        if problem:
            return self._error(error(400, message=problem))
        item = self._next_item(body)
        if isinstance(item, ErrorReply):
            return self._error(item)
        return json_response(200, self._message_json(body, item))

    def _message_json(self, body: dict[str, Any], item: Reply) -> dict[str, Any]:
        content = [dict(b) for b in item.content]
        out_chars = sum(len(canon(b)) for b in content)
        usage = {**self._usage(body), "output_tokens": max(1, out_chars // 4)}
        usage.update(item.usage)
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": item.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def _usage(self, body: dict[str, Any]) -> dict[str, Any]:
        minimum = self.min_cacheable_by_model.get(body["model"], self.min_cacheable_tokens)
        return self.cache.usage(body, minimum)

    # -- batches ---------------------------------------------------------------------------
    def _batch_create(self, req: Request, body: Any) -> Response:
        reqs = (body or {}).get("requests") if isinstance(body, dict) else None
        if not reqs:
            return self._error(error(400, message="requests: Field required"))
        ids = [r.get("custom_id") for r in reqs]
        if len(set(ids)) != len(ids) or not all(ids):
            return self._error(error(400, message="custom_id must be unique and set"))
        created = self.clock.now()
        batch = {
            "id": f"msgbatch_{uuid.uuid4().hex[:24]}",
            "type": "message_batch",
            "processing_status": "in_progress",
            "created_at": created.isoformat(),
            "expires_at": (created + timedelta(hours=24)).isoformat(),
            "ended_at": None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
            "_requests": reqs,
            "_results": [],
            "_polls": 0,
        }
        with self._lock:
            self._batches[batch["id"]] = batch
        return json_response(200, self._batch_view(batch))

    def _batch_find(self, req: Request) -> dict[str, Any] | Response:
        batch = self._batches.get(req.params["id"])
        if batch is None:
            return self._error(error(404, message=f"batch {req.params['id']} not found"))
        return batch

    def _batch_get(self, req: Request) -> Response:
        batch = self._batch_find(req)
        if isinstance(batch, Response):
            return batch
        return json_response(200, self._batch_poll(batch))

    def _batch_cancel(self, req: Request) -> Response:
        batch = self._batch_find(req)
        if isinstance(batch, Response):
            return batch
        with self._lock:
            if batch["processing_status"] == "in_progress":
                batch["processing_status"] = "canceling"
                batch["cancel_initiated_at"] = self._now_iso()
        return json_response(200, self._batch_view(batch))

    def _batch_poll(self, batch: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            batch["_polls"] += 1
            finish = batch["processing_status"] == "canceling" or (
                batch["processing_status"] == "in_progress"
                and batch["_polls"] >= self.batch_polls_until_ended
            )
        if finish:
            canceled = batch["processing_status"] == "canceling"
            batch["_results"] = [self._batch_one(r, canceled) for r in batch["_requests"]]
            batch["processing_status"] = "ended"
            batch["ended_at"] = self._now_iso()
            batch["results_url"] = f"{self.base_url}/v1/messages/batches/{batch['id']}/results"
        return self._batch_view(batch)

    def _batch_one(self, req: dict[str, Any], canceled: bool) -> dict[str, Any]:
        if canceled:
            return {"custom_id": req["custom_id"], "result": {"type": "canceled"}}
        params = req.get("params") or {}
        problem = validate_request(params, need_max_tokens=True)
        item = error(400, message=problem) if problem else self._next_item(params)
        if isinstance(item, ErrorReply):
            err = {
                "type": "error",
                "error": {"type": item.error_type, "message": item.message},
                "request_id": None,
            }
            return {"custom_id": req["custom_id"], "result": {"type": "errored", "error": err}}
        message = self._message_json(params, item)
        return {"custom_id": req["custom_id"], "result": {"type": "succeeded", "message": message}}

    @staticmethod
    def _batch_view(batch: dict[str, Any]) -> dict[str, Any]:
        counts = {k: 0 for k in ("processing", "succeeded", "errored", "canceled", "expired")}
        if batch["processing_status"] == "ended":
            for r in batch["_results"]:
                counts[r["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch["_requests"])
        view = {k: v for k, v in batch.items() if not k.startswith("_")}
        return {**view, "request_counts": counts}

    def _batch_results(self, req: Request) -> Response:
        batch = self._batch_find(req)
        if isinstance(batch, Response):
            return batch
        if batch["processing_status"] != "ended":
            return self._error(error(400, message="batch has not ended"))
        data = "".join(json.dumps(r) + "\n" for r in batch["_results"]).encode()
        return Response(200, data, content_type="application/binary")

    # -- responses -------------------------------------------------------------------------
    @staticmethod
    def _error(item: ErrorReply) -> Response:
        """An error in the API's shape; the body's request_id matches the header."""
        request_id = f"req_{uuid.uuid4().hex[:24]}"
        payload = {
            "type": "error",
            "error": {"type": item.error_type, "message": item.message},
            "request_id": request_id,
        }
        return json_response(item.status, payload, {"request-id": request_id, **item.headers})

    def _now_iso(self) -> str:
        return self.clock.now().isoformat()
