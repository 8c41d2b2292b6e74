"""Dashboard figures on hand-built runs: exact counts, rates, percentiles; bounded queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from salesops.services.dashboards import FilterError, dashboard_figures, version_compare
from tests.dashboards.conftest import World, runs_bulk


def test_outcomes_count_each_run_once_and_leave_decoys_out(hand_built: World) -> None:
    w = hand_built
    f = dashboard_figures(w.sop, 1, since=w.since, until=w.until)
    assert f.runs == 10  # not the shadow run, the run before the period, v2's or another SOP's
    assert f.outcomes == {"written": 5, "escalated": 1, "rejected": 1, "failed": 1, "skipped": 1}
    assert f.in_progress == 1
    assert f.share("written") == pytest.approx(0.5)


def test_version_and_connection_filters(hand_built: World) -> None:
    w = hand_built
    v1 = dashboard_figures(w.sop, 1, since=w.since, until=w.until)
    v2 = dashboard_figures(w.sop, w.v2, since=w.since, until=w.until)
    every = dashboard_figures(since=w.since, until=w.until, connection=w.connection)
    assert (v1.runs, v2.runs, every.runs) == (10, 1, 12)
    assert v2.outcomes["failed"] == 1


def test_reviewer_decisions_and_rates(hand_built: World) -> None:
    d = dashboard_figures(
        hand_built.sop, 1, since=hand_built.since, until=hand_built.until
    ).decisions
    assert (d.open, d.approved, d.edited, d.rejected, d.overridden) == (1, 1, 1, 1, 1)
    assert d.decided == 3
    assert d.rate("edited") == pytest.approx(1 / 3)
    assert d.rate("overridden") == pytest.approx(1 / 3)


def test_reasons_ranked_and_checks_that_fail_most(hand_built: World) -> None:
    f = dashboard_figures(hand_built.sop, 1, since=hand_built.since, until=hand_built.until)
    assert [(r.name, r.escalated, r.condition) for r in f.reasons] == [
        ("score-in-range", 2, False),
        ("budget-over-100k", 1, True),
    ]
    score = f.failing_checks[0]
    assert (score.name, score.failing, score.escalated) == ("score-in-range", 2, 2)
    assert [c.name for c in f.failing_checks] == ["score-in-range", "budget-over-100k"]


def test_cost_tokens_and_latency_percentiles(hand_built: World) -> None:
    f = dashboard_figures(hand_built.sop, 1, since=hand_built.since, until=hand_built.until)
    assert f.cost_per_run == Decimal("0.020000")
    assert f.tokens_per_run == pytest.approx(150)
    # Nine finished runs of 10..90 s: p50 at position 4, p95 at 7.6 -> 80 + 0.6 * 10.
    assert f.finished == 9
    assert f.p50 == pytest.approx(50)
    assert f.p95 == pytest.approx(86)


def test_per_day_outcomes_and_percentiles(hand_built: World) -> None:
    f = dashboard_figures(hand_built.sop, 1, since=hand_built.since, until=hand_built.until)
    assert [d.day for d in f.days] == [hand_built.day1.date(), hand_built.day2.date()]
    first, second = f.days
    assert first.counts["written"] == 4 and sum(first.counts.values()) == 4
    assert first.p50 == pytest.approx(25)
    assert first.p95 == pytest.approx(38.5)  # position 2.85 in 10, 20, 30, 40
    assert second.counts == {"written": 1, "escalated": 1, "rejected": 1, "failed": 1, "skipped": 1}
    assert second.p50 == pytest.approx(70)


def test_queue_depth_is_now_not_the_period(hand_built: World) -> None:
    f = dashboard_figures(hand_built.sop, since=hand_built.since, until=hand_built.until)
    assert f.queue == {"queued": 1, "running": 0, "retrying": 1}
    assert f.queue_depth == 2


def test_connection_budget_and_sync_lag(hand_built: World) -> None:
    f = dashboard_figures(since=hand_built.since, until=hand_built.until)
    (local,) = [c for c in f.connections if c.slug == "local"]
    assert (local.calls_today, local.limit, local.remaining) == (40, 1000, 960)
    assert local.percent_used == pytest.approx(4.0)
    (sync,) = local.syncs
    assert sync.object_type == "contact"
    assert 110 < sync.lag_seconds < 600


def test_empty_period_has_no_rates(world: World) -> None:
    f = dashboard_figures(since=world.since, until=world.until)
    assert f.runs == 0 and f.p50 is None and f.cost_per_run is None
    assert f.decisions.rate("approved") is None and f.share("written") is None


def test_bad_filters_raise_filter_error(world: World) -> None:
    with pytest.raises(FilterError):
        dashboard_figures(version=1, since=world.since, until=world.until)
    with pytest.raises(FilterError):
        dashboard_figures(world.sop, since=world.until, until=world.since)
    with pytest.raises(FilterError):
        dashboard_figures(world.other, world.v1, since=world.since, until=world.until)
    with pytest.raises(FilterError):
        version_compare(world.sop, 1, 9, since=world.since, until=world.until)


def test_version_compare_side_by_side(hand_built: World) -> None:
    w = hand_built
    c = version_compare(w.sop, 1, 2, since=w.since, until=w.until)
    assert (c.v1.number, c.v2.number) == (1, 2)
    assert (c.first.runs, c.second.runs) == (10, 1)


@pytest.mark.parametrize("n", [10, 200])
def test_query_count_does_not_grow_with_runs(
    world: World, n: int, django_assert_max_num_queries
) -> None:
    runs_bulk(world, n)
    with django_assert_max_num_queries(9):  # 8 on PostgreSQL, 9 on SQLite
        f = dashboard_figures(
            world.sop, 1, since=world.since - timedelta(days=1), until=world.until
        )
    assert f.runs == n
    assert f.failing_checks and f.p95 is not None
