"""SOPs over the API: list, detail with the published text, new versions with every issue."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from salesops.models import Sop

pytestmark = pytest.mark.django_db


def test_it_lists_sops_with_their_published_version(api_manager: APIClient, library):
    response = api_manager.get("/api/sops/")
    assert response.status_code == 200
    by_name = {s["name"]: s for s in response.json()}
    assert set(by_name) == {"lead-qualification", "follow-up", "deal-review"}
    assert by_name["lead-qualification"]["published_version"] == 1


def test_it_shows_one_sop_with_its_published_text(api_manager: APIClient, library):
    body = api_manager.get("/api/sops/lead-qualification/").json()
    sop = Sop.objects.get(name="lead-qualification")
    assert body["published_version"] == 1
    assert body["published_text"] == sop.published_version.text
    assert [v["number"] for v in body["versions"]] == [1]


def test_it_answers_404_for_an_unknown_sop(api_manager: APIClient, library):
    response = api_manager.get("/api/sops/nope/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}


def test_it_creates_and_publishes_a_version(api_manager: APIClient, library, manager):
    text = Sop.objects.get(name="lead-qualification").published_version.text.replace(
        "title: Lead qualification", "title: Lead triage"
    )
    response = api_manager.post(
        "/api/sops/lead-qualification/versions/", {"text": text, "publish": True}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["number"] == 2 and response.json()["published"] is True
    sop = Sop.objects.get(name="lead-qualification")
    assert sop.published_version.number == 2 and sop.published_version.author == manager


def test_the_same_text_again_is_not_a_new_version(api_manager: APIClient, library):
    text = Sop.objects.get(name="follow-up").published_version.text
    response = api_manager.post("/api/sops/follow-up/versions/", {"text": text}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] is False


def test_it_answers_400_with_every_spec_issue(api_manager: APIClient, library):
    sop = Sop.objects.get(name="lead-qualification")
    broken = sop.published_version.text.replace("object: contact", "object: planet").replace(
        "skills: [crm-lookup", "skills: [no-such-skill, crm-lookup"
    )
    response = api_manager.post(
        "/api/sops/lead-qualification/versions/", {"text": broken, "publish": True}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "invalid SOP"
    assert len(body["errors"]["text"]) >= 2
    assert any("no-such-skill" in line for line in body["errors"]["text"])
    assert sop.versions.count() == 1


def test_it_answers_400_without_text(api_manager: APIClient, library):
    response = api_manager.post("/api/sops/lead-qualification/versions/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["text"]


def test_it_answers_400_for_a_malformed_body(api_manager: APIClient, library):
    response = api_manager.post(
        "/api/sops/lead-qualification/versions/", "{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}


def test_it_stores_posted_text_with_lf_line_endings(api_manager: APIClient, library):
    text = Sop.objects.get(name="lead-qualification").published_version.text.replace(
        "title: Lead qualification", "title: Lead triage"
    )
    response = api_manager.post(
        "/api/sops/lead-qualification/versions/",
        {"text": text.replace("\n", " \r\n"), "publish": True},
        format="json",
    )
    assert response.status_code == 201
    assert Sop.objects.get(name="lead-qualification").published_version.text == text
