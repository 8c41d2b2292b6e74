"""HubSpot's limits are rolling windows: the buckets the connector declares for the shared
limiter (pyrate-limiter's GCRA) must never let more than the limit into any window, even
when the bucket starts full after an idle spell, and must sustain at least 90% of it."""

from __future__ import annotations

import pytest
from pyrate_limiter import GCRA, Rate

from connectors.hubspot.connector import SEARCH_PER_SECOND, TIERS, HubSpotConnector, paced


def admitted(size: int, seconds: float, horizon_ms: int) -> list[int]:
    """Millisecond times a greedy caller gets through a GCRA bucket built as the limiter
    builds it (services/ratelimit.py: Rate(calls, per ms))."""
    rate, algorithm = Rate(size, max(1, int(seconds * 1000))), GCRA()
    state, times = algorithm.initial([rate]), []
    for now in range(horizon_ms):
        while True:
            new, decision = algorithm.step([rate], state, now, 1)
            if not decision.allowed:
                break
            state = new
            times.append(now)
    return times


def worst_window(times: list[int], window_ms: int) -> int:
    worst, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window_ms:
            start += 1
        worst = max(worst, end - start + 1)
    return worst


@pytest.mark.parametrize("calls,seconds", [(190, 10.0), (100, 10.0), (SEARCH_PER_SECOND, 1.0)])
def test_no_rolling_window_passes_the_limit_and_most_of_it_is_used(calls, seconds):
    size, refill = paced(calls, seconds)
    window = int(seconds * 1000)
    times = admitted(size, refill, 3 * window)
    assert worst_window(times, window) <= calls - 1  # one call of slack for network jitter
    sustained = sum(1 for t in times if t >= window) / 2  # calls per window, bucket drained
    assert sustained >= 0.8 * calls if calls < 20 else sustained >= 0.9 * calls


def test_a_full_bucket_of_the_limit_would_pass_it():
    # Why pacing: the naive declaration lets a greedy caller nearly double the limit.
    times = admitted(190, 10.0, 20_000)
    assert worst_window(times, 10_000) > 190


def test_every_tier_declares_paced_buckets():
    for tier, (burst, daily) in TIERS.items():
        limits = HubSpotConnector(access_token="x", tier=tier).capabilities.rate_limits
        assert limits["burst"] == paced(burst, 10.0)
        assert limits["daily"] == (daily, 86_400.0)
