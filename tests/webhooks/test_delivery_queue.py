"""A delivery is one INSERT and one routing task, on a broker built once per process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from django_q.signing import SignedPackage

from connectors.base import RecordRef
from salesops import tasks_enqueue
from salesops.models import Run, Sop, WebhookEvent
from salesops.services.runs import run_create
from salesops.tasks_enqueue import queue_broker, queue_brokers_reset

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch) -> list[dict[str, Any]]:
    """Task packages pushed to this process's broker (still pushed: the real broker runs)."""
    queue_brokers_reset()
    broker = queue_broker()
    broker.purge_queue()
    pushed: list[dict[str, Any]] = []
    real = broker.enqueue

    def enqueue(package: str) -> Any:
        pushed.append(SignedPackage.loads(package))
        return real(package)

    monkeypatch.setattr(broker, "enqueue", enqueue)
    yield pushed
    broker.purge_queue()
    queue_brokers_reset()


@pytest.fixture
def no_broker_per_call(monkeypatch) -> list[str | None]:
    """Fails any enqueue that would build its own broker; counts the brokers we build."""
    import django_q.tasks

    def refuse(*args: Any) -> None:
        raise AssertionError("async_task built a broker of its own")

    monkeypatch.setattr(django_q.tasks, "get_broker", refuse)
    built: list[str | None] = []
    real = tasks_enqueue.get_broker

    def counting(list_key: str | None = None) -> Any:
        built.append(list_key)
        return real(list_key)

    monkeypatch.setattr(tasks_enqueue, "get_broker", counting)
    queue_brokers_reset()
    yield built
    queue_brokers_reset()


def body(n: int, first: int = 0) -> bytes:
    events = [
        {
            "event_id": f"ev-{i}",
            "name": "contact.created",
            "object_type": "contact",
            "id": f"c-{i:03d}",
            "occurred_at": "2026-11-20T00:00:00+00:00",
        }
        for i in range(first, first + n)
    ]
    return json.dumps({"events": events}).encode()


def inserts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]


def test_a_hundred_event_delivery_is_one_insert_and_one_task_in_order(
    post, enqueued, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(db) as queries, django_capture_on_commit_callbacks(execute=True):
        response = post(body(100))
    assert response.status_code == 200
    event_inserts = [sql for sql in inserts(queries) if "webhookevent" in sql]
    assert len(event_inserts) == 1
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in selects if "webhookevent" in sql]  # no look-up: RETURNING
    (task,) = enqueued
    assert task["func"] == "salesops.tasks.webhook_events_route"
    (ids,) = task["args"]
    stored = dict(WebhookEvent.objects.values_list("pk", "event_id"))
    assert [stored[pk] for pk in ids] == [f"ev-{i}" for i in range(100)]  # delivery order


def test_the_hot_path_is_two_queries_plus_a_savepoint(
    post, enqueued, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    post(body(1))  # the local connection exists from here on
    # The connection look-up and the INSERT; in a test, the savepoint around it (2 queries)
    # and the ORM broker's own INSERT of the task.
    with django_assert_max_num_queries(5), django_capture_on_commit_callbacks(execute=True):
        assert post(body(100, first=1)).status_code == 200
    assert len(enqueued) == 1


def test_a_redelivery_enqueues_only_the_new_events(
    post, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(body(3))
        post(body(5))  # ev-0..2 seen before
        post(body(3))  # nothing new: no task at all
    assert [len(task["args"][0]) for task in enqueued] == [3, 2]


def test_the_task_routes_the_delivery_and_a_second_delivery_of_it_does_nothing(
    post, enqueued, library, sample_crm, django_capture_on_commit_callbacks
):
    from salesops.tasks import webhook_events_route

    with django_capture_on_commit_callbacks(execute=True):
        post(body(2, first=1))
    (task,) = enqueued
    (ids,) = task["args"]
    assert not Run.objects.exists()  # routing waits for the worker
    assert webhook_events_route(ids) == 2  # lead-qualification on c-001 and c-002
    assert webhook_events_route(ids) == 0
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0


def test_enqueues_reuse_one_broker_per_process(
    post, no_broker_per_call, library, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(body(1))
        post(body(1, first=1))
        sop = Sop.objects.get(name="lead-qualification")
        for n in range(3):
            ref = RecordRef("contact", f"c-{n:03d}")
            run_create(sop=sop, ref=ref, trigger="manual", event_key=f"manual:{n}")
    assert no_broker_per_call == [Conf.CLUSTER_NAME]  # built once, for five enqueues
    assert queue_broker() is queue_broker()
    queue_broker().purge_queue()


def test_runs_sent_to_another_cluster_get_that_clusters_broker(settings, no_broker_per_call):
    settings.SALESOPS = {**settings.SALESOPS, "RUN_CLUSTER": "agents"}
    assert queue_broker("agents") is queue_broker("agents")
    assert queue_broker("agents") is not queue_broker()
    assert "agents" in queue_broker("agents").list_key


def test_a_delivery_is_stamped_with_its_occurrence_not_our_clock(post, enqueued):
    post(body(1))
    event = WebhookEvent.objects.get()
    assert event.occurred_at == datetime(2026, 11, 20, tzinfo=UTC)
