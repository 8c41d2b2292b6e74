"""Streaming selection and run creation in chunks (issue 13): the same runs as one big batch,
created and enqueued CHUNK at a time, idempotent, the where compiled before anything starts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from salesops.models import CrmRecordMirror, Run
from salesops.services import selection
from salesops.services.batches import records_select, records_select_iter, runs_start, sop_get
from salesops.services.connections import connection_default
from salesops.services.schedules import schedule_tick
from salesops.specs.model import ExpressionError
from tests.helpers import mirror_sync

pytestmark = pytest.mark.django_db

LEADS = "record.lifecycle_stage == 'lead'"
# A Tuesday, one minute after lead-qualification's weekday 07:00 slot; no other SOP is due.
TUESDAY_0701 = datetime(2026, 11, 24, 7, 1, tzinfo=UTC)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3, so the sample CRM's selections span many of them."""
    monkeypatch.setattr(selection, "CHUNK", 3)
    return 3


def _leads() -> list[str]:
    mirrors = CrmRecordMirror.objects.filter(
        connection=connection_default(), object_type="contact", deleted_at__isnull=True
    )
    return sorted(m.record_id for m in mirrors if m.properties.get("lifecycle_stage") == "lead")


def _enqueued(callbacks) -> list[list[int]]:
    """The run ids of each on-commit enqueue (one list per chunk)."""
    return [list(cb.args[0]) for cb in callbacks]


def test_a_streamed_selection_is_the_listed_one_in_id_order(library, sample_crm, small_chunks):
    sop = sop_get(name="lead-qualification")
    streamed = list(records_select_iter(sop=sop, where=LEADS))
    assert streamed == records_select(sop=sop, where=LEADS) == _leads()
    assert 3 < len(streamed) < 50  # a real filter, over more than one chunk
    assert list(records_select_iter(sop=sop)) == sorted(
        CrmRecordMirror.objects.filter(object_type="contact").values_list("record_id", flat=True)
    )


def test_a_bad_where_fails_before_any_record_is_read(library, sample_crm):
    sop = sop_get(name="lead-qualification")
    with pytest.raises(ExpressionError, match="emploees"):
        records_select_iter(sop=sop, where="record.emploees > 3")  # not even iterated


def test_runs_are_created_and_enqueued_a_chunk_at_a_time(
    library, sample_crm, small_chunks, django_capture_on_commit_callbacks
):
    sop = sop_get(name="lead-qualification")
    leads = records_select(sop=sop, where=LEADS)
    with CaptureQueriesContext(db) as queries, django_capture_on_commit_callbacks() as callbacks:
        runs, new = runs_start(sop=sop, record_ids=iter(leads), batch="chunks")
    assert [r.record_id for r in runs] == leads and new == len(leads)
    table = Run._meta.db_table
    inserts = [
        q for q in queries if q["sql"].startswith("INSERT") and f'INTO "{table}"' in q["sql"]
    ]
    assert len(inserts) == -(-len(leads) // 3)  # one insert per chunk
    chunks = _enqueued(callbacks)
    assert [len(c) for c in chunks[:-1]] == [3] * (len(chunks) - 1) and len(chunks[-1]) <= 3
    assert sorted(pk for c in chunks for pk in c) == sorted(r.pk for r in runs)


def test_starting_the_same_batch_again_creates_and_enqueues_nothing(
    library, sample_crm, small_chunks, django_capture_on_commit_callbacks
):
    sop = sop_get(name="lead-qualification")
    leads = records_select(sop=sop, where=LEADS)
    first, _ = runs_start(sop=sop, record_ids=leads, batch="again")
    # Half already there: only the new half is created and enqueued.
    more = sorted(set(records_select(sop=sop)) - set(leads))[:4]
    with django_capture_on_commit_callbacks() as callbacks:
        again, new = runs_start(sop=sop, record_ids=leads + more, batch="again")
    assert [r.pk for r in again[: len(leads)]] == [r.pk for r in first]
    assert new == 4
    assert sorted(pk for c in _enqueued(callbacks) for pk in c) == [r.pk for r in again[-4:]]
    assert Run.objects.count() == len(leads) + 4


def test_the_tick_starts_every_selected_lead_in_chunks_once_per_slot(
    library, sample_crm, small_chunks, django_capture_on_commit_callbacks
):
    mirror_sync()
    with django_capture_on_commit_callbacks() as callbacks:
        started = schedule_tick(now=TUESDAY_0701)
    runs = Run.objects.filter(trigger=Run.Trigger.SCHEDULE)
    assert started == runs.count() == len(_leads())
    assert sorted(runs.values_list("record_id", flat=True)) == _leads()
    chunks = _enqueued(callbacks)
    assert max(len(c) for c in chunks) == 3
    assert sorted(pk for c in chunks for pk in c) == sorted(runs.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks() as callbacks:
        assert schedule_tick(now=TUESDAY_0701) == 0
    assert not callbacks


@pytest.mark.django_db(transaction=True)  # the connection is really closed mid-selection
def test_a_selection_survives_its_connection_closing_between_chunks(
    library, sample_crm, small_chunks
):
    # django-q2's ORM broker closes a connection older than CONN_MAX_AGE when it enqueues,
    # which a selection's consumer does between chunks.
    sop = sop_get(name="lead-qualification")
    streamed = records_select_iter(sop=sop, where=LEADS)
    first = [next(streamed) for _ in range(4)]
    db.close()
    assert first + list(streamed) == _leads()
