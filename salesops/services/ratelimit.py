"""One shared rate limiter per connection, across every process and cluster.

The buckets are the ones the connector declares in `capabilities.rate_limits`
(name -> (calls, per seconds)): "burst" and "daily" are charged on every CRM call, "search"
on `read_page` as well (not on a backfill's pages past its first: they list). A call waits
for its tokens (at most SALESOPS_RATE_LIMIT_MAX_WAIT seconds) instead of earning a 429; past
that it raises `RetriableCRMError` with the wait as `retry_after`, and the run's retry policy
re-queues the work (services/run_state.py).

Each bucket is pyrate-limiter's GCRA (a token bucket kept as one timestamp per rate, exact
waits in closed form) in a `StateBucket` whose state is shared:

- in Redis when `REDIS_URL` is set: pyrate-limiter's `RedisStateStore`, one hash per bucket
  updated by an atomic Lua script, expiring on its own;
- in the configured database otherwise: `OrmStateStore` below, one `RateLimitState` row per
  bucket, read and written under a row lock (PostgreSQL) or SQLite's write lock. We do not use
  pyrate-limiter's `SQLiteBucket` or `PostgresBucket`: both keep a log row per call (a daily
  budget of 500,000 calls is 500,000 rows), the SQLite one lives in a file of its own (not the
  configured database, so neither shared between hosts nor right with PostgreSQL), and the
  PostgreSQL one needs `psycopg_pool` and refuses under contention (`LOCK TABLE ... NOWAIT`).
  A row of a few integers in the configured database works on both engines. Called inside an
  outer transaction, the row stays locked until that transaction ends: keep CRM calls out of
  long transactions.

`LimitedConnector` wraps the connector `connection_connector` builds: it takes the tokens,
then records usage on the connection (calls today, the last 429, and the vendor's remaining
daily budget when the connector exposes the optional hook `usage() -> {"daily_limit": int |
None, "daily_remaining": int | None}`, e.g. read from HubSpot's X-HubSpot-RateLimit-Daily
headers). One connector method may make several HTTP calls (a batch read and its
associations): a connector counting them in an optional `calls` attribute is charged for each,
the calls past the first before its next call. A connector with a `limits_gate(take)` hook
takes a token of a narrower bucket ("search") itself before each such call, so the several
searches of one change-feed page are paced one by one; the vendor sees no more than the declared
rate. A connection below SALESOPS_DAILY_BUDGET_RESERVE percent of its daily budget starts
no scheduled work (`connection_schedulable`); `connection_headroom` says where it stands.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from pyrate_limiter import GCRA, Rate, RateItem, RedisStateStore, StateBucket, StateStore
from pyrate_limiter.clocks import WallClock

from connectors.base import (
    Action,
    ActionResult,
    Activity,
    Capabilities,
    CheckReport,
    CrmConnector,
    CrmEvent,
    CrmRecord,
    Page,
    RecordRef,
    RetriableCRMError,
    WebhookRequest,
    WebhookResponse,
)
from salesops.models import Connection, RateLimitState

logger = logging.getLogger(__name__)

EVERY_CALL = ("burst", "daily")  # charged on each CRM call; "search" on change-feed pages


class OrmStateStore(StateStore):
    """pyrate-limiter state in a `RateLimitState` row of the configured database (see the
    module docstring for why not the library's SQLite/PostgreSQL buckets)."""

    is_async = False
    default_clock = WallClock()  # shared between hosts: epoch time, not a monotonic clock

    def __init__(self, key: str) -> None:
        self.key = key

    def check(self, algorithm: Any, rates: Any, now: int, weight: int) -> Any:
        with transaction.atomic():
            row = RateLimitState.objects.select_for_update().filter(key=self.key).first()
            if row is None:
                RateLimitState.objects.bulk_create(
                    [RateLimitState(key=self.key, state=[])], ignore_conflicts=True
                )
                row = RateLimitState.objects.select_for_update().get(key=self.key)
            state = self._state(algorithm, rates, row.state)
            new_state, decision = algorithm.step(rates, state, now, weight)
            if decision.allowed:
                row.state = [int(value) for value in new_state]
                row.save(update_fields=["state", "updated_at"])
            return decision

    def read(self, algorithm: Any, rates: Any) -> Any:
        stored = RateLimitState.objects.filter(key=self.key).values_list("state", flat=True)
        return self._state(algorithm, rates, stored.first() or [])

    def reset(self) -> None:
        RateLimitState.objects.filter(key=self.key).delete()

    @staticmethod
    def _state(algorithm: Any, rates: Any, stored: list[int]) -> Any:
        # A changed declaration (another number of rates) starts the bucket afresh.
        return tuple(stored) if len(stored) == len(rates) else algorithm.initial(rates)


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)  # one pool per process, shared by every bucket


