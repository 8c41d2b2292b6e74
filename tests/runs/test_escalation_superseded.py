"""One open escalation per (SOP, record): a newer result supersedes an older one, visibly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import CrmEvent, RecordRef
from connectors.local import models as crm
from salesops.models import Escalation, Run, Sop
from salesops.services.connections import connection_local
from salesops.services.escalations import (
    EscalationError,
    escalation_approve,
    escalation_reject,
)
from salesops.services.events import event_receive
from salesops.services.runs import run_create, run_execute
from tests.helpers import run_now

pytestmark = pytest.mark.django_db

ENTERPRISE = "c-024"  # a sample lead at a company over 5,000 employees: always escalates


def became_lead(event_id: str) -> CrmEvent:
    return CrmEvent(
        event_id=event_id,
        name="contact.property_changed",
        record=RecordRef("contact", ENTERPRISE),
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        property="lifecycle_stage",
        value="lead",
    )


def queued(key: str) -> Run:
    sop = Sop.objects.get(name="lead-qualification")
    run, _ = run_create(
        sop=sop,
        ref=RecordRef("contact", ENTERPRISE),
        trigger="manual",
        event_key=key,
        enqueue=False,
    )
    return run


def test_it_keeps_one_open_escalation_when_four_events_escalate_the_same_record(
    library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            event_receive(connection=connection_local(), event=became_lead(f"ev-{n}"))
    runs = list(Run.objects.filter(record_id=ENTERPRISE).order_by("pk"))
    assert [r.state for r in runs] == [Run.State.ESCALATED] * 4
    escalations = Escalation.objects.filter(run__record_id=ENTERPRISE).order_by("run_id")
    assert [e.status for e in escalations] == ["superseded"] * 3 + ["open"]
    # Each was superseded by the next run's result, so the chain ends at the open one.
    assert [e.superseded_by_id for e in escalations] == [r.pk for r in runs[1:]] + [None]


def test_it_opens_an_older_runs_escalation_already_superseded_when_a_newer_one_came_first(
    library, sample_crm
):
    older, newer = queued("older"), queued("newer")
    run_execute(run_id=newer.pk)
    run_execute(run_id=older.pk)
    assert Escalation.objects.get(run=newer).status == Escalation.Status.OPEN
    late = Escalation.objects.get(run=older)
    assert late.status == Escalation.Status.SUPERSEDED and late.superseded_by_id == newer.pk


def test_it_supersedes_an_open_escalation_when_a_newer_run_writes(library, sample_crm):
    stale = run_now("lead-qualification", ENTERPRISE, key="before")
    assert stale.state == Run.State.ESCALATED
    company = crm.Contact.objects.get(pk=ENTERPRISE).company
    crm.Company.objects.filter(pk=company.pk).update(employees=120)
    fresh = run_now("lead-qualification", ENTERPRISE, key="after")
    assert fresh.state == Run.State.WRITTEN
    escalation = Escalation.objects.get(run=stale)
    assert escalation.status == Escalation.Status.SUPERSEDED
    assert escalation.superseded_by_id == fresh.pk


def test_it_refuses_to_approve_a_superseded_escalation_and_says_why(
    library, sample_crm, manager, sync_queue, django_capture_on_commit_callbacks
):
    older, newer = queued("older"), queued("newer")
    run_execute(run_id=older.pk)
    run_execute(run_id=newer.pk)
    stale = Escalation.objects.get(run=older)
    refused = pytest.raises(EscalationError, match=rf"superseded by run {newer.pk}")
    with refused, django_capture_on_commit_callbacks(execute=True):
        escalation_approve(escalation=stale, user=manager)
    with pytest.raises(EscalationError, match=rf"superseded by run {newer.pk}"):
        escalation_reject(escalation=stale, user=manager, reason="looks wrong")
    stale.refresh_from_db()
    assert stale.status == Escalation.Status.SUPERSEDED and stale.decided_by is None
    assert not older.writes.exists()
    assert Run.objects.get(pk=older.pk).state == Run.State.ESCALATED


def test_an_older_run_written_later_does_not_close_a_newer_open_escalation(library, sample_crm):
    older, newer = queued("older"), queued("newer")
    run_execute(run_id=newer.pk)
    company = crm.Contact.objects.get(pk=ENTERPRISE).company
    crm.Company.objects.filter(pk=company.pk).update(employees=120)
    assert run_execute(run_id=older.pk).state == Run.State.WRITTEN
    assert Escalation.objects.get(run=newer).status == Escalation.Status.OPEN


def test_the_review_queue_shows_a_superseded_escalation_with_its_newer_run(
    client, manager, library, sample_crm
):
    older, newer = queued("older"), queued("newer")
    run_execute(run_id=older.pk)
    run_execute(run_id=newer.pk)
    client.force_login(manager)
    stale = Escalation.objects.get(run=older)
    page = client.get(f"/admin/salesops/escalation/{stale.pk}/change/").content.decode()
    assert "superseded" in page.lower()
    assert f"/admin/salesops/run/{newer.pk}/change/" in page
    listing = client.get("/admin/salesops/escalation/?status=superseded").content.decode()
    assert f"/admin/salesops/escalation/{stale.pk}/change/" in listing


def test_an_approval_waiting_to_write_is_superseded_when_a_newer_run_wrote_first(
    library, sample_crm, manager, django_capture_on_commit_callbacks
):
    from salesops.services.escalations import escalation_write

    older = queued("older")
    run_execute(run_id=older.pk)
    stale = Escalation.objects.get(run=older)
    with django_capture_on_commit_callbacks(execute=False):  # the write task has not run yet
        escalation_approve(escalation=stale, user=manager, note="fine")
    company = crm.Contact.objects.get(pk=ENTERPRISE).company
    crm.Company.objects.filter(pk=company.pk).update(employees=120)  # now it writes directly
    newer = queued("newer")
    assert run_execute(run_id=newer.pk).state == Run.State.WRITTEN
    run = escalation_write(escalation_id=stale.pk)
    assert run.state == Run.State.ESCALATED
    assert f"superseded by run {newer.pk}" in run.reason and "nothing written" in run.reason
    stale.refresh_from_db()
    assert stale.status == Escalation.Status.SUPERSEDED and stale.superseded_by_id == newer.pk
    assert not older.writes.exists()
