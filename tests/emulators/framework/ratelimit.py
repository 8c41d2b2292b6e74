"""Vendor-style rate limiting: fixed windows per key (burst per 10 s, daily budget, ...).

Windows are aligned to multiples of their length in epoch time, so a daily window resets at
midnight UTC as vendors' daily budgets do. A refused call consumes nothing. Vendors turn a
`Decision` into their own headers (`Emulator.rate_limit_headers`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from tests.emulators.framework.clock import Clock


@dataclass(frozen=True)
class Window:
    """At most `limit` calls per `seconds` for one key."""

    name: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Usage:
    """One window's state after a call."""

    window: Window
    used: int
    reset_in: float  # seconds until this window starts over

    @property
    def remaining(self) -> int:
        """Calls left in the current window."""
        return max(0, self.window.limit - self.used)


@dataclass(frozen=True)
class Decision:
    """Whether a call may proceed, and every window's usage (for the vendor's headers)."""

    allowed: bool
    usage: dict[str, Usage]
    blocked_by: str | None = None
    retry_after: float = 0.0  # seconds until the blocking window frees a slot


class WindowLimiter:
    """Counts calls per key in each window; `hit` answers allowed or refused."""

    def __init__(self, clock: Clock, *windows: Window) -> None:
        if not windows:
            raise ValueError("a limiter needs at least one window")
        self.clock = clock
        self.windows = windows
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (key, window) -> (slot, n)
        self._lock = threading.Lock()

    def hit(self, key: str) -> Decision:
        """Count one call for `key` if every window has room; otherwise refuse it."""
        now = self.clock.time()
        with self._lock:
            state = {w.name: self._used(key, w, now) for w in self.windows}
            full = [w for w in self.windows if state[w.name][1] >= w.limit]
            if not full:
                for w in self.windows:
                    slot, used = state[w.name]
                    state[w.name] = (slot, used + 1)
                    self._counts[(key, w.name)] = state[w.name]
        usage = {
            w.name: Usage(w, state[w.name][1], (state[w.name][0] + 1) * w.seconds - now)
            for w in self.windows
        }
        if not full:
            return Decision(True, usage)
        # The longest wait wins: a spent daily budget outlasts a spent burst window.
        blocking = max(full, key=lambda w: usage[w.name].reset_in)
        return Decision(False, usage, blocking.name, usage[blocking.name].reset_in)

    def peek(self, key: str) -> dict[str, Usage]:
        """Usage per window for `key` without counting a call."""
        now = self.clock.time()
        with self._lock:
            state = {w.name: self._used(key, w, now) for w in self.windows}
        return {
            w.name: Usage(w, state[w.name][1], (state[w.name][0] + 1) * w.seconds - now)
            for w in self.windows
        }

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._counts.clear()

    def _used(self, key: str, window: Window, now: float) -> tuple[int, int]:
        slot = math.floor(now / window.seconds)
        seen_slot, used = self._counts.get((key, window.name), (slot, 0))
        return (slot, used if seen_slot == slot else 0)
