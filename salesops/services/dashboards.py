"""Dashboard figures of SOP runs over a period, by a bounded number of aggregate queries.

Every figure is a conditional aggregate (COUNT/SUM/AVG ... FILTER) over the period's runs, or
a GROUP BY of their check steps; the query count does not grow with the number of runs. Shadow
runs (trials) are left out: the figures are about production runs. Latency is from a run's
creation (`queued_at`) to its `finished_at`; percentiles use PostgreSQL's `percentile_cont`, and
on SQLite a window query (ROW_NUMBER over the ordered durations) picks the rows around each
percentile, interpolated the same way (`dashboard_percentiles.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import connection as db_connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from salesops.models import Connection, Escalation, Run, RunStep, Sop, SopVersion
from salesops.services.dashboard_percentiles import (
    PercentileCont,
    percentiles_overall,
    percentiles_per_day,
)
from salesops.services.ratelimit import connection_budget

BLOCKING = ("failed", "error", "escalate")  # check step statuses that stop a write
IN_QUEUE = (Run.State.QUEUED, Run.State.RUNNING, Run.State.RETRYING)
OUTCOMES = ("written", "escalated", "rejected", "failed", "skipped")
DURATION = ExpressionWrapper(F("finished_at") - F("queued_at"), output_field=DurationField())

S = Run.State


class FilterError(ValueError):
    """The filters cannot be applied (a version without its SOP, an empty period, ...)."""


@dataclass(frozen=True)
class Decisions:
    """Reviewer decisions on the period's escalations; rates are shares of the decided ones."""

    open: int = 0
    approved: int = 0  # as is (with or without overrides)
    edited: int = 0  # approved with an edited result
    rejected: int = 0
    overridden: int = 0  # approved over at least one failed check

    @property
    def decided(self) -> int:
        return self.approved + self.edited + self.rejected

    def rate(self, name: str) -> float | None:
        """Share (0..1) of decided escalations with decision `name`, None when none decided."""
        return getattr(self, name) / self.decided if self.decided else None


@dataclass(frozen=True)
class CheckFigure:
    """One check or escalation condition: the runs it failed in (or was met in), and the
    escalations among them."""

    name: str
    failing: int
    escalated: int
    condition: bool  # an escalation condition (status "escalate") rather than a failing check


@dataclass(frozen=True)
class Day:
    """Outcomes and latency percentiles of the runs created on one day."""

    day: date
    counts: dict[str, int]
    p50: float | None = None
    p95: float | None = None


@dataclass(frozen=True)
class SyncLag:
    object_type: str
    last_synced: datetime | None
    lag_seconds: float | None  # None: never caught up
    error: str = ""


@dataclass(frozen=True)
class ConnectionFigure:
    """A connection's API budget used today and how far behind each synced object type is."""

    slug: str
    kind: str
    calls_today: int
    limit: int | None
    remaining: int | None
    syncs: list[SyncLag] = field(default_factory=list)

    @property
    def percent_used(self) -> float | None:
        if not self.limit or self.remaining is None:
            return None
        return 100.0 * (self.limit - self.remaining) / self.limit


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows for one set of filters."""

    since: datetime
    until: datetime
    runs: int
    outcomes: dict[str, int]
    in_progress: int
    decisions: Decisions
    reasons: list[CheckFigure]  # ranked by escalations caused
    failing_checks: list[CheckFigure]  # ranked by failing runs
    cost_per_run: Decimal | None
    tokens_per_run: float | None
    input_tokens_per_run: float | None
    output_tokens_per_run: float | None
    p50: float | None  # seconds from created to finished
    p95: float | None
    finished: int
    queue: dict[str, int]
    days: list[Day]
    connections: list[ConnectionFigure]

    @property
    def queue_depth(self) -> int:
        return sum(self.queue.values())

    def share(self, outcome: str) -> float | None:
        """Share (0..1) of the period's runs with this outcome."""
        return self.outcomes[outcome] / self.runs if self.runs else None


def _version_of(sop: Sop | None, version: SopVersion | int | None) -> dict[str, Any]:
    if version is None:
        return {}
    if isinstance(version, SopVersion):
        if sop is not None and version.sop_id != sop.pk:
            raise FilterError(f"version {version} is not a version of {sop.name}")
        return {"sop_version": version}
    if sop is None:
        raise FilterError("choose an SOP to filter by version number")
    if int(version) < 1:
        raise FilterError("a version number starts at 1")
    return {"sop_version__number": int(version)}


