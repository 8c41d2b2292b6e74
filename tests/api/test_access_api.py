"""API access follows the admin's permissions: staff alone is not enough, viewers only read,
deciding an escalation and publishing an SOP version need their own explicit permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from connectors.local import models as crm
from salesops.models import Escalation, Run, Sop

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/sops/"),
    ("get", "/api/sops/lead-qualification/"),
    ("post", "/api/sops/lead-qualification/versions/"),
    ("get", "/api/runs/"),
    ("post", "/api/runs/"),
    ("get", "/api/runs/1/"),
    ("get", "/api/escalations/"),
    ("post", "/api/escalations/1/approve/"),
    ("post", "/api/escalations/1/reject/"),
]


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def staff_with(django_user_model: Any, *codenames: str) -> Any:
    """A staff user holding exactly these salesops permissions."""
    user = django_user_model.objects.create_user("someone", "s@example.com", "pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="salesops", codename__in=codenames)
    assert perms.count() == len(codenames), codenames
    user.user_permissions.set(perms)
    return user


def new_title(sop_name: str) -> str:
    """The published text of `sop_name` with another title: a valid new version."""
    text = Sop.objects.get(name=sop_name).published_version.text
    return text.replace("title: ", "title: Renamed ", 1)


def writes(escalation: Escalation) -> list[tuple[str, dict[str, Any]]]:
    """Valid requests that would change something if they were allowed."""
    record_id = crm.Contact.objects.order_by("id").values_list("id", flat=True)[0]
    return [
        ("/api/sops/lead-qualification/versions/", {"text": new_title("lead-qualification")}),
        ("/api/runs/", {"sop": "lead-qualification", "record_id": record_id}),
        (f"/api/escalations/{escalation.pk}/approve/", {"note": "looks fine"}),
        (f"/api/escalations/{escalation.pk}/reject/", {"reason": "not a fit"}),
    ]


def reads(escalation: Escalation) -> list[str]:
    return [
        "/api/sops/",
        "/api/sops/lead-qualification/",
        "/api/runs/",
        f"/api/runs/{escalation.run_id}/",
        "/api/escalations/",
    ]


def assert_nothing_changed(escalation: Escalation, runs: int) -> None:
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN
    assert Run.objects.count() == runs
    assert Sop.objects.get(name="lead-qualification").versions.count() == 1


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_refuses_a_rep(api_rep: APIClient, method: str, url: str):
    response = getattr(api_rep, method)(url, {}, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_refuses_an_outsider(api_outsider: APIClient, method: str, url: str):
    response = getattr(api_outsider, method)(url, {}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail", "errors"}


def test_it_refuses_staff_without_model_permissions_everywhere(
    staff_without_permissions, escalation: Escalation
):
    client = client_for(staff_without_permissions)
    runs = Run.objects.count()
    for url in reads(escalation):
        response = client.get(url)
        assert response.status_code == 403, url
        assert set(response.json()) == {"detail", "errors"}
    for url, body in writes(escalation):
        response = client.post(url, body, format="json")
        assert response.status_code == 403, url
    assert_nothing_changed(escalation, runs)


def test_a_viewer_reads_everything(viewer, escalation: Escalation):
    client = client_for(viewer)
    for url in reads(escalation):
        assert client.get(url).status_code == 200, url
    body = client.get(f"/api/runs/{escalation.run_id}/").json()
    assert body["record_id"] == escalation.run.record_id


def test_a_viewer_neither_decides_nor_publishes_nor_starts_runs(viewer, escalation: Escalation):
    client = client_for(viewer)
    runs = Run.objects.count()
    for url, body in writes(escalation):
        response = client.post(url, body, format="json")
        assert response.status_code == 403, url
        assert "salesops." in response.json()["detail"], response.json()
    assert_nothing_changed(escalation, runs)


def test_deciding_needs_the_decide_permission_not_just_change(
    django_user_model, escalation: Escalation
):
    client = client_for(staff_with(django_user_model, "view_escalation", "change_escalation"))
    url = f"/api/escalations/{escalation.pk}/reject/"
    response = client.post(url, {"reason": "not a fit"}, format="json")
    assert response.status_code == 403
    assert "salesops.decide_escalation" in response.json()["detail"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_a_reviewer_with_the_decide_permission_decides(django_user_model, escalation: Escalation):
    reviewer = staff_with(
        django_user_model, "view_escalation", "change_escalation", "decide_escalation"
    )
    url = f"/api/escalations/{escalation.pk}/reject/"
    response = client_for(reviewer).post(url, {"reason": "not a fit"}, format="json")
    assert response.status_code == 200
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED


def test_an_editor_saves_drafts_but_publishing_needs_the_publish_permission(
    django_user_model, library
):
    client = client_for(staff_with(django_user_model, "view_sop", "change_sop"))
    url = "/api/sops/lead-qualification/versions/"
    text = new_title("lead-qualification")
    refused = client.post(url, {"text": text, "publish": True}, format="json")
    assert refused.status_code == 403
    assert "salesops.publish_sopversion" in refused.json()["detail"]
    sop = Sop.objects.get(name="lead-qualification")
    assert sop.versions.count() == 1
    draft = client.post(url, {"text": text}, format="json")
    assert draft.status_code == 201 and draft.json()["published"] is False
    assert Sop.objects.get(name="lead-qualification").published_version.number == 1


def test_a_new_sop_over_the_api_needs_the_add_permission(django_user_model, library):
    client = client_for(staff_with(django_user_model, "view_sop", "change_sop"))
    text = Sop.objects.get(name="follow-up").published_version.text.replace(
        "name: follow-up", "name: follow-up-copy", 1
    )
    response = client.post("/api/sops/follow-up-copy/versions/", {"text": text}, format="json")
    assert response.status_code == 403
    assert "salesops.add_sop" in response.json()["detail"]
    assert not Sop.objects.filter(name="follow-up-copy").exists()


def test_the_manager_reads_everything(api_manager: APIClient, escalation: Escalation):
    for url in reads(escalation):
        assert api_manager.get(url).status_code == 200, url


def test_the_viewers_group_holds_view_permissions_only(viewer):
    codenames = set(viewer.get_all_permissions())
    assert "salesops.view_run" in codenames and "salesops.view_escalation" in codenames
    assert all(c.split(".")[1].startswith("view_") for c in codenames), codenames