class ConnectionLimiter:
    """The named token buckets of one connection; `take` waits (bounded) for a token."""

    def __init__(self, label: str, buckets: Mapping[str, StateBucket], max_wait: float) -> None:
        self.label = label
        self.buckets = dict(buckets)
        self.max_wait = max_wait

    def take(self, name: str) -> None:
        """Spend one token of bucket `name` (none declared: free), waiting up to `max_wait`
        seconds; raises RetriableCRMError with the remaining wait as `retry_after` past that."""
        bucket = self.buckets.get(name)
        if bucket is None:
            return
        deadline = time.monotonic() + self.max_wait
        while True:
            item = RateItem(name, int(bucket.now()), 1)
            if bucket.put(item) is True:
                return
            wait_ms = bucket.waiting(item)
            assert isinstance(wait_ms, int)  # a synchronous store
            wait = max(wait_ms, 1) / 1000
            if wait_ms < 0 or time.monotonic() + wait > deadline:
                raise RetriableCRMError(
                    f"rate limit: no {name!r} token for {self.label} within {self.max_wait:g} s "
                    "(SALESOPS_RATE_LIMIT_MAX_WAIT)",
                    retry_after=max(wait, 1.0),
                )
            time.sleep(wait)


def limiter_build(
    *,
    label: str,
    rate_limits: Mapping[str, tuple[int, float]],
    backend: str | None = None,
    max_wait: float | None = None,
) -> ConnectionLimiter:
    """A limiter for the declared buckets, shared through Redis ("redis", the default when
    REDIS_URL is set) or the database ("db"); `label` (the connection slug) names the keys."""
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    buckets = {}
    for name, (calls, per_seconds) in rate_limits.items():
        rate = Rate(int(calls), max(1, int(per_seconds * 1000)))
        store: StateStore
        if backend == "redis":
            namespace = settings.Q_CLUSTER["name"]
            store = RedisStateStore(
                _redis(settings.REDIS_URL), key=f"{namespace}:ratelimit:{label}:{name}"
            )
        else:
            store = OrmStateStore(key=f"{label}:{name}")
        buckets[name] = StateBucket([rate], algorithm=GCRA(), store=store)
    if max_wait is None:
        max_wait = settings.SALESOPS["RATE_LIMIT_MAX_WAIT"]
    return ConnectionLimiter(label, buckets, float(max_wait))


