"""A hand-built set of runs with known figures, and a bulk builder for query-count tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from salesops.models import Connection, Escalation, Run, RunStep, Sop, SopVersion, SyncState


@dataclass
class World:
    """The objects the hand-built runs belong to, and the period that holds them."""

    sop: Sop
    v1: SopVersion
    v2: SopVersion
    other: Sop
    connection: Connection
    since: datetime
    until: datetime
    day1: datetime
    day2: datetime


def sop_make(name: str) -> tuple[Sop, SopVersion, SopVersion]:
    sop = Sop.objects.create(name=name, title=name.title(), object_type="contact")
    v1 = SopVersion.objects.create(sop=sop, number=1, text="v1", content_hash=f"{name}1")
    v2 = SopVersion.objects.create(sop=sop, number=2, text="v2", content_hash=f"{name}2")
    return sop, v1, v2


def run_make(
    world: World,
    state: str,
    *,
    at: datetime,
    seconds: float | None,
    version: SopVersion | None = None,
    shadow: bool = False,
    checks: dict[str, str] | None = None,
    escalation: dict | None = None,
    key: str = "",
) -> Run:
    """One run created `at`, finished `seconds` later (None: not finished), with check steps."""
    version = version or world.v1
    run = Run.objects.create(
        sop=version.sop,
        sop_version=version,
        connection=world.connection,
        object_type="contact",
        record_id=f"c-{Run.objects.count() + 1:03d}",
        trigger="manual",
        idempotency_key=key or f"k-{Run.objects.count()}-{at.timestamp()}",
        shadow=shadow,
        state=state,
        input_tokens=100,
        output_tokens=50,
        cost_usd=Decimal("0.02"),
    )
    finished = at + timedelta(seconds=seconds) if seconds is not None else None
    Run.objects.filter(pk=run.pk).update(queued_at=at, finished_at=finished)
    for seq, (name, status) in enumerate((checks or {}).items(), start=1):
        RunStep.objects.create(run=run, seq=seq, kind="check", name=name, status=status)
    if escalation is not None:
        Escalation.objects.create(run=run, reason="needs review", **escalation)
    run.refresh_from_db()
    return run


@pytest.fixture
def world(db) -> World:
    sop, v1, v2 = sop_make("lead-qualification")
    other, _, _ = sop_make("deal-risk")
    connection, _ = Connection.objects.get_or_create(slug="local", defaults={"kind": "local"})
    now = timezone.now()
    return World(
        sop=sop,
        v1=v1,
        v2=v2,
        other=other,
        connection=connection,
        since=now - timedelta(days=7),
        until=now + timedelta(minutes=1),
        day1=(now - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0),
        day2=(now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0),
    )


OK = {"score-in-range": "ok", "budget-over-100k": "ok"}


@pytest.fixture
def hand_built(world: World) -> World:
    """Ten runs of v1 in the period (figures worked out in test_figures.py) plus decoys."""
    approved = {"status": Escalation.Status.APPROVED}
    for i, secs in enumerate((10, 20, 30, 40)):  # day 1: written
        esc = approved if i == 3 else None  # the fourth was approved as is
        run_make(world, Run.State.WRITTEN, at=world.day1, seconds=secs, checks=OK, escalation=esc)
    d2 = world.day2
    run_make(
        world,
        "escalated",
        at=d2,
        seconds=50,
        checks={**OK, "budget-over-100k": "escalate"},
        escalation={},
    )
    run_make(
        world,
        "escalated",
        at=d2,
        seconds=60,
        checks={**OK, "score-in-range": "failed"},
        escalation={"status": Escalation.Status.REJECTED},
    )
    run_make(
        world,
        "written",
        at=d2,
        seconds=70,
        checks={**OK, "score-in-range": "failed"},
        escalation={
            "status": Escalation.Status.APPROVED,
            "edited_output": {"score": 50},
            "overrides": {"score-in-range": "checked by hand"},
        },
    )
    run_make(world, "failed", at=d2, seconds=80)
    run_make(world, "skipped", at=d2, seconds=90)
    run_make(world, "queued", at=d2, seconds=None)
    # Decoys: a shadow run, a run before the period (still retrying: in the queue now),
    # a run of v2 and one of another SOP.
    run_make(world, "written", at=d2, seconds=5, shadow=True)
    run_make(world, "retrying", at=world.since - timedelta(days=1), seconds=None)
    run_make(world, "failed", at=d2, seconds=1, version=world.v2)
    other_v1 = world.other.versions.get(number=1)
    run_make(world, "skipped", at=d2, seconds=1, version=other_v1)
    conn = world.connection
    Connection.objects.filter(pk=conn.pk).update(
        calls_date=timezone.now().date(), calls_today=40, daily_limit=1000, daily_remaining=960
    )
    SyncState.objects.create(
        connection=conn, object_type="contact", finished_at=timezone.now() - timedelta(minutes=2)
    )
    return world


def runs_bulk(world: World, n: int) -> None:
    """n runs with check steps and escalations in a few inserts (for query-count tests)."""
    states = ["written", "escalated", "failed", "skipped", "queued"]
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            sop=world.sop,
            sop_version=world.v1,
            connection=world.connection,
            object_type="contact",
            record_id=f"b-{i}",
            trigger="schedule",
            idempotency_key=f"bulk-{n}-{i}",
            state=states[i % len(states)],
            finished_at=now + timedelta(seconds=i),
        )
        for i in range(n)
    )
    RunStep.objects.bulk_create(
        RunStep(run=r, seq=1, kind="check", name=f"check-{i % 7}", status="failed")
        for i, r in enumerate(runs)
    )
    Escalation.objects.bulk_create(
        Escalation(run=r, reason="x", status="rejected" if i % 2 else "approved")
        for i, r in enumerate(runs)
        if r.state == "escalated"
    )
