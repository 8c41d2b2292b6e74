"""run_sop over a streamed selection: queued a chunk at a time, waited on and listed in
record order; the chunked wait reports progress and gives up at its timeout."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from salesops.models import Run
from salesops.services import selection
from salesops.services.batches import records_select, runs_start, runs_wait_ids, sop_get

pytestmark = pytest.mark.django_db

LEADS = "record.lifecycle_stage == 'lead'"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(selection, "CHUNK", 3)
    monkeypatch.setattr("salesops.services.batches.CHUNK", 3)


@pytest.mark.django_db(transaction=True)  # each chunk is enqueued when its commit happens
def test_a_queued_selection_runs_every_record_and_lists_them_in_order(
    library, sample_crm, small_chunks, sync_queue, capsys
):
    call_command("run_sop", "lead-qualification", "--where", LEADS, "--dry-run", "--timeout", "60")
    leads = records_select(sop=sop_get(name="lead-qualification"), where=LEADS)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [f"contact:{rid}" for rid in leads]
    runs = Run.objects.filter(trigger=Run.Trigger.MANUAL)
    assert runs.count() == len(leads) > 3
    assert set(runs.values_list("state", flat=True)) <= {*Run.TERMINAL, Run.State.VERIFIED}
    assert all(run.shadow for run in runs)


def test_a_selection_of_nothing_starts_nothing(library, sample_crm, capsys):
    call_command("run_sop", "lead-qualification", "--where", "record.email == 'nobody'")
    assert "no records selected" in capsys.readouterr().out
    assert not Run.objects.exists()


def test_without_a_worker_the_wait_gives_up_and_says_so(library, sample_crm):
    with pytest.raises(CommandError, match="still pending"):
        call_command("run_sop", "lead-qualification", "--where", LEADS, "--timeout", "0")
    assert Run.objects.filter(state=Run.State.QUEUED).count() > 3


def test_the_chunked_wait_counts_final_runs_across_chunks(library, sample_crm, small_chunks):
    sop = sop_get(name="lead-qualification")
    runs, _ = runs_start(sop=sop, record_ids=records_select(sop=sop)[:7], enqueue=False)
    ids = [run.pk for run in runs]
    seen: list[int] = []
    assert not runs_wait_ids(ids, timeout=0, on_progress=seen.append)
    assert seen == [0]
    Run.objects.filter(pk__in=ids[:5]).update(state=Run.State.WRITTEN)
    assert not runs_wait_ids(ids, timeout=0, on_progress=seen.append)
    assert seen == [0, 5]
    Run.objects.filter(pk__in=ids).update(state=Run.State.FAILED)
    assert runs_wait_ids(ids, timeout=0, on_progress=seen.append)
    assert seen == [0, 5, 7]
