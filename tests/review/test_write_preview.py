"""The preview shows exactly what approval writes: compared with what approval then wrote."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connectors.local import models as crm
from salesops.models import Escalation, Run
from salesops.services.write_preview import write_preview
from salesops.writeback import business_days_add

pytestmark = pytest.mark.django_db


def test_each_write_is_shown_with_owner_due_date_and_old_and_new_values(
    deal_escalation: Escalation,
):
    props, note, task = write_preview(deal_escalation.run)
    assert props.kind == "set_property"
    (change,) = props.properties
    assert (change.name, change.current, change.new, change.changed) == (
        "ai_health",
        "-",
        "red",
        True,
    )
    assert note.kind == "note" and "Health: RED" in note.body
    assert "Veridian Health - Enterprise rollout" in note.body
    owner = crm.Owner.objects.get(pk="u-2")
    assert task.kind == "task" and task.subject.startswith("[AI] Deal at risk: Veridian Health")
    assert (task.owner, task.owner_id, task.priority) == (owner.name, "u-2", "HIGH")
    assert task.due_date == business_days_add(timezone.now().date(), 2)


def test_the_preview_is_what_approval_writes(
    as_manager: Client,
    deal_escalation: Escalation,
    sync_queue,
    django_capture_on_commit_callbacks,
):
    preview = write_preview(deal_escalation.run)
    due = preview[2].due_date
    assert due is not None
    url = reverse("admin:salesops_escalation_change", args=[deal_escalation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(url, {"decision": "approve", "note": "ok"})
    assert response.status_code == 302
    run = Run.objects.get(pk=deal_escalation.run_id)
    assert run.state == Run.State.WRITTEN
    written = [w.payload for w in run.writes.order_by("seq")]
    assert written == [
        {"properties": {c.name: c.new for c in preview[0].properties}},
        {"body": preview[1].body},
        {
            "subject": preview[2].subject,
            "body": preview[2].body,
            "due_date": due.isoformat(),
            "owner_id": preview[2].owner_id,
            "priority": preview[2].priority,
        },
    ]


def test_an_edited_result_changes_the_preview(deal_escalation: Escalation):
    output = deal_escalation.run.output
    assert isinstance(output, dict)
    edited = {**output, "summary": "Rewritten by the manager."}
    note = next(i for i in write_preview(deal_escalation.run, edited) if i.kind == "note")
    assert "Rewritten by the manager." in note.body


def test_a_result_the_plan_cannot_use_shows_why_instead_of_failing(
    deal_escalation: Escalation, monkeypatch
):
    from salesops.specs.model import ExpressionError

    def broken(**kwargs):
        raise ExpressionError("result.health is not a string")

    monkeypatch.setattr("salesops.services.write_preview.write_actions", broken)
    (item,) = write_preview(deal_escalation.run)
    assert item.kind == "error" and "result.health is not a string" in item.error


def test_no_result_previews_no_write(deal_escalation: Escalation):
    run = deal_escalation.run
    run.output = None
    assert write_preview(run) == []