def _scope(
    sop: Sop | None, version: SopVersion | int | None, conn: Connection | None
) -> dict[str, Any]:
    """Run lookups of the filters, as keyword arguments (prefixed to filter steps by run)."""
    scope: dict[str, Any] = {"shadow": False, **_version_of(sop, version)}
    if sop is not None:
        scope["sop"] = sop
    if conn is not None:
        scope["connection"] = conn
    return scope


RUN_COUNTS = {  # per day, on the runs table alone (no join)
    "runs": Count("pk"),
    "written": Count("pk", filter=Q(state=S.WRITTEN)),
    "escalated": Count("pk", filter=Q(state=S.ESCALATED)),  # rejected ones taken off below
    "failed": Count("pk", filter=Q(state=S.FAILED)),
    "skipped": Count("pk", filter=Q(state=S.SKIPPED)),
    "finished": Count("finished_at"),
    "cost": Sum("cost_usd"),
    "tokens_in": Sum("input_tokens"),
    "tokens_out": Sum("output_tokens"),
    "tokens_cache": Sum(F("cache_read_tokens") + F("cache_write_tokens")),
}
TOTALS = ("runs", "finished", "cost", "tokens_in", "tokens_out", "tokens_cache")


def _run_days(runs: QuerySet[Run]) -> list[dict[str, Any]]:
    """One row per day: outcome counts and sums, and latency percentiles on PostgreSQL."""
    per_day: dict[str, Any] = dict(RUN_COUNTS)
    if db_connection.vendor == "postgresql":
        per_day["p50"] = PercentileCont(DURATION, 0.5)
        per_day["p95"] = PercentileCont(DURATION, 0.95)
    rows = runs.annotate(day=TruncDate("queued_at")).values("day").annotate(**per_day)
    return list(cast(Iterable[dict[str, Any]], rows.order_by("day")))


def _escalation_days(period: dict[str, Any]) -> dict[date, dict[str, int]]:
    """Reviewer decisions per day of run creation, from the escalations joined to their runs."""
    esc = Escalation.Status
    approved = Q(status=esc.APPROVED)
    rows = (
        Escalation.objects.filter(**{f"run__{k}": v for k, v in period.items()})
        .annotate(day=TruncDate("run__queued_at"))
        .values("day")
        .annotate(
            open=Count("pk", filter=Q(status=esc.OPEN)),
            approved=Count("pk", filter=approved & Q(edited_output__isnull=True)),
            edited=Count("pk", filter=approved & Q(edited_output__isnull=False)),
            decided_rejected=Count("pk", filter=Q(status=esc.REJECTED)),
            overridden=Count("pk", filter=approved & ~Q(overrides={})),
            # A rejected run stays `escalated`: counted apart from the escalated ones.
            rejected=Count("pk", filter=Q(status=esc.REJECTED, run__state=S.ESCALATED)),
        )
        .order_by()
    )
    return {row.pop("day"): row for row in cast(Iterable[dict[str, Any]], rows)}


def _overall_percentiles(runs: QuerySet[Run], finished: int) -> tuple[float | None, float | None]:
    if db_connection.vendor != "postgresql":
        return percentiles_overall(runs, DURATION, finished)
    if not finished:
        return None, None
    found = runs.aggregate(p50=PercentileCont(DURATION, 0.5), p95=PercentileCont(DURATION, 0.95))
    return _secs(found["p50"]), _secs(found["p95"])


def _days(
    rows: list[dict[str, Any]], decisions: dict[date, dict[str, int]], spread: dict[date, Any]
) -> list[Day]:
    days = []
    for row in rows:  # one per day of the period, not per run
        rejected = decisions.get(row["day"], {}).get("rejected", 0)
        counts = {n: row[n] for n in OUTCOMES if n != "rejected"}
        counts["escalated"] -= rejected
        counts["rejected"] = rejected
        if "p50" in row:
            p50, p95 = _secs(row["p50"]), _secs(row["p95"])
        else:
            p50, p95 = spread.get(row["day"], (None, None))
        days.append(Day(row["day"], {n: counts[n] for n in OUTCOMES}, p50, p95))
    return days


def _checks(runs: dict[str, Any], limit: int) -> tuple[list[CheckFigure], list[CheckFigure]]:
    # Only the blocking steps (a few percent of all steps; partial index runstep_blocking):
    # a run verified again at approval records its checks twice, but never as blocking.
    rows = (
        RunStep.objects.filter(kind="check", status__in=BLOCKING)
        .filter(**{f"run__{lookup}": value for lookup, value in runs.items()})
        .values("name")
        .annotate(
            failing=Count("pk"),
            escalated=Count("pk", filter=Q(run__escalation__isnull=False)),
            conditions=Count("pk", filter=Q(status="escalate")),
        )
        .order_by("-failing", "name")
    )
    figures = [
        CheckFigure(r["name"], r["failing"], r["escalated"], r["conditions"] > 0) for r in rows
    ]
    reasons = sorted((f for f in figures if f.escalated), key=lambda f: (-f.escalated, f.name))
    return reasons[:limit], figures[:limit]


