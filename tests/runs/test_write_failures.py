"""A CRM that fails mid write-back: the run fails with the reason, a retry finishes the job once."""

from __future__ import annotations

import pytest

from connectors.base import RecordRef
from connectors.local import models as crm
from salesops.models import Run, Sop, WriteBack
from salesops.services.runs import run_create, run_execute, run_retry
from tests.runs.flaky_crm import FlakyTasksConnector

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky_crm(settings):
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTORS": {"local": "tests.runs.flaky_crm.FlakyTasksConnector"},
        # No automatic CRM retries here (tests/retries/ has those): the admin's retry path.
        "CRM_MAX_RETRIES": 0,
    }
    FlakyTasksConnector.down = True
    yield FlakyTasksConnector
    FlakyTasksConnector.down = True


def test_a_failed_write_fails_the_run_and_a_retry_completes_it_once(
    library, sample_crm, flaky_crm, sync_queue
):
    sop = Sop.objects.get(name="lead-qualification")
    run, _ = run_create(
        sop=sop,
        ref=RecordRef("contact", "c-001"),
        trigger="manual",
        event_key="flaky",
        enqueue=False,
    )
    run = run_execute(run_id=run.pk)

    assert run.state == Run.State.FAILED
    assert "write-back failed" in run.reason and "503" in run.reason
    statuses = dict(run.writes.values_list("kind", "status"))
    assert statuses["task"] == WriteBack.Status.FAILED
    assert statuses["note"] == WriteBack.Status.DONE
    assert run.steps.filter(kind="write", status="failed").exists()
    notes = crm.Note.objects.filter(contact_id="c-001").count()

    flaky_crm.down = False
    run_retry(run=run)
    run = run_execute(run_id=run.pk)
    assert run.state == Run.State.WRITTEN
    assert crm.Note.objects.filter(contact_id="c-001").count() == notes
    assert crm.Task.objects.filter(contact_id="c-001").count() == 1
    assert not run.writes.exclude(status=WriteBack.Status.DONE).exists()
