"""The shared rate limiter: a call past the bucket waits (bounded), every limiter of a
connection (another instance, another process) spends the same bucket, in the database or
in Redis; the proxy counts usage, and a connection near its daily budget schedules nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import RecordRef, RetriableCRMError
from salesops.models import Connection, Run
from salesops.services.connections import connection_connector, connection_local
from salesops.services.ratelimit import (
    LimitedConnector,
    connection_budget_low,
    connection_headroom,
    limiter_build,
)
from salesops.services.schedules import schedule_tick
from salesops.services.workers import worker_env
from tests.conftest import require_service
from tests.helpers import mirror_sync
from tests.retries.stormy_crm import StormyConnector, too_many

REDIS_FALLBACK = "redis://127.0.0.1:6379/0"  # CI starts Redis for both of its passes


def label() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"  # a bucket no other test (or earlier run) touched


def timed(take) -> float:
    start = time.monotonic()
    take()
    return time.monotonic() - start


def three_then_wait(backend: str) -> None:
    # Waits of half a second against "quick" under 0.3 s: a loaded CI machine stays apart.
    limiter = limiter_build(label=label(), rate_limits={"burst": (3, 1.5)}, backend=backend)
    limiter.max_wait = 5.0
    quick = [timed(lambda: limiter.take("burst")) for _ in range(3)]
    assert max(quick) < 0.3, quick
    # The fourth waits for the bucket to refill one token (1.5 s / 3), then goes through.
    assert 0.4 <= timed(lambda: limiter.take("burst")) < 3.0


def shared_between_instances(backend: str) -> None:
    name = label()
    first = limiter_build(label=name, rate_limits={"burst": (3, 60)}, backend=backend)
    second = limiter_build(label=name, rate_limits={"burst": (3, 60)}, backend=backend, max_wait=0)
    for _ in range(3):
        first.take("burst")
    with pytest.raises(RetriableCRMError) as refused:
        second.take("burst")
    assert "rate limit" in str(refused.value) and refused.value.retry_after >= 1
    other = limiter_build(label=label(), rate_limits={"burst": (3, 60)}, backend=backend)
    other.take("burst")  # another connection's bucket is its own


@pytest.mark.django_db
def test_the_n_plus_first_call_in_a_window_waits_in_the_database():
    three_then_wait("db")


@pytest.mark.django_db
def test_a_bounded_wait_ends_in_a_retriable_error_with_retry_after():
    limiter = limiter_build(label=label(), rate_limits={"burst": (1, 30)}, backend="db", max_wait=0)
    limiter.take("burst")
    with pytest.raises(RetriableCRMError) as refused:
        limiter.take("burst")
    assert 25 <= refused.value.retry_after <= 30


@pytest.mark.django_db
def test_two_limiters_on_one_database_share_the_bucket():
    shared_between_instances("db")


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_bucket_in_the_database():
    name = label()
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from salesops.services.ratelimit import limiter_build
        limiter = limiter_build(label={name!r}, rate_limits={{"burst": (3, 60)}}, backend="db")
        for _ in range(3):
            limiter.take("burst")
        """
    )
    env = {**worker_env(), "DJANGO_SETTINGS_MODULE": "salesops.settings"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    here = limiter_build(label=name, rate_limits={"burst": (3, 60)}, backend="db", max_wait=0)
    with pytest.raises(RetriableCRMError):
        here.take("burst")


@pytest.fixture
def redis_url(settings):
    import redis

    url = settings.REDIS_URL or os.environ.get("SALESOPS_TEST_REDIS_URL", REDIS_FALLBACK)
    try:
        reachable = redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # any failure means unreachable here
        reachable = False
    require_service("Redis", bool(reachable))
    settings.REDIS_URL = url
    return url


def test_the_n_plus_first_call_in_a_window_waits_in_redis(redis_url):
    three_then_wait("redis")


def test_two_limiters_on_one_redis_share_the_bucket(redis_url):
    shared_between_instances("redis")


# -- the connector proxy -----------------------------------------------------------------------


@pytest.fixture
def limited_crm(stormy_crm, sample_crm):
    stormy_crm.rate_limits = {"burst": (2, 1.0), "search": (1, 1.0)}
    yield stormy_crm
    stormy_crm.rate_limits = {"burst": (10_000, 1.0)}


def test_crm_calls_take_tokens_and_are_counted(limited_crm):
    connection = connection_local()
    connector = connection_connector(connection)
    assert isinstance(connector, LimitedConnector)
    ref = RecordRef("contact", "c-001")
    quick = [timed(lambda: connector.get_many("contact", [ref.id])) for _ in range(2)]
    assert max(quick) < 0.3
    assert timed(lambda: connector.get_many("contact", [ref.id])) >= 0.4  # 1 token per 0.5 s
    # read_page also spends a "search" token: one per second.
    connector.read_page("contact", None)
    assert timed(lambda: connector.read_page("contact", None)) >= 0.8
    connection.refresh_from_db()
    assert connection.calls_today == 5 and connection.calls_date == datetime.now(UTC).date()
    assert connection.last_429_at is None

    StormyConnector.faults = {"get_many": [too_many()]}
    with pytest.raises(RetriableCRMError):
        connector.get_many("contact", [ref.id])
    connection.refresh_from_db()
    assert connection.last_429_at is not None and connection.calls_today == 6


def test_the_vendors_daily_budget_is_stored_and_a_spent_one_stops_calls(limited_crm):
    connection = connection_local()
    connector = connection_connector(connection)
    StormyConnector.reported = {"daily_limit": 1000, "daily_remaining": 50}
    connector.get_many("contact", ["c-001"])
    connection.refresh_from_db()
    assert (connection.daily_limit, connection.daily_remaining) == (1000, 50)
    assert "50 of 1,000" in (connection_budget_low(connection) or "")
    headroom = connection_headroom(connection)
    assert "1 calls today" in headroom and "(5.0%)" in headroom
    assert "scheduled work paused" in headroom

    StormyConnector.reported = {"daily_limit": 1000, "daily_remaining": 0}
    calls = StormyConnector.calls["get_many"]
    with pytest.raises(RetriableCRMError) as refused:
        connector.get_many("contact", ["c-001"])
    assert StormyConnector.calls["get_many"] == calls  # the CRM was not called
    assert 0 < refused.value.retry_after <= 86_400

    # Past the next midnight (UTC) one call goes, though the last headers still said 0: its
    # answer says how much is left now, and a budget still spent stops the next call again.
    tomorrow = datetime.now(UTC) + timedelta(seconds=refused.value.retry_after + 1)
    connector.clock = lambda: tomorrow  # type: ignore[attr-defined]
    connector.get_many("contact", ["c-001"])
    assert StormyConnector.calls["get_many"] == calls + 1
    with pytest.raises(RetriableCRMError):
        connector.get_many("contact", ["c-001"])
    assert StormyConnector.calls["get_many"] == calls + 1


MONDAY_0601 = datetime(2026, 11, 23, 6, 1, tzinfo=UTC)  # deal-review's slot


@pytest.mark.django_db
def test_a_connection_near_its_daily_budget_starts_no_scheduled_runs(
    library, sample_crm, settings, caplog
):
    mirror_sync()
    connection = connection_local()
    Connection.objects.filter(pk=connection.pk).update(
        calls_date=datetime.now(UTC).date(), daily_limit=10_000, daily_remaining=500
    )
    assert schedule_tick(now=MONDAY_0601) == 0
    assert not Run.objects.filter(trigger="schedule").exists()
    assert "scheduled work paused" in caplog.text

    Connection.objects.filter(pk=connection.pk).update(daily_remaining=5_000)
    assert schedule_tick(now=MONDAY_0601) > 0
