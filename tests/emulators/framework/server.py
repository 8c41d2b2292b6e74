"""The emulator base class: a threaded loopback HTTP(S) server with faults, limits and counters.

A vendor emulator subclasses `Emulator`, adds routes to `self.router` and overrides the hooks
that make it look like its vendor: `before` (auth, required headers), `render_fault` (its error
body shape), `rate_limit_headers` (the headers it declares) and `finish` (headers on every reply).
Each request goes: record and count -> scripted fault -> `before` -> rate limiter -> route.
"""

from __future__ import annotations

import math
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from tests.emulators.framework import tls
from tests.emulators.framework.clock import Clock, FakeClock
from tests.emulators.framework.faults import (
    Drop,
    FaultPlan,
    HttpError,
    RateLimited,
    RenderedFault,
    ServerError,
    Slow,
    fault_status,
)
from tests.emulators.framework.http import Request, Response, Route, Router, json_response
from tests.emulators.framework.ratelimit import Decision, WindowLimiter


@dataclass
class RecordedRequest:
    """One request as the emulator received it (`status` is filled in once answered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    endpoint: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    status: int | None = None  # None until answered, and for dropped connections


def retry_after_value(seconds: float) -> str:
    """Retry-After as HTTP defines it: whole seconds, rounded up."""
    return str(max(0, math.ceil(seconds)))


class Emulator:
    """Base of every vendor emulator; see the module docstring for the request pipeline."""

    def __init__(
        self,
        *,
        tls: bool = False,
        clock: Clock | None = None,
        limiter: WindowLimiter | None = None,
    ) -> None:
        self.use_tls = tls
        self.clock: Clock = clock or FakeClock()
        self.limiter = limiter
        self.router = Router()
        self.faults = FaultPlan()
        self.calls: Counter[str] = Counter()  # endpoint key -> requests received
        self.requests: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0) -> Self:
        """Bind `port` (0: a free one) on 127.0.0.1 and serve in a background thread."""
        server = _Server(("127.0.0.1", port), _Handler)
        server.emulator = self
        if self.use_tls:
            # The handshake happens on first read, in the request's thread, not in accept().
            server.socket = tls.server_context().wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "emulator not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The URL clients and SDKs point at (https when started with tls=True)."""
        return f"{'https' if self.use_tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path | None:
        """The CA bundle clients must trust (None without TLS)."""
        return tls.ca_path() if self.use_tls else None

    def trusted_env(self) -> AbstractContextManager[Path]:
        """Set REQUESTS_CA_BUNDLE and SSL_CERT_FILE to the CA for requests-based SDKs."""
        return tls.trusted_env()

    # -- scripting and inspection ----------------------------------------------------------
    def fail(self, *faults: Any, endpoint: str | None = None, times: int = 1) -> None:
        """Queue faults for one endpoint key ("POST /x/{id}") or, without one, any request."""
        self.faults.add(*faults, endpoint=endpoint, times=times)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The recorded requests for one endpoint key, in order."""
        with self._log_lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def reset_log(self) -> None:
        """Forget recorded requests and counters."""
        with self._log_lock:
            self.requests.clear()
            self.calls.clear()

    # -- vendor hooks ----------------------------------------------------------------------
    def before(self, req: Request) -> Response | None:
        """Checks before routing (auth, required headers); a response refuses the request."""
        return None

    def render_fault(self, fault: RenderedFault, req: Request) -> Response:
        """An error answer in the vendor's shape; the default is a plain JSON error."""
        code = fault_status(fault)
        message = fault.message or {429: "rate limited", 401: "session expired"}.get(code, "error")
        headers = dict(getattr(fault, "headers", {}) or {})
        wait = getattr(fault, "retry_after", None)
        if wait is not None:
            headers["Retry-After"] = retry_after_value(wait)
        return json_response(code, {"status": "error", "message": message}, headers)

    def render_bug(self, req: Request, exc: Exception) -> Response:
        """The answer when a handler raised: a 500 that names the bug."""
        return self.render_fault(ServerError(500, f"emulator bug: {exc!r}"), req)

    def rate_limit_key(self, req: Request) -> str | None:
        """Whose budget a request spends (None: not limited); the bearer token by default."""
        return req.bearer or "anonymous"

    def rate_limit_headers(self, decision: Decision, req: Request) -> dict[str, str]:
        """The vendor's rate-limit headers for a limiter decision (none by default)."""
        return {}

    def finish(self, req: Request, resp: Response) -> None:
        """Last touch on every response (e.g. a request-id header)."""

    # -- pipeline --------------------------------------------------------------------------
    def _serve(self, h: _Handler, method: str) -> None:
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        req = Request.parse(method, h.path, {k.lower(): v for k, v in h.headers.items()}, raw)
        route, req.params, other_method = self.router.match(method, req.path)
        req.endpoint = route.key if route else f"{method} {req.path}"
        record = RecordedRequest(method, req.path, req.headers, req.json, req.endpoint, req.query)
        with self._log_lock:
            self.requests.append(record)
            self.calls[req.endpoint] += 1
        try:
            resp = self._answer(req, route, other_method)
        except Exception as exc:
            # An emulator bug must surface in the test, not as a retried connection error.
            resp = self.render_bug(req, exc)
        if resp is None:
            h.drop()
            return
        self.finish(req, resp)
        record.status = resp.status
        h.send(resp)

    def _answer(self, req: Request, route: Route | None, other_method: bool) -> Response | None:
        fault = self.faults.take(req.endpoint)
        if isinstance(fault, Slow):
            time.sleep(fault.seconds)
        elif isinstance(fault, Drop):
            return None
        elif fault is not None:
            return self._with_limits(self.render_fault(fault, req), req, None)
        refused = self.before(req)
        if refused is not None:
            return refused
        decision = None
        key = self.rate_limit_key(req) if self.limiter is not None else None
        if self.limiter is not None and key is not None:
            decision = self.limiter.hit(key)
            if not decision.allowed:
                limited = RateLimited(decision.retry_after, decision=decision)
                return self._with_limits(self.render_fault(limited, req), req, decision)
        if route is None:
            status = 405 if other_method else 404
            missing = HttpError(status, f"{req.method} {req.path} not found")
            return self._with_limits(self.render_fault(missing, req), req, decision)
        return self._with_limits(route.handler(req), req, decision)

    def _with_limits(self, resp: Response, req: Request, decision: Decision | None) -> Response:
        if self.limiter is None:
            return resp
        if decision is None:  # a scripted fault: report the budget as it stands
            key = self.rate_limit_key(req)
            if key is None:
                return resp
            decision = Decision(True, self.limiter.peek(key))
        resp.headers = {**self.rate_limit_headers(decision, req), **resp.headers}
        return resp


