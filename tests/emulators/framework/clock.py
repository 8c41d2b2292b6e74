"""Clocks for emulators: a fake one tests move by hand, and the real one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What emulators read time from: rate-limit windows, token expiry, timestamps."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current time as epoch seconds."""
        ...


class FakeClock:
    """A clock that only moves when told to (`advance`), so windows and expiry are exact."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current fake time."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """The current fake time as epoch seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


class SystemClock:
    """The wall clock, for emulators whose tests wait for real (e.g. client timeouts)."""

    def now(self) -> datetime:
        """The current wall-clock time."""
        return datetime.now(UTC)

    def time(self) -> float:
        """The current wall-clock time as epoch seconds."""
        return time.time()
