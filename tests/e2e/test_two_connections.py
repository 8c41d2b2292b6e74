"""Two local CRM accounts as two connections run the three SOPs side by side, kept apart.

The same sample data lives in both accounts (the second with prefixed ids). Runs, writes,
escalations, mirror rows and events stay with their own connection, in the database, in the
admin and in the API.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors.local import models as crm
from connectors.local.sample import sample_data_load
from salesops.models import Connection, CrmRecordMirror, Escalation, Run, WebhookEvent
from salesops.services.batches import records_select, runs_execute_inline, runs_start, sop_get
from salesops.services.connections import connection_local
from tests.conftest import ROOT

SOPS = ("lead-qualification", "follow-up", "deal-review")
SAMPLE = ROOT / "sop_library" / "sample_data" / "crm.json"
# Records of each SOP's object known to write (c-001, d-001) and to escalate (c-009, d-006).
RECORDS = {
    "lead-qualification": ["c-001", "c-009"],
    "follow-up": ["c-004"],
    "deal-review": ["d-001", "d-006"],
}


@pytest.fixture
def two_accounts(library, sample_crm):
    sample_data_load(SAMPLE, account="acme")
    local = connection_local()
    acme = Connection.objects.create(kind="local", slug="acme", name="Acme", account_id="acme")
    return local, acme


def _run_everything(connection: Connection, prefix: str) -> list[Run]:
    runs: list[Run] = []
    for name in SOPS:
        sop = sop_get(name=name)
        ids = [prefix + record_id for record_id in RECORDS[name]]
        created, _ = runs_start(
            sop=sop, record_ids=ids, batch="side-by-side", enqueue=False, connection=connection
        )
        runs += runs_execute_inline(created)
    return runs


def test_two_local_connections_run_the_three_sops_side_by_side(two_accounts):
    local, acme = two_accounts
    local_runs = _run_everything(local, "")
    acme_runs = _run_everything(acme, "acme-")

    # Same SOPs, same event key, same record ids apart from the prefix: distinct runs.
    assert len(local_runs) == len(acme_runs) == 5
    assert {r.connection_id for r in local_runs} == {local.pk}
    assert {r.connection_id for r in acme_runs} == {acme.pk}
    assert [r.state for r in local_runs] == [r.state for r in acme_runs]
    assert {r.state for r in local_runs} >= {Run.State.WRITTEN, Run.State.ESCALATED}

    # Each connection's writes landed in its own account's CRM, once.
    for runs, account in ((local_runs, "local"), (acme_runs, "acme")):
        written = [r for r in runs if r.state == Run.State.WRITTEN]
        notes = crm.Note.objects.filter(account=account, idempotency_key__startswith="salesops-")
        keys = {w.idempotency_key for r in written for w in r.writes.filter(kind="note")}
        assert keys and keys <= set(notes.values_list("idempotency_key", flat=True))
    other = crm.Note.objects.filter(account="acme").values_list("idempotency_key", flat=True)
    local_keys = {w.idempotency_key for r in local_runs for w in r.writes.all()}
    assert not local_keys & set(other)  # the write keys include the connection

    # Escalations are per connection, and one connection's escalation never supersedes the
    # other's (same SOP, "same" record id in two CRMs).
    open_ = Escalation.objects.filter(status=Escalation.Status.OPEN)
    assert open_.filter(run__connection=local).count() == open_.filter(run__connection=acme).count()
    assert open_.filter(run__connection=acme).count() >= 2


def test_mirror_rows_are_kept_per_connection(two_accounts):
    local, acme = two_accounts
    sop = sop_get(name="lead-qualification")
    local_ids = records_select(sop=sop, connection=local)
    acme_ids = records_select(sop=sop, connection=acme)
    assert local_ids and len(local_ids) == len(acme_ids)
    assert all(i.startswith("acme-") for i in acme_ids)
    assert not any(i.startswith("acme-") for i in local_ids)
    mirrors = CrmRecordMirror.objects.filter(object_type="contact")
    assert set(mirrors.filter(connection=acme).values_list("record_id", flat=True)) == set(acme_ids)


def test_a_change_in_one_account_routes_to_its_own_connection(
    two_accounts, sync_queue, django_capture_on_commit_callbacks
):
    local, acme = two_accounts
    with django_capture_on_commit_callbacks(execute=True):
        contact = crm.Contact.objects.get(pk="acme-c-001")
        contact.lifecycle_stage = "lead" if contact.lifecycle_stage != "lead" else "subscriber"
        contact.save()
    events = WebhookEvent.objects.filter(record_id="acme-c-001")
    assert events.exists() and {e.connection_id for e in events} == {acme.pk}
    assert not WebhookEvent.objects.filter(connection=local, record_id="acme-c-001").exists()
    assert not Run.objects.filter(connection=local, record_id="acme-c-001").exists()


def test_the_api_and_admin_show_each_connection_apart(two_accounts, manager, client):
    local, acme = two_accounts
    _run_everything(local, "")
    _run_everything(acme, "acme-")
    api = APIClient()
    api.force_authenticate(manager)
    body = api.get("/api/runs/", {"connection": "acme", "limit": 100}).json()
    assert body["count"] == 5
    assert {r["connection"] for r in body["results"]} == {"acme"}
    assert {r["record_id"][:5] for r in body["results"]} == {"acme-"}
    escalations = api.get("/api/escalations/", {"connection": "local"}).json()
    assert escalations["count"] >= 2
    assert {e["connection"] for e in escalations["results"]} == {"local"}

    client.force_login(manager)
    page = client.get("/admin/salesops/run/", {"connection__id__exact": acme.pk})
    assert page.status_code == 200
    text = page.content.decode()
    assert "acme-c-001" in text and ">c-001<" not in text
