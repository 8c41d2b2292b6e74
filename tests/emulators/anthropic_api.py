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
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.emulators.anthropic_prompt import PromptCache, canon, count_tokens, validate_request

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


@dataclass
class RecordedRequest:
    """One request as the emulator received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


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


class _Handler(BaseHTTPRequestHandler):
    # TCP_NODELAY: small replies otherwise wait ~40 ms on delayed ACKs (the real API does not).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr noise
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            self.server.emulator._handle(self, method)
        except Exception as exc:
            # An emulator bug must surface in the test, not as a retried connection error.
            bug = error(500, message=f"emulator bug: {exc!r}", should_retry=False)
            self.server.emulator._send_error(self, bug)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: AnthropicEmulator


class AnthropicEmulator:
    """A Messages API on 127.0.0.1: scripted replies, usage, cache simulation, batches."""

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
    ) -> None:
        self.responder = responder
        self.latency = latency
        self.min_cacheable_tokens = min_cacheable_tokens
        self.min_cacheable_by_model = dict(min_cacheable_by_model or {})
        self.batch_polls_until_ended = batch_polls_until_ended
        self.api_key = api_key  # None: any non-empty key is accepted
        self.requests: list[RecordedRequest] = []
        self._script: deque[ScriptItem] = deque()
        self.cache = PromptCache(cache_ttl_seconds)
        self._batches: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> AnthropicEmulator:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AnthropicEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to pass as the SDK's base_url."""
        assert self._server is not None, "emulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

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

    # -- request handling ------------------------------------------------------------------
    def _handle(self, h: _Handler, method: str) -> None:
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body))
        # The SDK sends its api_key as `Authorization: Bearer`; older clients use x-api-key.
        bearer = headers.get("authorization", "")
        key = headers.get("x-api-key") or (bearer[7:] if bearer.startswith("Bearer ") else "")
        if not key or (self.api_key is not None and key != self.api_key):
            return self._send_error(h, error(401, message="invalid x-api-key"))
        if not headers.get("anthropic-version"):
            return self._send_error(h, error(400, message="anthropic-version header is required"))
        if raw and body is None:
            return self._send_error(h, error(400, message="request body is not valid JSON"))
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/messages":
            return self._messages(h, body)
        if method == "POST" and path == "/v1/messages/count_tokens":
            problem = validate_request(body, need_max_tokens=False)
            if problem:
                return self._send_error(h, error(400, message=problem))
            return self._send_json(h, 200, {"input_tokens": count_tokens(body)})
        if method == "POST" and path == "/v1/messages/batches":
            return self._batch_create(h, body)
        if len(parts) >= 4 and parts[:3] == ["v1", "messages", "batches"]:
            batch = self._batches.get(parts[3])
            if batch is None:
                return self._send_error(h, error(404, message=f"batch {parts[3]} not found"))
            if method == "GET" and len(parts) == 4:
                return self._send_json(h, 200, self._batch_poll(batch))
            if method == "GET" and parts[4:] == ["results"]:
                return self._batch_results(h, batch)
            if method == "POST" and parts[4:] == ["cancel"]:
                with self._lock:
                    if batch["processing_status"] == "in_progress":
                        batch["processing_status"] = "canceling"
                        batch["cancel_initiated_at"] = _now_iso()
                return self._send_json(h, 200, self._batch_view(batch))
        return self._send_error(h, error(404, message=f"{method} {path} not found"))

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

    def _messages(self, h: _Handler, body: dict[str, Any]) -> None:
        if self.latency:
            time.sleep(self.latency)
        problem = validate_request(body, need_max_tokens=True)
        if problem:
            return self._send_error(h, error(400, message=problem))
        item = self._next_item(body)
        if isinstance(item, ErrorReply):
            return self._send_error(h, item)
        self._send_json(h, 200, self._message_json(body, item))

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
    def _batch_create(self, h: _Handler, body: Any) -> None:
        reqs = (body or {}).get("requests") if isinstance(body, dict) else None
        if not reqs:
            return self._send_error(h, error(400, message="requests: Field required"))
        ids = [r.get("custom_id") for r in reqs]
        if len(set(ids)) != len(ids) or not all(ids):
            return self._send_error(h, error(400, message="custom_id must be unique and set"))
        created = datetime.now(UTC)
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
        self._send_json(h, 200, self._batch_view(batch))

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
            batch["ended_at"] = _now_iso()
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

    def _batch_results(self, h: _Handler, batch: dict[str, Any]) -> None:
        if batch["processing_status"] != "ended":
            return self._send_error(h, error(400, message="batch has not ended"))
        data = "".join(json.dumps(r) + "\n" for r in batch["_results"]).encode()
        self._send(h, 200, data, "application/binary", {})

    # -- responses -------------------------------------------------------------------------
    def _send_json(self, h: _Handler, status: int, payload: Any) -> None:
        self._send(h, status, json.dumps(payload).encode(), "application/json", {})

    def _send_error(self, h: _Handler, item: ErrorReply) -> None:
        request_id = f"req_{uuid.uuid4().hex[:24]}"
        payload = {
            "type": "error",
            "error": {"type": item.error_type, "message": item.message},
            "request_id": request_id,
        }
        headers = {"request-id": request_id, **item.headers}
        self._send(h, item.status, json.dumps(payload).encode(), "application/json", headers)

    @staticmethod
    def _send(h: _Handler, status: int, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        try:
            h.send_response(status)
            h.send_header("content-type", ctype)
            h.send_header("content-length", str(len(data)))
            h.send_header("request-id", headers.pop("request-id", f"req_{uuid.uuid4().hex[:24]}"))
            for key, value in headers.items():
                h.send_header(key, value)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to deliver


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()
