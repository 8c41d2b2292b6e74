"""The review queue over the API: list open escalations, approve (maybe edited) or reject."""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from connectors.local import models as crm
from salesops.models import Escalation, Run

pytestmark = pytest.mark.django_db


def url(escalation: Escalation, action: str) -> str:
    return f"/api/escalations/{escalation.pk}/{action}/"


def test_it_lists_open_escalations(api_manager: APIClient, escalation: Escalation):
    body = api_manager.get("/api/escalations/", {"status": "open"}).json()
    assert [e["id"] for e in body["results"]] == [escalation.pk]
    assert body["results"][0]["checks"] == escalation.checks
    assert api_manager.get("/api/escalations/", {"status": "approved"}).json()["count"] == 0


def test_it_answers_400_for_an_unknown_status(api_manager: APIClient, db):
    assert api_manager.get("/api/escalations/", {"status": "maybe"}).status_code == 400


def test_approving_writes_through_the_queue(
    api_manager: APIClient, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_manager.post(url(escalation, "approve"), {"note": "ok"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "manager"
    escalation.run.refresh_from_db()
    assert escalation.run.state == Run.State.WRITTEN


def test_approving_with_an_edit_writes_the_edit(
    api_manager: APIClient, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    edited = copy.deepcopy(escalation.run.output)
    edited["summary"] = "Checked by hand."
    with django_capture_on_commit_callbacks(execute=True):
        response = api_manager.post(
            url(escalation, "approve"), {"edited_output": edited}, format="json"
        )
    assert response.status_code == 200
    escalation.run.refresh_from_db()
    assert escalation.run.output == edited


def test_an_edit_that_breaks_the_schema_is_refused(api_manager: APIClient, escalation: Escalation):
    edited = copy.deepcopy(escalation.run.output)
    edited["tier"] = "Z"
    response = api_manager.post(
        url(escalation, "approve"), {"edited_output": edited}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("decision refused")
    assert response.json()["errors"]["checks"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_rejecting_needs_a_reason(api_manager: APIClient, escalation: Escalation):
    response = api_manager.post(url(escalation, "reject"), {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_rejecting_writes_nothing(api_manager: APIClient, escalation: Escalation):
    notes = crm.Note.objects.count()
    response = api_manager.post(url(escalation, "reject"), {"reason": "not a fit"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_note"] == "not a fit"
    assert crm.Note.objects.count() == notes


def test_a_second_decision_is_a_conflict(api_manager: APIClient, escalation: Escalation):
    api_manager.post(url(escalation, "reject"), {"reason": "no"}, format="json")
    response = api_manager.post(url(escalation, "approve"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("already decided")


def test_it_answers_404_for_an_unknown_escalation(api_manager: APIClient, db):
    response = api_manager.post("/api/escalations/999/approve/", {}, format="json")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
