"""Reviewers approve, edit then approve, or reject escalated runs from the admin queue."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.test import Client
from django.urls import reverse

from connectors.local import models as crm
from salesops.models import Escalation, Run
from salesops.services.connections import connection_local
from salesops.services.escalations import EscalationError, escalation_reject

pytestmark = pytest.mark.django_db


def decide(client: Client, escalation: Escalation, **data: str):
    return client.post(reverse("admin:salesops_escalation_change", args=[escalation.pk]), data)


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def test_it_lists_only_open_escalations_by_default(as_manager: Client, escalation: Escalation):
    decided = Escalation.objects.create(
        run=Run.objects.create(
            connection=connection_local(),
            sop=escalation.run.sop,
            sop_version=escalation.run.sop_version,
            object_type="contact",
            record_id="c-002",
            trigger="manual",
            idempotency_key="decided",
            state="escalated",
        ),
        reason="old",
        status=Escalation.Status.REJECTED,
    )
    url = reverse("admin:salesops_escalation_changelist")
    shown = list(as_manager.get(url).context["cl"].result_list)
    assert escalation in shown and decided not in shown
    assert decided in list(as_manager.get(url, {"status": "all"}).context["cl"].result_list)


def test_it_shows_the_output_and_the_failed_checks(as_manager: Client, escalation: Escalation):
    response = as_manager.get(reverse("admin:salesops_escalation_change", args=[escalation.pk]))
    body = response.content.decode()
    for check in escalation.checks:
        assert check["id"] in body
    form = response.context["adminform"].form
    assert json.loads(form["edited_result"].value()) == escalation.run.output


def test_approving_writes_the_result_to_the_crm(
    as_manager: Client,
    escalation: Escalation,
    manager,
    sync_queue,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(as_manager, escalation, decision="approve", note="enterprise is fine")
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.APPROVED
    assert escalation.decided_by == manager and escalation.decision_note == "enterprise is fine"
    run = escalation.run
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN
    contact = crm.Contact.objects.get(pk=run.record_id)
    assert contact.ai_tier == run.output["tier"]


def test_an_edited_result_is_written_instead(
    as_manager: Client, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    edited = copy.deepcopy(escalation.run.output)
    edited["summary"] = "Reviewed by a manager: keep in the enterprise queue."
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(as_manager, escalation, decision="edit", edited_result=json.dumps(edited))
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.edited_output == edited
    escalation.run.refresh_from_db()
    assert escalation.run.state == Run.State.WRITTEN
    assert escalation.run.output == edited


def test_it_shows_invalid_json_as_a_field_error(as_manager: Client, escalation: Escalation):
    response = decide(as_manager, escalation, decision="edit", edited_result="{not json")
    assert response.status_code == 200
    assert "Not valid JSON" in form_errors(response)["edited_result"][0]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_it_shows_failing_schema_and_grounding_checks_as_errors(
    as_manager: Client, escalation: Escalation
):
    edited = copy.deepcopy(escalation.run.output)
    edited["score"] = "very high"  # schema: not an integer
    edited["rationale"][0]["value"] = "a fact the record does not hold"  # grounding
    response = decide(as_manager, escalation, decision="edit", edited_result=json.dumps(edited))
    assert response.status_code == 200
    errors = form_errors(response)["edited_result"]
    assert any(e.startswith("schema") for e in errors)
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN and escalation.edited_output is None


def test_rejecting_needs_a_reason(as_manager: Client, escalation: Escalation):
    response = decide(as_manager, escalation, decision="reject", note="  ")
    assert response.status_code == 200
    assert form_errors(response)["note"] == ["A rejection needs a reason."]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_rejecting_writes_nothing(as_manager: Client, escalation: Escalation):
    notes = crm.Note.objects.count()
    response = decide(as_manager, escalation, decision="reject", note="wrong tier for this org")
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED
    assert escalation.decision_note == "wrong tier for this org"
    assert crm.Note.objects.count() == notes


def test_a_decision_taken_meanwhile_is_a_form_error(
    as_manager: Client, escalation: Escalation, monkeypatch: pytest.MonkeyPatch
):
    # Another reviewer decides between this page's read and the service's conditional update.
    def too_late(**kwargs: object) -> None:
        raise EscalationError(f"escalation {escalation.pk} was already decided")

    monkeypatch.setattr("salesops.admin.forms.escalation_approve", too_late)
    response = decide(as_manager, escalation, decision="approve")
    assert response.status_code == 200
    assert "already decided" in form_errors(response)[NON_FIELD_ERRORS][0]


def test_a_decided_escalation_is_shown_read_only(as_manager: Client, escalation: Escalation):
    escalation_reject(escalation=escalation, user=None, reason="someone else was faster")
    page = reverse("admin:salesops_escalation_change", args=[escalation.pk])
    response = as_manager.get(page)
    assert response.status_code == 200
    assert b"someone else was faster" in response.content
    assert b'name="decision"' not in response.content
    assert decide(as_manager, escalation, decision="approve").status_code == 403
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED


def test_the_bulk_actions_approve_and_reject(
    as_manager: Client, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    url = reverse("admin:salesops_escalation_changelist")
    ask = as_manager.post(url, {"action": "reject_selected", "_selected_action": [escalation.pk]})
    assert ask.status_code == 200
    assert b'name="reason"' in ask.content
    empty = as_manager.post(
        url,
        {
            "action": "reject_selected",
            "apply": "1",
            "reason": "",
            "_selected_action": [escalation.pk],
        },
    )
    assert empty.status_code == 200 and empty.context["form"].errors["reason"]
    with django_capture_on_commit_callbacks(execute=True):
        done = as_manager.post(
            url, {"action": "approve_selected", "_selected_action": [escalation.pk]}, follow=True
        )
    assert b"Decided 1 escalation(s)." in done.content
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.APPROVED


def test_the_bulk_reject_records_the_reason(as_manager: Client, escalation: Escalation):
    url = reverse("admin:salesops_escalation_changelist")
    response = as_manager.post(
        url,
        {
            "action": "reject_selected",
            "apply": "1",
            "reason": "duplicate lead",
            "_selected_action": [escalation.pk],
        },
        follow=True,
    )
    assert b"Decided 1 escalation(s)." in response.content
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED
    assert escalation.decision_note == "duplicate lead"


HOSTILE_EDITS = {
    "deeply nested": '{"summary": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "a 5,000-digit integer": '{"score": ' + "9" * 5000 + "}",
    "a 4,000-digit integer": '{"score": ' + "9" * 4000 + "}",
    "a lone surrogate": '{"summary": "\\ud800"}',
    "a NUL character": '{"summary": "a\\u0000b"}',
    "NaN": '{"score": NaN}',
}


@pytest.mark.parametrize("name", HOSTILE_EDITS)
def test_it_shows_a_hostile_edit_as_a_field_error(
    as_manager: Client, escalation: Escalation, name: str
):
    response = decide(as_manager, escalation, decision="edit", edited_result=HOSTILE_EDITS[name])
    assert response.status_code == 200
    assert form_errors(response)["edited_result"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN and escalation.edited_output is None


def test_it_names_the_limit_a_deep_edit_exceeds(as_manager: Client, escalation: Escalation):
    response = decide(
        as_manager, escalation, decision="edit", edited_result=HOSTILE_EDITS["deeply nested"]
    )
    assert "nested" in form_errors(response)["edited_result"][0]
