"""Latency percentiles: PostgreSQL's `percentile_cont`, and a portable window-function fallback.

The fallback (SQLite) numbers the finished runs by duration with ROW_NUMBER() and keeps only
the rows either side of each percentile's position, so one query returns at most four rows per
group whatever the number of runs; they are interpolated linearly as `percentile_cont` does
(position p * (n - 1) in the sorted values).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from django.db.models import Aggregate, Count, DurationField, Expression, F, Q, QuerySet, Window
from django.db.models.functions import Floor, RowNumber, TruncDate

PERCENTILES = (0.5, 0.95)


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_cont(fraction) WITHIN GROUP (ORDER BY x)`."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("a percentile is a fraction between 0 and 1")
        super().__init__(
            expression, fraction=repr(float(fraction)), output_field=DurationField(), **extra
        )


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value) / 1e6


def _interpolate(values: dict[int, float], n: int, fraction: float) -> float | None:
    """percentile_cont over n sorted values, given those at 1-based ranks around the position."""
    if n == 0:
        return None
    position = fraction * (n - 1)
    low = math.floor(position)
    below = values.get(low + 1)
    if below is None:
        return None
    above = values.get(low + 2, below)
    return below + (above - below) * (position - low)


def _ranks(n: int) -> set[int]:
    ranks: set[int] = set()
    for fraction in PERCENTILES:
        low = math.floor(fraction * (n - 1))
        ranks.update((low + 1, low + 2))
    return ranks


def percentiles_overall(
    runs: QuerySet[Any], duration: Expression, finished: int
) -> tuple[float | None, float | None]:
    """(p50, p95) in seconds of `duration` over the `finished` finished runs: one query."""
    if not finished:
        return None, None
    rows = (
        runs.filter(finished_at__isnull=False)
        .annotate(latency=duration, rank=Window(RowNumber(), order_by=F("latency").asc()))
        .filter(rank__in=sorted(_ranks(finished)))
        .values_list("rank", "latency")
    )
    values = {rank: _seconds(latency) for rank, latency in rows}
    p50, p95 = (_interpolate(values, finished, f) for f in PERCENTILES)
    return p50, p95


def percentiles_per_day(
    runs: QuerySet[Any], duration: Expression
) -> dict[date, tuple[float | None, float | None]]:
    """{day: (p50, p95)} in seconds over the finished runs created each day: one query."""
    day = TruncDate("queued_at")
    ranked = (
        runs.filter(finished_at__isnull=False)
        .annotate(
            day=day,
            latency=duration,
            rank=Window(RowNumber(), partition_by=[day], order_by=F("latency").asc()),
            n=Window(Count("pk"), partition_by=[day]),
        )
        .annotate(
            **{
                f"low{i}": Floor((F("n") - 1) * fraction) + 1
                for i, fraction in enumerate(PERCENTILES)
            }
        )
    )
    near = Q()
    for i in range(len(PERCENTILES)):
        near |= Q(rank=F(f"low{i}")) | Q(rank=F(f"low{i}") + 1)
    found: dict[date, tuple[int, dict[int, float]]] = {}
    for day_value, rank, n, latency in ranked.filter(near).values_list(
        "day", "rank", "n", "latency"
    ):
        found.setdefault(day_value, (n, {}))[1][rank] = _seconds(latency)
    return {
        day_value: (
            _interpolate(values, n, PERCENTILES[0]),
            _interpolate(values, n, PERCENTILES[1]),
        )
        for day_value, (n, values) in found.items()
    }
