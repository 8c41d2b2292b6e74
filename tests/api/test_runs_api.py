"""Runs over the API: start one (202), list with filters (paginated), read one with its steps."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors.local import models as crm
from salesops.models import Escalation, Run

pytestmark = pytest.mark.django_db


def start(client: APIClient, **body: object):
    return client.post("/api/runs/", body, format="json")


def test_it_starts_a_dry_run_and_answers_202(
    api_manager: APIClient, library, sample_crm, sync_queue, django_capture_on_commit_callbacks
):
    notes = crm.Note.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(api_manager, sop="lead-qualification", record_id="c-001", dry_run=True)
    assert response.status_code == 202
    body = response.json()
    assert body["sop"] == "lead-qualification" and body["record_id"] == "c-001"
    assert body["shadow"] is True
    run = Run.objects.get(pk=body["id"])
    assert run.state in (Run.State.VERIFIED, Run.State.ESCALATED)  # ran through the sync queue
    assert crm.Note.objects.count() == notes


def test_it_queues_a_run_for_the_worker(api_manager: APIClient, library, sample_crm):
    response = start(api_manager, sop="follow-up", record_id="c-002")
    assert response.status_code == 202
    assert response.json()["state"] == "queued" and response.json()["shadow"] is False


def test_the_same_idempotency_key_starts_one_run(api_manager: APIClient, library, sample_crm):
    first = start(api_manager, sop="follow-up", record_id="c-002", idempotency_key="k1")
    again = start(api_manager, sop="follow-up", record_id="c-002", idempotency_key="k1")
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"sop": "nope", "record_id": "c-001"}, "unknown SOP"),
        ({"sop": "lead-qualification", "record_id": "c-404"}, "record not found"),
        ({"sop": "deal-review", "record_id": "c-001"}, "record not found"),
        ({"record_id": "c-001"}, "invalid input"),
        ({"sop": "lead-qualification", "record_id": "c-001", "dry_run": "maybe"}, "invalid input"),
    ],
)
def test_it_answers_400_for_a_bad_start(
    api_manager: APIClient, library, sample_crm, body: dict, error: str
):
    response = start(api_manager, **body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(error) and response.json()["errors"]
    assert not Run.objects.exists()


def test_it_lists_runs_filtered_by_state_and_sop(api_manager: APIClient, escalation: Escalation):
    response = api_manager.get("/api/runs/", {"state": "escalated", "sop": "lead-qualification"})
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert escalation.run_id in [r["id"] for r in body["results"]]
    assert all(r["state"] == "escalated" for r in body["results"])
    assert api_manager.get("/api/runs/", {"sop": "deal-review"}).json()["count"] == 0


def test_it_pages_the_run_list(api_manager: APIClient, escalation: Escalation):
    total = Run.objects.count()
    body = api_manager.get("/api/runs/", {"limit": 1}).json()
    assert body["count"] == total and len(body["results"]) == 1


def test_it_answers_400_for_an_unknown_state(api_manager: APIClient, db):
    response = api_manager.get("/api/runs/", {"state": "exploded"})
    assert response.status_code == 400
    assert "state" in response.json()["errors"]


def test_it_shows_a_run_with_its_steps(api_manager: APIClient, escalation: Escalation):
    body = api_manager.get(f"/api/runs/{escalation.run_id}/").json()
    assert body["escalation"] == escalation.pk
    seqs = [s["seq"] for s in body["steps"]]
    assert seqs == sorted(seqs) and seqs
    assert any(s["kind"] == "check" for s in body["steps"])
    assert body["input"]["id"] == escalation.run.record_id


def test_it_answers_404_for_an_unknown_run(api_manager: APIClient, db):
    response = api_manager.get("/api/runs/999/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
