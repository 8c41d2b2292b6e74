"""The run lifecycle on the local CRM and the rules engine: verify, then write or escalate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.base import RecordRef
from connectors.local import models as crm
from salesops.models import Escalation, Run, RunStep, Sop, WriteBack
from salesops.services.runs import run_create, run_execute, run_retry
from tests.helpers import run_now

pytestmark = pytest.mark.django_db


start = run_now


def first_contact_written(library, sample_crm) -> Run:
    for contact in crm.Contact.objects.order_by("id"):
        run = start("lead-qualification", contact.id, key=f"probe-{contact.id}")
        if run.state == Run.State.WRITTEN:
            return run
    raise AssertionError("no sample contact qualifies cleanly")


def test_it_writes_a_verified_result_with_a_labelled_note(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    assert run.engine == "rules"
    notes = crm.Note.objects.filter(idempotency_key__startswith="salesops-")
    note = notes.get(idempotency_key__in=run.writes.values("idempotency_key"))
    assert "Lead qualification" in note.body
    assert f"/admin/salesops/run/{run.pk}/" in note.body
    contact = crm.Contact.objects.get(pk=run.record_id)
    assert contact.ai_tier == run.output["tier"]
    assert contact.ai_score == run.output["score"]


def test_it_stores_each_check_as_a_step_in_order(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    steps = list(run.steps.order_by("seq"))
    assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
    checks = [s for s in steps if s.kind == "check"]
    assert checks and all(s.status in ("passed", "skipped") for s in checks)
    assert all(s.status == "passed" for s in checks if s.input["kind"] != "judge")
    assert {"schema", "grounding:rationale"} <= {s.name for s in checks}
    kinds = [s.kind for s in steps]
    assert kinds.index("tool_call") < kinds.index("check") < kinds.index("write")


def test_it_does_nothing_when_the_same_run_is_delivered_twice(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    writes = WriteBack.objects.count()
    steps = RunStep.objects.count()
    again = run_execute(run_id=run.pk)
    assert again.state == Run.State.WRITTEN
    assert (WriteBack.objects.count(), RunStep.objects.count()) == (writes, steps)


def test_it_restarts_a_run_left_running_by_a_dead_worker(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    notes_before = crm.Note.objects.count()
    stale = timezone.now() - timedelta(hours=1)
    Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING, started_at=stale)
    again = run_execute(run_id=run.pk)
    assert again.state == Run.State.WRITTEN
    assert again.attempts == 2
    assert crm.Note.objects.count() == notes_before  # the note's key already existed
    assert again.steps.filter(name="restart").exists()


def test_it_leaves_a_fresh_running_run_alone(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING, started_at=timezone.now())
    assert run_execute(run_id=run.pk).state == Run.State.RUNNING


def test_it_finishes_write_back_after_a_crash_mid_write(library, sample_crm):
    run = first_contact_written(library, sample_crm)
    # Simulate a crash after the first write: forget the others were done.
    later = list(run.writes.order_by("seq"))[1:]
    WriteBack.objects.filter(pk__in=[w.pk for w in later]).update(status=WriteBack.Status.PENDING)
    lost = crm.Note.objects.filter(idempotency_key__in=[w.idempotency_key for w in later])
    timeline = list(lost.values_list("activity_id", flat=True))
    lost.delete()
    crm.Activity.objects.filter(id__in=timeline).delete()
    notes_after_crash = crm.Note.objects.count()
    Run.objects.filter(pk=run.pk).update(
        state=Run.State.WRITING, started_at=timezone.now() - timedelta(hours=1)
    )
    again = run_execute(run_id=run.pk)
    assert again.state == Run.State.WRITTEN, again.reason
    assert run.writes.filter(status=WriteBack.Status.DONE).count() == run.writes.count()
    expected_notes = sum(1 for w in later if w.kind == "note")
    assert crm.Note.objects.count() == notes_after_crash + expected_notes


def test_it_fails_a_run_whose_record_vanished(library, sample_crm):
    sop = Sop.objects.get(name="lead-qualification")
    run, _ = run_create(
        sop=sop,
        ref=RecordRef("contact", "c-404"),
        trigger="manual",
        event_key="gone",
        enqueue=False,
    )
    run = run_execute(run_id=run.pk)
    assert run.state == Run.State.FAILED
    assert "vanished" in run.reason and "c-404" in run.reason
    assert not run.writes.exists()


def test_a_shadow_run_verifies_but_writes_nothing(library, sample_crm):
    first = first_contact_written(library, sample_crm)
    notes = crm.Note.objects.count()
    run = start("lead-qualification", first.record_id, key="shadow", shadow=True)
    assert run.state == Run.State.VERIFIED
    assert not run.writes.exists()
    assert crm.Note.objects.count() == notes


def test_a_failed_run_can_be_retried_from_the_queue(library, sample_crm, sync_queue):
    first = first_contact_written(library, sample_crm)
    with pytest.raises(ValueError, match="only failed runs"):
        run_retry(run=first)
    Run.objects.filter(pk=first.pk).update(state=Run.State.FAILED, reason="CRM down")
    first.refresh_from_db()
    retried = run_retry(run=first)
    assert retried.state == Run.State.QUEUED
    assert run_execute(run_id=first.pk).state == Run.State.WRITTEN


def test_escalated_runs_write_nothing_and_wait_in_the_queue(library, sample_crm):
    escalated = None
    for contact in crm.Contact.objects.order_by("id"):
        run = start("lead-qualification", contact.id, key=f"esc-{contact.id}")
        if run.state == Run.State.ESCALATED:
            escalated = run
            break
    assert escalated is not None, "the sample data has escalation cases"
    assert not escalated.writes.exists()
    escalation = Escalation.objects.get(run=escalated)
    assert escalation.status == Escalation.Status.OPEN
    assert escalation.checks and escalation.reason
