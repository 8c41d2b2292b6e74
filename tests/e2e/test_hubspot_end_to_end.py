"""HubSpot end to end: a `hubspot` connection (credentials in the database) on the emulator
seeded with the sample data and provisioned; signed webhook deliveries through the queue to
runs, and the runs' notes, tasks and properties in the portal with their associations,
labelled as AI and linked to the run; our own changes echoed back start nothing; a 429/500
storm during write-back ends, through the platform's retries, with every write done once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import RecordRef
from connectors.hubspot.connector import TIERS
from connectors.hubspot.properties import SALESOPS_KEY
from salesops.models import Connection, Run, WebhookEvent
from salesops.services.batches import runs_execute_inline, runs_start, sop_get
from salesops.services.connection_checks import connection_check
from salesops.services.connections import connection_credentials_set, connections_reset
from tests.connectors.hubspot_seed import ATTEMPTS, HubSpotSeeder
from tests.emulators.framework import RateLimited, ServerError
from tests.emulators.hubspot_api import HubSpotEmulator
from tests.emulators.hubspot_webhooks import webhook_signed
from tests.retries.conftest import sweep_until_settled

pytestmark = pytest.mark.django_db
BASE = "https://salesops.example.com"
PATH = "/webhooks/hubspot/hubspot/"
DONE = (Run.State.WRITTEN, Run.State.ESCALATED, Run.State.SKIPPED)


@pytest.fixture
def hubspot(library, settings, monkeypatch) -> Iterator[tuple[Connection, HubSpotEmulator]]:
    """A provisioned `hubspot` connection on the seeded emulator."""
    settings.SALESOPS_BASE_URL = BASE
    settings.SALESOPS = {**settings.SALESOPS, "CRM_MAX_RETRIES": 5, "RATE_LIMIT_MAX_WAIT": 5}
    # The shared limiter's pacing is tested in tests/retries; here it would only slow runs.
    monkeypatch.setitem(TIERS, "professional", (100_000, 650_000))
    emu = HubSpotEmulator(seed=True).start()
    connections_reset()
    connection = Connection.objects.create(kind="hubspot", slug="hubspot", account_id="111")
    connection_credentials_set(
        connection,
        {
            "access_token": "pat-na1-test",
            "client_secret": emu.client_secret,
            "base_url": emu.base_url,
            "app_id": str(emu.app_id),
        },
    )
    report = connection_check(connection, provision=True)
    assert not [line for line in report.lines if line.blocking], report.lines
    try:
        yield connection, emu
    finally:
        connections_reset()
        emu.stop()


def deliver(client: Any, emu: HubSpotEmulator, events: list[dict[str, Any]], capture: Any) -> Any:
    """HubSpot's signed POST of `events` (journal entries), routed through the queue."""
    signed = webhook_signed(BASE + PATH, emu.webhook_payload(events), emu.client_secret)
    headers = {
        "HTTP_" + k.upper().replace("-", "_"): v
        for k, v in signed.headers.items()
        if k != "Content-Type"
    }
    with capture(execute=True):
        return client.post(PATH, data=signed.body, content_type="application/json", **headers)


