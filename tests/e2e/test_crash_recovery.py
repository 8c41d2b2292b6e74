"""Chaos: a real cluster killed with SIGKILL mid-batch and restarted loses no run, writes
nothing twice, leaves nothing `running` or `writing`, and moves again within a minute."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.utils import timezone

from connectors.local import models as crm
from salesops.models import Run, WriteBack
from salesops.selectors import runs_pending
from salesops.services.batches import records_select, runs_start, sop_get
from salesops.services.sops import sop_library_load
from salesops.services.sweeper import runs_sweep
from salesops.services.workers import worker_stop
from tests.e2e.chaos import cluster_kill, cluster_start

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]

RUNS = 60
LEASE = 4  # seconds: the task timeout, so a run's claim lapses quickly after the kill
SHORT = {"SALESOPS_TASK_TIMEOUT": str(LEASE), "SALESOPS_REQUEUE_AFTER": "2"}


@pytest.fixture
def short_timeouts(settings):
    # This process sweeps (as the schedule would), with the cluster's short timeouts.
    settings.SALESOPS = {**settings.SALESOPS, "RUN_TIMEOUT": LEASE, "REQUEUE_AFTER": 2}


def wait_until(predicate, *, timeout: float, sweep: bool = False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if sweep:
            runs_sweep()
        time.sleep(0.5)
    return predicate()


def test_a_cluster_killed_mid_batch_loses_nothing_and_writes_nothing_twice(
    transactional_db, sample_crm, short_timeouts
):
    assert not sop_library_load().issues
    sop = sop_get(name="lead-qualification")
    contacts = records_select(sop=sop)
    ids = []
    for batch in ("a", "b"):
        runs, _ = runs_start(sop=sop, record_ids=contacts[: RUNS // 2], batch=f"chaos-{batch}")
        ids += [r.pk for r in runs]
    assert len(ids) == RUNS
    done = lambda: RUNS - runs_pending(ids)  # noqa: E731

    cluster = cluster_start(**SHORT)
    try:
        assert wait_until(lambda: done() >= 5, timeout=30), "the cluster ran nothing"
    finally:
        cluster_kill(cluster)
    at_kill = done()
    assert at_kill < RUNS, "the kill came after the batch: nothing to recover"

    restarted_at, clock = timezone.now(), time.monotonic()
    cluster = cluster_start(**SHORT)
    try:
        moved = wait_until(
            lambda: Run.objects.filter(pk__in=ids, finished_at__gt=restarted_at).exists(),
            timeout=60,
            sweep=True,
        )
        moved_after = time.monotonic() - clock
        assert moved and moved_after < 60, f"the backlog did not move for {moved_after:.0f} s"
        assert wait_until(lambda: done() == RUNS, timeout=40, sweep=True), Counter(
            Run.objects.filter(pk__in=ids).values_list("state", flat=True)
        )
    finally:
        worker_stop(cluster)

    states = Counter(Run.objects.filter(pk__in=ids).values_list("state", flat=True))
    assert set(states) <= {"written", "escalated"}, states  # none lost, failed or stuck
    writes = WriteBack.objects.filter(run_id__in=ids)
    assert writes.exists()
    per_run = Counter(writes.values_list("run_id", "idempotency_key"))
    assert max(per_run.values()) == 1, "a write was recorded twice"
    # Two runs on one record with the same note share its key: the CRM holds it once.
    note_keys = set(writes.filter(kind="note").values_list("idempotency_key", flat=True))
    notes = Counter(
        crm.Note.objects.filter(idempotency_key__in=note_keys).values_list(
            "idempotency_key", flat=True
        )
    )
    assert set(notes) == note_keys and set(notes.values()) == {1}, "a note was written twice"
    assert states["written"] == len({run for run, _ in per_run})
