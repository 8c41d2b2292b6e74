"""A 429/500 storm during write-back and during approvals: every write lands exactly once, no
run is left running, writing or retrying, and each retry is visible on its run."""

from __future__ import annotations

import pytest

from connectors.local import models as crm
from salesops.models import Connection, Escalation, Run, WriteBack
from salesops.services.escalations import escalation_approve
from tests.helpers import run_now
from tests.retries.conftest import sweep_until_settled
from tests.retries.stormy_crm import server_error, too_many

pytestmark = pytest.mark.django_db

CONTACTS = [f"c-{n:03d}" for n in range(1, 9)]
UNFINISHED = (Run.State.QUEUED, Run.State.RUNNING, Run.State.WRITING, Run.State.RETRYING)


def ai_writes() -> dict[str, int]:
    """How many notes and tasks the CRM holds for each idempotency key."""
    counts: dict[str, int] = {}
    for model in (crm.Note, crm.Task):
        for key in model.objects.values_list("idempotency_key", flat=True):
            counts[key] = counts.get(key, 0) + 1
    return counts


def assert_each_write_once(runs: list[Run]) -> None:
    keys = ai_writes()
    for run in runs:
        for write in run.writes.all():
            assert write.status == WriteBack.Status.DONE, (run.pk, write.error)
            if write.kind in ("note", "task"):
                assert keys.get(write.idempotency_key) == 1, (run.pk, write.kind)
    written_keys = {
        key
        for key in WriteBack.objects.filter(kind__in=("note", "task")).values_list(
            "idempotency_key", flat=True
        )
    }
    assert set(keys) == written_keys  # nothing in the CRM that no write asked for


def test_a_storm_during_write_back_ends_with_every_write_done_once(
    library, sample_crm, stormy_crm, sync_queue
):
    stormy_crm.storm(
        apply=[too_many(), server_error(), too_many(retry_after=None), server_error()],
        action=[server_error(), too_many()],  # one action of a batch refused, retriably
    )
    runs = [run_now("lead-qualification", contact, key="storm") for contact in CONTACTS]
    assert any(run.state == Run.State.RETRYING for run in runs)
    waiting = Run.objects.get(pk=next(r.pk for r in runs if r.state == Run.State.RETRYING))
    assert waiting.retry_at is not None and waiting.crm_retries == 1
    assert "retry 1 of 3" in waiting.reason

    assert sweep_until_settled() >= 1
    runs = list(Run.objects.filter(pk__in=[r.pk for r in runs]))
    assert not [r for r in runs if r.state in UNFINISHED]
    written = [r for r in runs if r.state == Run.State.WRITTEN]
    assert written, [(r.state, r.reason) for r in runs]
    assert all(r.state in (Run.State.WRITTEN, Run.State.ESCALATED) for r in runs)
    assert_each_write_once(written)

    retried = [r for r in written if r.crm_retries]
    assert retried
    step = retried[0].steps.filter(kind="retry").first()
    assert step is not None and step.status == "retrying"
    assert step.input["delay_seconds"] > 0 and step.input["error"]
    assert Connection.objects.get(slug="local").last_429_at is not None


def test_a_vendor_retry_after_sets_the_delay(library, sample_crm, stormy_crm, sync_queue):
    stormy_crm.storm(apply=[too_many(retry_after=42)])
    run = run_now("lead-qualification", "c-001", key="after")
    assert run.state == Run.State.RETRYING
    step = run.steps.get(kind="retry")
    assert step.input["delay_seconds"] == 42 and step.input["retry_after"] == 42
    assert 41 <= (run.retry_at - step.created_at).total_seconds() <= 43


def escalated_runs(count: int) -> list[Run]:
    found = []
    for contact in crm.Contact.objects.order_by("id"):
        run = run_now("lead-qualification", contact.id, key=f"esc-{contact.id}")
        if run.state == Run.State.ESCALATED:
            found.append(run)
            if len(found) == count:
                return found
    raise AssertionError("the sample data has too few escalation cases")


def approve(run: Run, manager) -> None:
    escalation = Escalation.objects.get(run=run)
    failed = {c["id"] for c in escalation.checks if c["status"] in ("failed", "error")}
    escalation_approve(
        escalation=escalation,
        user=manager,
        overrides={check: "checked by hand" for check in failed - {"schema"}},
    )


def test_a_storm_during_approvals_ends_with_every_write_done_once(
    library, sample_crm, stormy_crm, manager, sync_queue, django_capture_on_commit_callbacks
):
    runs = escalated_runs(3)
    stormy_crm.storm(
        apply=[server_error(), too_many(), server_error(), too_many(), server_error()],
        action=[too_many()],
    )
    with django_capture_on_commit_callbacks(execute=True):
        for run in runs:
            approve(run, manager)
    states = set(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("state", flat=True))
    assert Run.State.RETRYING in states and Run.State.WRITING not in states

    sweep_until_settled()
    runs = list(Run.objects.filter(pk__in=[r.pk for r in runs]))
    assert [r.state for r in runs] == [Run.State.WRITTEN] * 3, [r.reason for r in runs]
    assert all(r.escalation.status == Escalation.Status.APPROVED for r in runs)
    assert all(r.reason.startswith("written after review") for r in runs)
    assert_each_write_once(runs)
    assert sum(r.crm_retries for r in runs) >= 3
    assert runs[0].steps.filter(kind="retry", name="approved write").exists()
