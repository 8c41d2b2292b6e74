"""Every publish path that saves SOP text asks about evals like the publish action does: the
SOP form and the API keep a version that passes fewer eval cases as a draft and say why; a
confirmation publishes it and is recorded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from salesops.models import EvalCase, EvalPublishOverride, Sop
from tests.evals.test_eval_admin import regressing_draft

pytestmark = pytest.mark.django_db
ALWAYS = 'escalate_when:\n  - id: always\n    when: "true"\n    message: Everything.\n'


def regressing_text(case: EvalCase) -> str:
    return case.sop.published_version.text.replace("escalate_when:\n", ALWAYS)


def test_the_sop_form_keeps_a_regressing_edit_as_a_draft_until_confirmed(
    as_manager: Client, written_case: EvalCase, manager
) -> None:
    sop = written_case.sop
    published = sop.published_version
    url = reverse("admin:salesops_sop_change", args=[sop.pk])
    text = regressing_text(written_case)
    held = as_manager.post(url, {"text": text, "publish": "on"})
    assert held.status_code == 200  # the form again, with the reason
    page = held.content.decode()
    assert "not published: it passes 0 of 1 eval cases" in page
    sop.refresh_from_db()
    assert sop.published_version == published
    draft = sop.versions.order_by("-number").first()
    assert draft is not None and draft.text == text and not draft.published  # edit kept

    done = as_manager.post(url, {"text": text, "publish": "on", "publish_fewer_evals": "on"})
    assert done.status_code == 302
    sop.refresh_from_db()
    assert sop.published_version == draft  # the same version, not a new one
    override = EvalPublishOverride.objects.get()
    assert (override.sop_version, override.confirmed_by) == (draft, manager)


def test_the_api_answers_409_for_a_regressing_publish_and_publishes_when_confirmed(
    written_case: EvalCase, manager
) -> None:
    client = APIClient()
    client.force_authenticate(manager)
    sop = written_case.sop
    url = f"/api/sops/{sop.name}/versions/"
    text = regressing_text(written_case)
    held = client.post(url, {"text": text, "publish": True}, format="json")
    assert held.status_code == 409
    body = held.json()
    assert "saved as a draft" in body["detail"] and "publish_fewer_evals" in body["errors"]
    assert Sop.objects.get(pk=sop.pk).published_version == sop.published_version

    confirmed = {"text": text, "publish": True, "publish_fewer_evals": True}
    done = client.post(url, confirmed, format="json")
    assert done.status_code == 200 and done.json()["published"] is True
    assert EvalPublishOverride.objects.get().confirmed_by == manager


def test_a_version_passing_as_many_cases_publishes_from_the_form_at_once(
    as_manager: Client, written_case: EvalCase
) -> None:
    sop = written_case.sop
    text = sop.published_version.text + "\n<!-- reworded -->\n"
    url = reverse("admin:salesops_sop_change", args=[sop.pk])
    assert as_manager.post(url, {"text": text, "publish": "on"}).status_code == 302
    sop.refresh_from_db()
    assert sop.published_version.text.endswith("<!-- reworded -->\n")
    assert not EvalPublishOverride.objects.exists()
    assert regressing_draft  # the same draft shape the publish-action tests use