def _throttled(exc: BaseException) -> bool:
    """Whether a vendor answered 429 (connectors put the status in the message)."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    return status == 429 or "429" in str(exc)


def connection_usage_record(
    connection_id: int, *, calls: int = 1, throttled: bool = False, usage: Mapping | None = None
) -> None:
    """Count CRM calls for today, note a 429, store the vendor's daily budget; one UPDATE,
    which leaves `updated_at` (and so the cached connector) alone."""
    now = timezone.now()
    today = now.date()
    fields: dict[str, Any] = {
        "calls_date": today,
        "calls_today": Case(
            When(calls_date=today, then=F("calls_today") + calls), default=Value(calls)
        ),
        # Yesterday's remaining budget says nothing about today's.
        "daily_remaining": Case(
            When(calls_date=today, then=F("daily_remaining")), default=Value(None)
        ),
    }
    if throttled:
        fields["last_429_at"] = now
    for name in ("daily_limit", "daily_remaining"):
        value = (usage or {}).get(name)
        if value is not None:
            fields[name] = max(int(value), 0)
    Connection.objects.filter(pk=connection_id).update(**fields)


class LimitedConnector:
    """A connector whose CRM calls take their connection's tokens first and are counted."""

    def __init__(self, inner: CrmConnector, *, limiter: ConnectionLimiter, connection_id: int):
        self.inner = inner
        self.limiter = limiter
        self.connection_id = connection_id
        self.kind: str = inner.kind
        self.capabilities: Capabilities = inner.capabilities
        self._owed = 0  # tokens of HTTP calls made past the first of a method, not yet taken
        # Until when the vendor's spent daily budget stops calls (see `_budget_left`).
        self._spent_until: datetime | None = None
        # Until when the vendor's own daily-limit refusal (Salesforce's REQUEST_LIMIT_EXCEEDED,
        # an error with `limit_exceeded`) stops calls: its retry_after.
        self._refused_until: datetime | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        gate = getattr(inner, "limits_gate", None)
        # The connector takes its search tokens itself, one before each search it makes.
        self._gated = callable(gate)
        if callable(gate):
            gate(self.limiter.take)

    def _call(self, buckets: Sequence[str], call: Callable[[], Any]) -> Any:
        self._budget_left()
        for _ in range(self._owed):
            for name in EVERY_CALL:
                self.limiter.take(name)
            self._owed -= 1
        for name in buckets:
            self.limiter.take(name)
        before = self._http_calls()
        try:
            result = call()
        except RetriableCRMError as exc:
            if getattr(exc, "limit_exceeded", False):
                wait = exc.retry_after if exc.retry_after is not None else 3600.0
                self._refused_until = self.clock() + timedelta(seconds=wait)
            connection_usage_record(
                self.connection_id,
                calls=self._made(before),
                throttled=_throttled(exc),
                usage=self._usage(),
            )
            raise
        except Exception:
            connection_usage_record(
                self.connection_id, calls=self._made(before), usage=self._usage()
            )
            raise
        throttled = isinstance(result, list) and any(
            isinstance(r, ActionResult) and r.retriable and _throttled(Exception(r.error))
            for r in result
        )
        connection_usage_record(
            self.connection_id, calls=self._made(before), throttled=throttled, usage=self._usage()
        )
        return result

    def _http_calls(self) -> int | None:
        calls = getattr(self.inner, "calls", None)
        return calls if isinstance(calls, int) else None

    def _made(self, before: int | None) -> int:
        """HTTP calls the last method made (1 when the connector does not count them); the
        ones past the first are owed to the buckets."""
        after = self._http_calls()
        made = 1 if before is None or after is None else max(after - before, 1)
        self._owed += made - 1
        return made

    def _usage(self) -> Mapping | None:
        hook = getattr(self.inner, "usage", None)
        return hook() if callable(hook) else None

    def _budget_left(self) -> None:
        """The vendor said its daily budget is spent: no call until the next UTC midnight
        (HubSpot's day; Salesforce's 24 hours roll, so by then some budget is back). Past
        it, one call goes and its answer's headers say again how much is left."""
        now = self.clock()
        if self._refused_until is not None and now < self._refused_until:
            raise RetriableCRMError(
                f"rate limit: {self.limiter.label} refused for its daily limit",
                retry_after=(self._refused_until - now).total_seconds(),
            )
        usage = self._usage() or {}
        if usage.get("daily_remaining") != 0:
            self._spent_until = None
            return
        if self._spent_until is None:
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            self._spent_until = midnight
        if now < self._spent_until:
            raise RetriableCRMError(
                f"rate limit: the daily CRM budget of {self.limiter.label} is spent",
                retry_after=(self._spent_until - now).total_seconds(),
            )
        self._spent_until = None  # the reset has passed: this call refreshes the headers

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        # A backfill pages through list endpoints (capabilities.backfill): past its first page
        # (which may search for where the change feed starts) it spends no search token.
        searches = not (backfill and cursor) and not self._gated
        buckets = (*EVERY_CALL, "search") if searches else EVERY_CALL
        return self._call(
            buckets, lambda: self.inner.read_page(object_type, cursor, backfill=backfill)
        )

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        return self._call(EVERY_CALL, lambda: self.inner.get_many(object_type, ids))

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        return self._call(EVERY_CALL, lambda: self.inner.activities(ref, limit=limit))

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        return self._call(EVERY_CALL, lambda: self.inner.apply(actions))

    def check(self, *, provision: bool = False) -> CheckReport:
        return self._call(EVERY_CALL, lambda: self.inner.check(provision=provision))

    # Webhooks are checked and parsed here, without a CRM call: no token.
    def verify_webhook(self, request: WebhookRequest) -> bool:
        return self.inner.verify_webhook(request)

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        return self.inner.parse_webhook(request)

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        return self.inner.webhook_response(events, error)

    def __getattr__(self, name: str) -> Any:  # connector extras (webhook_refusal, usage, ...)
        return getattr(self.inner, name)


