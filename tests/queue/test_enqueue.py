"""Bulk enqueue of runs (tasks_enqueue.runs_enqueue) and result storage for run tasks."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.brokers import get_broker
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

from salesops.models import Run
from salesops.selectors import runs_wait
from salesops.services.batches import records_select, runs_start, sop_get
from salesops.tasks_enqueue import PUSH_CHUNK, RUN_TASK, queue_broker, runs_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """The configured run queue, emptied before and after (Redis lists outlive test DBs)."""
    broker = queue_broker(settings.SALESOPS["RUN_CLUSTER"] or None)
    broker.purge_queue()
    yield broker
    broker.purge_queue()


def _waiting(broker) -> list[dict]:
    if settings.REDIS_URL:
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    else:
        rows = OrmQ.objects.filter(key=broker.list_key).order_by("id")
        payloads = list(rows.values_list("payload", flat=True))
    return [SignedPackage.loads(p) for p in payloads]


def test_runs_enqueue_puts_one_unsaved_task_per_run_in_order(queue):
    ids = list(range(10_001, 10_001 + PUSH_CHUNK * 2 + 7))
    runs_enqueue(ids, sop_id=42)
    tasks = _waiting(queue)
    assert [t["args"] for t in tasks] == [(i,) for i in ids]
    assert {t["func"] for t in tasks} == {RUN_TASK}
    assert [t["name"] for t in tasks[:2]] == ["run-10001", "run-10002"]
    assert {t["group"] for t in tasks} == {"sop:42"}
    assert {t["save"] for t in tasks} == {False}
    assert len({t["id"] for t in tasks}) == len(ids)


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="counts ORM broker inserts")
def test_the_orm_broker_gets_bulk_inserts(queue):
    ids = list(range(1, PUSH_CHUNK * 3 + 1))
    with CaptureQueriesContext(connection) as queries:
        runs_enqueue(ids, sop_id=1)
    inserts = [q for q in queries.captured_queries if "django_q_ormq" in q["sql"].lower()]
    # One bulk INSERT per chunk, which SQLite splits at its parameter limit (333 rows here);
    # one task at a time would be 1,500.
    assert 3 <= len(inserts) <= 6
    assert all(q["sql"].startswith("INSERT") for q in inserts)
    assert OrmQ.objects.filter(key=queue.list_key).count() == len(ids)


def test_without_sop_id_the_groups_come_from_the_run_rows(library, sample_crm, queue):
    sop = sop_get(name="lead-qualification")
    runs, _ = runs_start(sop=sop, record_ids=records_select(sop=sop)[:3], batch="q", enqueue=False)
    queue.purge_queue()
    runs_enqueue([r.pk for r in runs])
    assert {t["group"] for t in _waiting(queue)} == {f"sop:{sop.pk}"}


def test_nothing_to_enqueue_touches_nothing(queue):
    with CaptureQueriesContext(connection) as queries:
        runs_enqueue([])
    assert not queries.captured_queries
    assert _waiting(queue) == []


def test_an_inline_run_task_leaves_no_result_row(library, sample_crm, sync_queue):
    # Conf.SYNC passes each task through django-q2's own worker and monitor, inline.
    sop = sop_get(name="lead-qualification")
    runs, _ = runs_start(sop=sop, record_ids=records_select(sop=sop)[:2], batch="s", enqueue=False)
    runs_enqueue([r.pk for r in runs])
    states = set(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("state", flat=True))
    assert "queued" not in states and states
    assert not Task.objects.filter(func=RUN_TASK).exists()


@pytest.mark.qcluster
@pytest.mark.django_db(transaction=True)
def test_through_a_cluster_runs_leave_no_result_rows_failures_do(library, sample_crm, qcluster):
    sop = sop_get(name="lead-qualification")
    runs, _ = runs_start(sop=sop, record_ids=records_select(sop=sop)[:4], batch="c")
    runs_enqueue([987_654_321], sop_id=sop.pk)  # no such run: run_execute raises
    assert runs_wait([r.pk for r in runs], timeout=60)
    deadline = time.monotonic() + 30
    while not Task.objects.filter(name="run-987654321").exists():
        assert time.monotonic() < deadline, "the failed run task was not saved"
        time.sleep(0.1)
    assert list(Task.objects.filter(func=RUN_TASK).values_list("name", "success")) == [
        ("run-987654321", False)
    ]


def test_one_broker_client_per_process():
    first, second = get_broker(), get_broker()
    if settings.REDIS_URL:
        assert first.connection is second.connection
        assert first.connection.client_id() == second.connection.client_id()
    else:
        assert type(first).__name__ == "ORM"
    assert queue_broker() is queue_broker()
