"""Local CRM changes take the webhooks' path: stored at the writer's commit, routed by a task."""

from __future__ import annotations

from typing import Any

import pytest
from django_q.signing import SignedPackage

from connectors.local import models as crm
from salesops.models import Run, WebhookEvent
from salesops.tasks_enqueue import queue_broker, queue_brokers_reset

pytestmark = pytest.mark.django_db

SQL_LEAD = "c-004"  # a sample contact in lifecycle stage salesqualifiedlead


@pytest.fixture
def enqueued(monkeypatch) -> list[dict[str, Any]]:
    queue_brokers_reset()
    broker = queue_broker()
    pushed: list[dict[str, Any]] = []
    real = broker.enqueue

    def enqueue(package: str) -> Any:
        pushed.append(SignedPackage.loads(package))
        return real(package)

    monkeypatch.setattr(broker, "enqueue", enqueue)
    yield pushed
    broker.purge_queue()
    queue_brokers_reset()


def became_lead(contact_id: str = SQL_LEAD) -> None:
    contact = crm.Contact.objects.get(pk=contact_id)
    contact.lifecycle_stage = "lead"
    contact.save()


def test_a_local_change_is_stored_and_queued_not_routed_in_the_writers_commit(
    library, sample_crm, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        became_lead()
    event = WebhookEvent.objects.get(record_id=SQL_LEAD, name="contact.property_changed")
    assert event.processed_at is None  # stored, not yet routed
    assert not Run.objects.exists()  # nothing ran inside the CRM writer's request
    (task,) = enqueued
    assert task["func"] == "salesops.tasks.webhook_events_route"
    assert task["args"] == ([event.pk],)


def test_the_queued_task_starts_the_run_a_webhook_event_would(
    library, sample_crm, enqueued, django_capture_on_commit_callbacks
):
    from salesops.tasks import webhook_events_route

    with django_capture_on_commit_callbacks(execute=True):
        became_lead()
    (task,) = enqueued
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_route(*task["args"]) == 1
    run = Run.objects.get(record_id=SQL_LEAD)
    assert (run.sop.name, run.trigger, run.connection.slug) == (
        "lead-qualification",
        "event",
        "local",
    )


def test_through_an_inline_queue_a_local_change_runs_end_to_end(
    library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        became_lead()
    run = Run.objects.get(record_id=SQL_LEAD)
    assert run.state == Run.State.WRITTEN
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert Run.objects.count() == 1


def test_a_change_on_another_local_account_lands_on_that_accounts_connection(
    db, enqueued, django_capture_on_commit_callbacks
):
    from salesops.models import Connection

    eu = Connection.objects.create(kind="local", slug="eu", account_id="eu")
    with django_capture_on_commit_callbacks(execute=True):
        crm.Contact.objects.create(id="eu-1", first_name="Ada", account="eu")
    assert WebhookEvent.objects.get(record_id="eu-1").connection == eu
    assert len(enqueued) == 1