def connector_limited(connection: Connection, connector: CrmConnector) -> CrmConnector:
    """`connector` behind its connection's shared limiter and usage counters; a connector with
    no network between us and its CRM (the local one) and no declared limits is left as is."""
    rate_limits = dict(connector.capabilities.rate_limits or {})
    networked = connector.capabilities.transport or callable(getattr(connector, "usage", None))
    if not rate_limits and not networked:
        return connector
    limiter = limiter_build(label=connection.slug, rate_limits=rate_limits)
    return LimitedConnector(connector, limiter=limiter, connection_id=connection.pk)


# -- daily budget ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """A connection's daily CRM budget today, as reported by the vendor or counted by us."""

    calls_today: int
    limit: int | None
    remaining: int | None

    @property
    def percent_left(self) -> float | None:
        if not self.limit or self.remaining is None:
            return None
        return 100.0 * self.remaining / self.limit


def _declared_daily(connection: Connection) -> int | None:
    from salesops.services.connections import connection_connector  # it imports us

    try:
        limits = connection_connector(connection).capabilities.rate_limits
    except Exception:  # a connection that cannot build its connector has no known budget
        logger.warning("connection %s: connector unavailable", connection.slug, exc_info=True)
        return None
    daily = (limits or {}).get("daily")
    return int(daily[0]) if daily else None


def connection_budget(connection: Connection) -> Budget:
    """Today's calls, daily limit and what is left (the vendor's figure when it reported one
    today, else the declared daily bucket minus today's calls)."""
    today = timezone.now().date()
    fresh = connection.calls_date == today
    calls = connection.calls_today if fresh else 0
    limit = connection.daily_limit or _declared_daily(connection)
    if fresh and connection.daily_remaining is not None:
        remaining: int | None = connection.daily_remaining
    else:
        remaining = max(limit - calls, 0) if limit else None
    return Budget(calls_today=calls, limit=limit, remaining=remaining)


def connection_budget_low(connection: Connection) -> str | None:
    """Why scheduled work should wait (less than SALESOPS_DAILY_BUDGET_RESERVE percent of the
    daily budget left), or None."""
    budget = connection_budget(connection)
    reserve = settings.SALESOPS["DAILY_BUDGET_RESERVE"]
    left = budget.percent_left
    if left is None or left >= reserve:
        return None
    return (
        f"{budget.remaining:,} of {budget.limit:,} daily CRM calls left ({left:.1f}% < "
        f"{reserve}%, SALESOPS_DAILY_BUDGET_RESERVE): scheduled work paused until it resets"
    )


def connection_schedulable(connection: Connection) -> bool:
    """False, logging why, when the connection is too near its daily budget for scheduled
    work (events, approvals and manual runs still go through)."""
    reason = connection_budget_low(connection)
    if reason is None:
        return True
    logger.warning("connection %s: %s", connection.slug, reason)
    return False


def connection_headroom(connection: Connection) -> str:
    """One line for the admin: today's calls, the daily budget left, the last 429."""
    budget = connection_budget(connection)
    parts = [f"{budget.calls_today:,} calls today"]
    if budget.percent_left is not None:
        parts.append(
            f"{budget.remaining:,} of {budget.limit:,} daily calls left "
            f"({budget.percent_left:.1f}%)"
        )
    else:
        parts.append("no daily budget declared or reported")
    low = connection_budget_low(connection)
    if low:
        parts.append("scheduled work paused")
    if connection.last_429_at:
        parts.append(f"last 429 at {connection.last_429_at:%Y-%m-%d %H:%M} UTC")
    return "; ".join(parts)
