"""Filters on runs and escalations (record id, SOP, created range), SOP versions, batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from connectors.base import RecordRef
from salesops.models import Escalation, Run, Sop
from salesops.services.runs import run_create

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [item["id"] for item in response.json()["results"]]


def test_runs_filter_by_record_id_and_created_range(api_manager: APIClient, escalation):
    run = escalation.run
    sop = Sop.objects.get(name="follow-up")
    run_create(sop=sop, ref=RecordRef("contact", "c-002"), trigger="manual", event_key="older")
    assert ids(api_manager.get("/api/runs/", {"record_id": run.record_id})) == [run.pk]
    Run.objects.exclude(pk=run.pk).update(queued_at=timezone.now() - timedelta(days=3))
    Run.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    after = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api_manager.get("/api/runs/", {"created_after": after})) == [run.pk]
    before = api_manager.get("/api/runs/", {"created_before": after})
    assert run.pk not in ids(before) and ids(before)


def test_an_empty_or_reversed_range_is_a_400_naming_the_field(api_manager: APIClient, db):
    now = timezone.now().isoformat()
    response = api_manager.get("/api/runs/", {"created_after": now, "created_before": now})
    assert response.status_code == 400
    assert "created_before" in response.json()["errors"]
    bad = api_manager.get("/api/escalations/", {"created_after": "yesterday"})
    assert bad.status_code == 400 and "created_after" in bad.json()["errors"]


def test_escalations_filter_by_sop_record_and_status(api_manager: APIClient, escalation):
    record = escalation.run.record_id
    assert ids(api_manager.get("/api/escalations/", {"sop": "lead-qualification"})) == [
        escalation.pk
    ]
    assert ids(api_manager.get("/api/escalations/", {"sop": "follow-up"})) == []
    query = {"record_id": record, "status": "open"}
    assert ids(api_manager.get("/api/escalations/", query)) == [escalation.pk]
    one = api_manager.get(f"/api/escalations/{escalation.pk}/").json()
    assert one["record_id"] == record and one["status"] == Escalation.Status.OPEN


def test_sop_versions_are_listed_and_read_with_their_text(api_manager: APIClient, library):
    sop = Sop.objects.get(name="lead-qualification")
    listed = api_manager.get("/api/sops/lead-qualification/versions/").json()
    assert [v["number"] for v in listed] == [1]
    version = api_manager.get("/api/sops/lead-qualification/versions/1/").json()
    assert version["text"] == sop.published_version.text and version["published"] is True
    assert api_manager.get("/api/sops/lead-qualification/versions/7/").status_code == 404


def test_a_batch_starts_one_run_per_record_once(api_manager: APIClient, library, sample_crm):
    body = {"sop": "follow-up", "record_ids": ["c-002", "c-003", "c-002"], "idempotency_key": "b"}
    first = api_manager.post("/api/runs/batch/", body, format="json")
    assert first.status_code == 202
    assert [r["record_id"] for r in first.json()["runs"]] == ["c-002", "c-003"]
    assert first.json()["created"] == 2
    again = api_manager.post("/api/runs/batch/", body, format="json").json()
    assert again["created"] == 0
    assert [r["id"] for r in again["runs"]] == [r["id"] for r in first.json()["runs"]]
    assert Run.objects.count() == 2


def test_a_batch_with_an_unknown_record_starts_nothing(api_manager: APIClient, library, sample_crm):
    body = {"sop": "follow-up", "record_ids": ["c-002", "c-404"]}
    response = api_manager.post("/api/runs/batch/", body, format="json")
    assert response.status_code == 400
    assert "c-404" in response.json()["errors"]["record_ids"][0]
    assert not Run.objects.exists()


def test_a_run_starts_on_the_named_connection_only_if_it_exists(
    api_manager: APIClient, library, sample_crm
):
    body = {"sop": "follow-up", "record_id": "c-002", "connection": "nowhere"}
    refused = api_manager.post("/api/runs/", body, format="json")
    assert refused.status_code == 400 and "connection" in refused.json()["errors"]
    body["connection"] = "local"
    started = api_manager.post("/api/runs/", body, format="json")
    assert started.status_code == 202 and started.json()["connection"] == "local"


def test_idempotency_keys_are_per_account(
    api_manager: APIClient, django_user_model, library, sample_crm
):
    other = django_user_model.objects.create_user("other", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(other)
    body = {"sop": "follow-up", "record_id": "c-002", "idempotency_key": "same"}
    mine = api_manager.post("/api/runs/", body, format="json").json()
    theirs = client.post("/api/runs/", body, format="json").json()
    assert mine["id"] != theirs["id"]
