"""Reads, named `<entity>_<what>`: queries the admin, the API and the commands share."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from salesops.models import Run


def runs_pending(run_ids: Iterable[int]) -> int:
    """How many of these runs have not reached a final state yet."""
    return (
        Run.objects.filter(pk__in=list(run_ids))
        .exclude(state__in=[*Run.TERMINAL, Run.State.VERIFIED])
        .count()
    )


def runs_wait(
    run_ids: list[int],
    *,
    timeout: float,
    on_progress: Callable[[int], None] | None = None,
    poll: float = 0.2,
) -> bool:
    """Block until every run is final (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    done_before = -1
    while True:
        pending = runs_pending(run_ids)
        done = len(run_ids) - pending
        if on_progress and done != done_before:
            on_progress(done)
            done_before = done
        if pending == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