def test_a_signed_batch_leads_to_runs_and_labelled_writes_in_hubspot(
    client, hubspot, sync_queue, django_capture_on_commit_callbacks
):
    connection, emu = hubspot
    store, seed = emu.portal(), HubSpotSeeder(emu)
    ids = store.sample_ids
    lead, follow, deal = (
        ids[("contact", "c-001")],
        ids[("contact", "c-004")],
        ids[("deal", "d-001")],
    )
    # A rep in HubSpot: a contact becomes a lead, a meeting is logged, a deal moves on.
    store.update("contacts", lead, {"lifecyclestage": "subscriber"}, source="CRM_UI")
    emu.drain_events()
    store.update("contacts", lead, {"lifecyclestage": "lead"}, source="CRM_UI")
    meeting = store.create("meetings", {"hs_meeting_title": "Demo"}, source="CRM_UI")
    store.associate("contacts", follow, "meetings", meeting.id, source="CRM_UI")
    store.update("deals", deal, {"dealstage": "contractsent"}, source="CRM_UI")
    events = emu.drain_events()

    response = deliver(client, emu, events, django_capture_on_commit_callbacks)

    assert response.status_code == 200, response.content
    runs = {(r.sop.name, r.record_id): r for r in Run.objects.filter(connection=connection)}
    assert set(runs) == {
        ("lead-qualification", lead),
        ("follow-up", follow),
        ("deal-review", deal),
    }, [(e.name, e.skip_reason) for e in WebhookEvent.objects.all()]
    assert {r.state for r in runs.values()} == {Run.State.WRITTEN}, [
        (r.sop.name, r.state, r.reason) for r in runs.values()
    ]
    kinds = {w.kind for r in runs.values() for w in r.writes.all()}
    assert kinds == {"note", "task", "set_property"}, kinds
    for (_, record_id), run in runs.items():
        url = f"{BASE}/admin/salesops/run/{run.pk}/change/"
        for write in run.writes.all():
            assert write.status == "done" and write.external_id, (write.kind, write.error)
            if write.kind not in ("note", "task"):
                continue
            hs_type = f"{write.kind}s"
            obj = store.objects[hs_type][write.external_id]
            body = obj.properties[f"hs_{write.kind}_body"]
            assert body.startswith("🤖 AI action") and url in body, body[:80]  # AI, the run
            assert obj.properties[SALESOPS_KEY] == write.idempotency_key
            # Associated with the run's record, and seen from the record's side too.
            assert set(store.associated(hs_type, obj.id, f"{run.object_type}s")) == {record_id}
            if write.kind == "note":
                assert body in seed.fetch_notes(RecordRef(run.object_type, record_id))
            else:  # the record's owner does the task
                owner = store.objects[f"{run.object_type}s"][record_id].properties
                assert obj.properties["hubspot_owner_id"] == owner["hubspot_owner_id"]
    score = runs[("lead-qualification", lead)].writes.get(kind="set_property")
    assert store.objects["contacts"][lead].properties["ai_score"] == str(
        score.payload["properties"]["ai_score"]
    )

    # Our own writes come back as webhook events: recorded as ours, no run started.
    echoed = emu.drain_events()
    assert echoed and {e["changeSource"] for e in echoed} == {"INTEGRATION"}
    before = Run.objects.count()
    response = deliver(client, emu, echoed, django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.content
    assert Run.objects.count() == before
    stored = WebhookEvent.objects.filter(connection=connection, payload__origin="salesops")
    assert stored.count() == response.json()["received"] > 0
    assert all(e.runs_created == 0 for e in stored)


def test_a_storm_during_write_back_ends_with_every_write_done_once(hubspot, sync_queue):
    connection, emu = hubspot
    ids = emu.portal().sample_ids
    contacts = [ids[("contact", c)] for c in ("c-001", "c-002", "c-003", "c-004")]
    storm = [RateLimited(1.0), ServerError(500), ServerError(503)]
    # Each failure is queued once per SDK attempt so the connector (not urllib3) sees it; the
    # association fault lands after the upsert succeeded: the retry must not write twice.
    for endpoint in (
        "POST /crm/v3/objects/notes/batch/upsert",
        "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create",
        "POST /crm/v3/objects/contacts/batch/update",
    ):
        for fault in storm:
            emu.fail(fault, endpoint=endpoint, times=ATTEMPTS)

    runs, _ = runs_start(
        sop=sop_get(name="lead-qualification"),
        record_ids=contacts,
        batch="storm",
        enqueue=False,
        connection=connection,
    )
    runs = runs_execute_inline(runs)
    assert any(r.state == Run.State.RETRYING for r in runs), [(r.state, r.reason) for r in runs]

    assert sweep_until_settled() >= 1
    assert emu.faults.pending == 0  # the whole storm was met
    runs = list(Run.objects.filter(pk__in=[r.pk for r in runs]))
    assert all(r.state in DONE for r in runs), [(r.state, r.reason) for r in runs]
    assert sum(r.crm_retries for r in runs) >= 3, [(r.crm_retries, r.state) for r in runs]
    assert all(r.steps.filter(kind="retry").count() == r.crm_retries for r in runs)
    store = emu.portal()
    writes = [w for r in runs for w in r.writes.all()]
    assert writes and all(w.status == "done" for w in writes), [
        (w.kind, w.status, w.error) for w in writes
    ]
    for hs_type, kind in (("notes", "note"), ("tasks", "task")):
        keys = [o.properties.get(SALESOPS_KEY) for o in store.live(hs_type)]
        keys = [k for k in keys if k]
        expected = [w.idempotency_key for w in writes if w.kind == kind]
        assert sorted(keys) == sorted(expected), hs_type  # each once, nothing more
        for w in writes:
            if w.kind == kind:
                linked = store.associated(hs_type, w.external_id, "contacts")
                assert len(linked) == 1, (kind, linked)
    for run in runs:
        for w in run.writes.filter(kind="set_property"):
            props = store.objects["contacts"][run.record_id].properties
            assert props["ai_score"] == str(w.payload["properties"]["ai_score"])
