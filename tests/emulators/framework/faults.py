"""Scripted faults: per endpoint or global, consumed in order, one per request.

The framework applies them (sleep, drop the socket, answer an error); a vendor emulator renders
the error ones in its own body shape through `Emulator.render_fault`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 (or the vendor's equivalent) with Retry-After."""

    retry_after: float = 1.0
    message: str = ""
    # Set when the rate limiter (not a script) refused the call: the vendor may name the window.
    decision: Any = None


@dataclass(frozen=True)
class ServerError:
    """Answer a 5xx (500, 502, 503, ...)."""

    status: int = 500
    message: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class SessionExpired:
    """Answer 401 the way the vendor says a token or session is no longer valid."""

    message: str = ""


@dataclass(frozen=True)
class HttpError:
    """Answer any other status in the vendor's error shape (e.g. 400, 403, 404, 409)."""

    status: int
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slow:
    """Sleep (real seconds) before handling the request normally.

    The handler still runs after the sleep, so a write the client gave up on still happens,
    as on a real server: the case idempotency keys exist for.
    """

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering (the client sees a reset / remote disconnect)."""


Fault = RateLimited | ServerError | SessionExpired | HttpError | Slow | Drop
RenderedFault = RateLimited | ServerError | SessionExpired | HttpError


class FaultPlan:
    """Queues of faults: one per endpoint key ("POST /v1/messages") and a global one."""

    def __init__(self) -> None:
        self._by_endpoint: dict[str, deque[Fault]] = {}
        self._global: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, *faults: Fault, endpoint: str | None = None, times: int = 1) -> None:
        """Queue faults (each repeated `times`) for one endpoint, or for any request."""
        items = [f for f in faults for _ in range(times)]
        with self._lock:
            queue = (
                self._global
                if endpoint is None
                else self._by_endpoint.setdefault(endpoint, deque())
            )
            queue.extend(items)

    def take(self, endpoint: str) -> Fault | None:
        """The next fault for a request to `endpoint`: its own queue first, then the global one."""
        with self._lock:
            queue = self._by_endpoint.get(endpoint)
            if queue:
                return queue.popleft()
            return self._global.popleft() if self._global else None

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._by_endpoint.clear()
            self._global.clear()

    @property
    def pending(self) -> int:
        """Faults not yet consumed, over all queues."""
        with self._lock:
            return len(self._global) + sum(len(q) for q in self._by_endpoint.values())


def fault_status(fault: RenderedFault) -> int:
    """The HTTP status a fault answers with by default (vendors may choose another)."""
    if isinstance(fault, RateLimited):
        return 429
    if isinstance(fault, SessionExpired):
        return 401
    return fault.status
