"""The tick with Message Batches on: a slot's runs, created over many chunks, still go out as
one batch, and a run a dead tick left queued and unsent is picked up again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from salesops.models import AgentBatch, Run
from salesops.services import selection
from salesops.services.schedules import schedule_tick
from tests.agent_batches.conftest import claude, emulator, lead_spec  # noqa: F401 (fixtures)
from tests.helpers import mirror_sync

pytestmark = pytest.mark.django_db

TICK = datetime(2026, 3, 3, 7, 5, tzinfo=UTC)  # a Tuesday, lead-qualification's slot


@pytest.fixture
def batching(settings, claude, monkeypatch):  # noqa: F811 (the imported fixture)
    settings.SALESOPS = {**settings.SALESOPS, "BATCH_SCHEDULED_RUNS": True, "BATCH_MIN_RUNS": 5}
    monkeypatch.setattr(selection, "CHUNK", 3)
    return claude


def test_a_slot_over_many_chunks_goes_out_as_one_batch(batching, library, sample_crm):
    mirror_sync()
    started = schedule_tick(now=TICK)
    runs = Run.objects.filter(trigger=Run.Trigger.SCHEDULE)
    assert started == runs.count() > 3 * 2  # more than two chunks
    (batch,) = AgentBatch.objects.all()
    assert batch.items.count() == started


def test_queued_runs_a_dead_tick_never_sent_are_sent_by_the_next(
    batching, library, sample_crm, monkeypatch
):
    mirror_sync()
    monkeypatch.setattr("salesops.services.agent_batches.runs_dispatch", lambda runs: [])
    first = schedule_tick(now=TICK)  # created, then "died" before dispatch
    assert not AgentBatch.objects.exists()
    monkeypatch.undo()
    monkeypatch.setattr(selection, "CHUNK", 3)
    assert schedule_tick(now=TICK) == 0  # nothing new in the slot...
    (batch,) = AgentBatch.objects.all()
    assert batch.items.count() == first  # ...but every unsent run goes out
