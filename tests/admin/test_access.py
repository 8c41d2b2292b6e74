"""Every admin page renders for a manager and sends anyone else to the login page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesops.models import AgentBatch, AgentBatchItem, Escalation, Fragment, Sop, WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "sop",
    "sopversion",
    "run",
    "escalation",
    "webhookevent",
    "fragment",
    "crmrecordmirror",
    "agentbatch",
]


def pages(escalation: Escalation) -> list[str]:
    run = escalation.run
    sop = Sop.objects.get(name="lead-qualification")
    fragment = Fragment.objects.first()
    event = WebhookEvent.objects.create(
        source="local",
        event_id="e-1",
        name="contact.created",
        object_type="contact",
        record_id=run.record_id,
        payload={"id": run.record_id},
        occurred_at=run.queued_at,
    )
    batch = AgentBatch.objects.create(external_id="msgbatch_1", model="claude-sonnet-4-6")
    AgentBatchItem.objects.create(batch=batch, run=run, custom_id=f"run-{run.pk}")
    return [
        *(reverse(f"admin:salesops_{name}_changelist") for name in CHANGELISTS),
        reverse("admin:salesops_agentbatch_change", args=[batch.pk]),
        reverse("admin:salesops_sop_add"),
        reverse("admin:salesops_sop_change", args=[sop.pk]),
        reverse("admin:salesops_sopversion_change", args=[sop.published_version_id]),
        reverse("admin:salesops_sopversion_try", args=[sop.published_version_id]),
        reverse("admin:salesops_run_change", args=[run.pk]),
        reverse("admin:salesops_escalation_change", args=[escalation.pk]),
        reverse("admin:salesops_fragment_change", args=[fragment.pk]),
        reverse("admin:salesops_webhookevent_change", args=[event.pk]),
    ]


def test_it_renders_every_page_for_the_manager(as_manager: Client, escalation: Escalation):
    for url in pages(escalation):
        response = as_manager.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("persona", ["as_rep", "outsider"])
def test_it_sends_everyone_else_to_the_login_page(
    request: pytest.FixtureRequest, persona: str, escalation: Escalation
):
    client = request.getfixturevalue(persona)
    for url in pages(escalation):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_it_refuses_a_shadow_try_posted_by_a_rep(as_rep: Client, escalation: Escalation):
    version = escalation.run.sop_version
    response = as_rep.post(
        reverse("admin:salesops_sopversion_try", args=[version.pk]),
        {"record_id": escalation.run.record_id},
    )
    assert response.status_code == 302
    assert not escalation.run.sop.runs.filter(shadow=True).exists()
