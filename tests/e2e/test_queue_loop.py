"""The whole loop through a real qcluster on the configured database and broker."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command

from connectors.local import models as crm
from salesops.models import Run, WebhookEvent, WriteBack
from salesops.selectors import runs_wait
from salesops.services.batches import records_select, runs_start, sop_get
from salesops.services.sops import sop_library_load

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded(transactional_db, sample_crm):
    assert not sop_library_load().issues


def test_every_sop_runs_over_the_sample_records_through_the_queue(loaded, qcluster):
    run_ids = []
    for name in ("lead-qualification", "follow-up", "deal-review"):
        sop = sop_get(name=name)
        runs, new = runs_start(sop=sop, record_ids=records_select(sop=sop)[:6], batch="e2e")
        assert new == len(runs) == 6
        run_ids += [r.pk for r in runs]
    assert runs_wait(run_ids, timeout=120), "runs did not finish through the queue"
    states = set(Run.objects.filter(pk__in=run_ids).values_list("state", flat=True))
    assert states <= {"written", "escalated", "skipped"}, states
    assert Run.objects.filter(pk__in=run_ids, state="written").exists()


def test_a_local_crm_change_triggers_a_run_through_the_queue(loaded, qcluster):
    company = crm.Company.objects.order_by("id").first()
    contact = crm.Contact.objects.create(
        id="c-e2e-1",
        first_name="Ada",
        last_name="Quinn",
        email="ada.quinn@example.org",
        job_title="VP Sales",
        lifecycle_stage="lead",
        company=company,
    )
    # Stored at the CRM writer's commit; routed by a worker, as a webhook delivery is.
    event = WebhookEvent.objects.get(record_id=contact.id, name="contact.created")
    deadline = time.monotonic() + 60
    while not WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the routing task never routed the event"
        time.sleep(0.1)
    run = Run.objects.get(record_id=contact.id, sop__name="lead-qualification")
    event.refresh_from_db()
    assert run.trigger == "event" and event.runs_created >= 1
    assert runs_wait([run.pk], timeout=60)
    run.refresh_from_db()
    assert run.state in ("written", "escalated"), run.reason


def test_the_main_job_twice_changes_nothing_the_second_time(loaded, qcluster, capsys):
    call_command("demo", "--no-serve", "--timeout", "300")
    runs, writes, notes = Run.objects.count(), WriteBack.objects.count(), crm.Note.objects.count()
    assert runs >= 40 + 25 and writes > 0
    call_command("demo", "--no-serve", "--timeout", "300")
    assert (Run.objects.count(), WriteBack.objects.count(), crm.Note.objects.count()) == (
        runs,
        writes,
        notes,
    )
    out = capsys.readouterr().out
    assert "lead-qualification" in out and "deal-review" in out


def test_runs_can_go_to_their_own_agents_cluster(loaded, settings):
    from salesops.services.workers import worker_start, worker_stop

    settings.SALESOPS = {**settings.SALESOPS, "RUN_CLUSTER": "agents"}
    agents = worker_start(cluster="agents")
    try:
        sop = sop_get(name="deal-review")
        runs, _ = runs_start(sop=sop, record_ids=["d-001", "d-004"], batch="agents")
        assert runs_wait([r.pk for r in runs], timeout=60), "the agents cluster ran nothing"
    finally:
        worker_stop(agents)
    assert set(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("state", flat=True)) == {
        "written"
    }