def _queue(scope: dict[str, Any]) -> dict[str, int]:
    counts = Run.objects.filter(**scope, state__in=IN_QUEUE).aggregate(
        **{state.value: Count("pk", filter=Q(state=state)) for state in IN_QUEUE}
    )
    return {name: counts[name] for name in counts}


def _connections(conn: Connection | None) -> list[ConnectionFigure]:
    connections = Connection.objects.prefetch_related("syncs").order_by("slug")
    if conn is not None:
        connections = connections.filter(pk=conn.pk)
    now = timezone.now()
    figures = []
    for c in connections:  # one row per connection: a handful, not per run
        budget = connection_budget(c)
        syncs = [
            SyncLag(
                s.object_type,
                s.finished_at,
                (now - s.finished_at).total_seconds() if s.finished_at else None,
                s.last_error,
            )
            for s in c.syncs.all()
        ]
        figures.append(
            ConnectionFigure(
                c.slug, c.kind, budget.calls_today, budget.limit, budget.remaining, syncs
            )
        )
    return figures


def _secs(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def dashboard_figures(
    sop: Sop | None = None,
    version: SopVersion | int | None = None,
    *,
    since: datetime,
    until: datetime,
    connection: Connection | None = None,
    top: int = 10,
) -> Figures:
    """The figures of the runs created in [since, until) for the SOP, version and connection
    given (None: all); raises FilterError on filters that cannot apply."""
    if since >= until:
        raise FilterError("the period's start must be before its end")
    scope = _scope(sop, version, connection)
    period = {**scope, "queued_at__gte": since, "queued_at__lt": until}
    runs = Run.objects.filter(**period).order_by()
    rows = _run_days(runs)
    decided = _escalation_days(period)
    total = {name: sum(row[name] or 0 for row in rows) for name in TOTALS}
    spread = {} if db_connection.vendor == "postgresql" else percentiles_per_day(runs, DURATION)
    days = _days(rows, decided, spread)
    outcomes = {name: sum(d.counts[name] for d in days) for name in OUTCOMES}
    p50, p95 = _overall_percentiles(runs, total["finished"])
    reasons, failing = _checks(period, top)
    n = total["runs"]
    tokens = total["tokens_in"] + total["tokens_out"] + total["tokens_cache"]

    def decisions(name: str) -> int:
        return sum(day.get(name, 0) for day in decided.values())

    return Figures(
        since=since,
        until=until,
        runs=n,
        outcomes=outcomes,
        in_progress=n - sum(outcomes.values()),
        decisions=Decisions(
            open=decisions("open"),
            approved=decisions("approved"),
            edited=decisions("edited"),
            rejected=decisions("decided_rejected"),
            overridden=decisions("overridden"),
        ),
        reasons=reasons,
        failing_checks=failing,
        cost_per_run=(Decimal(total["cost"]) / n).quantize(Decimal("0.000001")) if n else None,
        tokens_per_run=tokens / n if n else None,
        input_tokens_per_run=total["tokens_in"] / n if n else None,
        output_tokens_per_run=total["tokens_out"] / n if n else None,
        p50=p50,
        p95=p95,
        finished=total["finished"],
        queue=_queue(scope),
        days=days,
        connections=_connections(connection),
    )


@dataclass(frozen=True)
class Comparison:
    """The same figures for two versions of one SOP over the same period."""

    sop: Sop
    v1: SopVersion
    v2: SopVersion
    first: Figures
    second: Figures


def version_compare(
    sop: Sop, v1: SopVersion | int, v2: SopVersion | int, *, since: datetime, until: datetime
) -> Comparison:
    """Figures of versions v1 and v2 of `sop` side by side; FilterError if either is unknown."""
    versions = {}
    for number in (v1, v2):
        if isinstance(number, SopVersion):
            versions[number.number] = number
            continue
        found = SopVersion.objects.filter(sop=sop, number=number).first()
        if found is None:
            raise FilterError(f"{sop.name} has no version {number}")
        versions[found.number] = found
    first = v1 if isinstance(v1, SopVersion) else versions[int(v1)]
    second = v2 if isinstance(v2, SopVersion) else versions[int(v2)]
    return Comparison(
        sop=sop,
        v1=first,
        v2=second,
        first=dashboard_figures(sop, first, since=since, until=until),
        second=dashboard_figures(sop, second, since=since, until=until),
    )