class _Handler(BaseHTTPRequestHandler):
    # TCP_NODELAY: small replies otherwise wait ~40 ms on delayed ACKs (real APIs do not).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive, as SDK connection pools expect
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr noise
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header: the emulator's clock (a FakeClock moves it), not the wall's."""
        if timestamp is None:
            timestamp = self.server.emulator.clock.time()  # type: ignore[attr-defined]
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:
        self.server.emulator._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.emulator._serve(self, "POST")

    def do_PUT(self) -> None:
        self.server.emulator._serve(self, "PUT")

    def do_PATCH(self) -> None:
        self.server.emulator._serve(self, "PATCH")

    def do_DELETE(self) -> None:
        self.server.emulator._serve(self, "DELETE")

    def send(self, resp: Response) -> None:
        """Write a whole response (the client may have gone: nothing to deliver then)."""
        try:
            self.send_response(resp.status)
            self.send_header("content-type", resp.content_type)
            self.send_header("content-length", str(len(resp.body)))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(resp.body)
        except OSError:  # BrokenPipe, ConnectionReset, SSL EOF: the client gave up
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without a byte of response."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that reset, time out or refuse our certificate are part of the tests.
        if isinstance(sys.exc_info()[1], OSError | ssl.SSLError):
            return
        super().handle_error(request, client_address)
