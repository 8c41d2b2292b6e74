"""Every admin page renders for a manager, read-only for a viewer; staff without permissions get
a 403 and anyone else the login page. Deciding and publishing need their explicit permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from salesops.models import AgentBatch, AgentBatchItem, Escalation, Fragment, Sop, WebhookEvent
from salesops.services.connections import connection_local
from salesops.services.sops import sop_version_create

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
        connection=connection_local(),
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


def logged_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_it_refuses_staff_without_model_permissions_on_every_page(
    client: Client, staff_without_permissions, escalation: Escalation
):
    as_clerk = logged_in(client, staff_without_permissions)
    for url in pages(escalation):
        assert as_clerk.get(url).status_code == 403, url


def test_a_viewer_reads_every_page_but_adds_nothing(client: Client, viewer, escalation: Escalation):
    as_viewer = logged_in(client, viewer)
    for url in pages(escalation):
        expected = 403 if url == reverse("admin:salesops_sop_add") else 200
        assert as_viewer.get(url).status_code == expected, url


def test_a_viewer_sees_an_escalation_but_cannot_decide_it(
    client: Client, viewer, escalation: Escalation
):
    as_viewer = logged_in(client, viewer)
    url = reverse("admin:salesops_escalation_change", args=[escalation.pk])
    assert b'name="decision"' not in as_viewer.get(url).content
    assert as_viewer.post(url, {"decision": "reject", "note": "no"}).status_code == 403
    changelist = reverse("admin:salesops_escalation_changelist")
    as_viewer.post(changelist, {"action": "approve_selected", "_selected_action": [escalation.pk]})
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_changing_an_escalation_without_the_decide_permission_is_refused(
    client: Client, django_user_model, escalation: Escalation
):
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(codename__in=["view_escalation", "change_escalation"])
    )
    as_clerk = logged_in(client, clerk)
    url = reverse("admin:salesops_escalation_change", args=[escalation.pk])
    assert as_clerk.post(url, {"decision": "reject", "note": "no"}).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="decide_escalation"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # no cached permissions
    as_clerk = logged_in(client, clerk)
    assert as_clerk.post(url, {"decision": "reject", "note": "no"}).status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED


def test_publishing_needs_the_publish_permission(
    client: Client, django_user_model, escalation: Escalation
):
    sop = Sop.objects.get(name="lead-qualification")
    draft, _ = sop_version_create(
        sop_name=sop.name,
        text=sop.published_version.text.replace("title: ", "title: Renamed ", 1),
        source="test",
    )
    editor = django_user_model.objects.create_user("editor", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(codename__in=["view_sopversion", "view_sop", "change_sop"])
    )
    changelist = reverse("admin:salesops_sopversion_changelist")
    publish = {"action": "publish_selected", "_selected_action": [draft.pk]}
    logged_in(client, editor).post(changelist, publish)
    sop.refresh_from_db()
    assert sop.published_version_id != draft.pk
    editor.user_permissions.add(Permission.objects.get(codename="publish_sopversion"))
    logged_in(client, django_user_model.objects.get(pk=editor.pk)).post(changelist, publish)
    sop.refresh_from_db()
    assert sop.published_version_id == draft.pk


def test_the_sop_form_saves_an_editors_text_as_a_draft_and_refuses_to_publish_it(
    client: Client, django_user_model, escalation: Escalation
):
    sop = Sop.objects.get(name="lead-qualification")
    editor = django_user_model.objects.create_user("editor", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(codename__in=["view_sop", "change_sop", "view_sopversion"])
    )
    text = sop.published_version.text.replace("title: ", "title: Renamed ", 1)
    url = reverse("admin:salesops_sop_change", args=[sop.pk])
    response = logged_in(client, editor).post(url, {"text": text, "publish": "on"})
    assert response.status_code == 200
    assert "publishing needs the publish right" in response.content.decode()
    sop.refresh_from_db()
    assert "Renamed" not in sop.published_version.text
    response = logged_in(client, editor).post(url, {"text": text})
    assert response.status_code == 302
    latest = sop.versions.order_by("-number").first()
    assert "Renamed" in latest.text and not latest.published


def test_a_viewer_sees_the_try_page_but_cannot_start_shadow_runs(
    client: Client, viewer, escalation: Escalation
):
    url = reverse("admin:salesops_sopversion_try", args=[escalation.run.sop_version.pk])
    as_viewer = logged_in(client, viewer)
    assert as_viewer.get(url).status_code == 200
    response = as_viewer.post(url, {"record_id": escalation.run.record_id})
    assert response.status_code == 403
    assert not escalation.run.sop.runs.filter(shadow=True).exists()
