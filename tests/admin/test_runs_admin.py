"""The run page is an audit record: timeline, writes, input and output; failed runs can retry."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from salesops.models import Escalation, Run
from salesops.services.connections import connection_local

pytestmark = pytest.mark.django_db


def test_it_shows_the_audit_timeline_in_order(as_manager: Client, written_run: Run):
    response = as_manager.get(reverse("admin:salesops_run_change", args=[written_run.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    steps = list(written_run.steps.order_by("seq"))
    positions = [body.index(f">{s.name}<") for s in steps if f">{s.name}<" in body]
    assert len(positions) >= len(steps) // 2
    assert "audit timeline" in body.lower() and "crm writes" in body.lower()
    assert '"tier":' in body  # output as pretty JSON
    assert written_run.writes.exists()


def test_it_links_an_escalated_run_to_its_escalation(as_manager: Client, escalation: Escalation):
    response = as_manager.get(reverse("admin:salesops_run_change", args=[escalation.run_id]))
    assert (
        reverse("admin:salesops_escalation_change", args=[escalation.pk])
        in response.content.decode()
    )


def test_it_filters_and_searches_runs(as_manager: Client, escalation: Escalation):
    url = reverse("admin:salesops_run_changelist")
    response = as_manager.get(url, {"state": "escalated", "q": escalation.run.record_id})
    assert response.status_code == 200
    assert escalation.run in response.context["cl"].result_list


def test_it_retries_failed_runs_and_leaves_the_rest(
    as_manager: Client, written_run: Run, sync_queue, django_capture_on_commit_callbacks
):
    failed = Run.objects.create(
        connection=connection_local(),
        sop=written_run.sop,
        sop_version=written_run.sop_version,
        object_type="contact",
        record_id=written_run.record_id,
        trigger="manual",
        idempotency_key="failed-1",
        state=Run.State.FAILED,
        reason="CRM read failed: timeout",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(
            reverse("admin:salesops_run_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk, written_run.pk]},
            follow=True,
        )
    body = response.content.decode()
    assert f"Queued again: run {failed.pk}" in body
    assert f"Not failed, left alone: run {written_run.pk} (written)" in body
    failed.refresh_from_db()
    assert failed.attempts == 1  # the queue picked it up again
