"""Evals in the admin: cases, "Make eval case", "Run evals", and the publish confirmation."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from salesops.models import Escalation, EvalCase, EvalPublishOverride, SopVersion, Verdict
from salesops.services.escalations import escalation_reject
from salesops.services.sops import sop_version_create

pytestmark = pytest.mark.django_db


def regressing_draft(case: EvalCase) -> SopVersion:
    """A draft that escalates every record: the written case fails on it."""
    text = case.sop.published_version.text.replace(
        "escalate_when:\n",
        'escalate_when:\n  - id: always\n    when: "true"\n    message: Everything.\n',
    )
    draft, _ = sop_version_create(sop_name=case.sop.name, text=text)
    return draft


def publish(client: Client, version: SopVersion, **extra: str):
    data = {"action": "publish_selected", ACTION_CHECKBOX_NAME: [version.pk], **extra}
    return client.post(reverse("admin:salesops_sopversion_changelist"), data)


def test_make_eval_case_from_a_rejected_escalation(as_manager: Client, escalation, manager):
    escalation_reject(escalation=escalation, user=manager, reason="not a lead")
    open_one = Escalation.objects.exclude(pk=escalation.pk).first()
    selected = [escalation.pk] + ([open_one.pk] if open_one else [])
    response = as_manager.post(
        reverse("admin:salesops_escalation_changelist") + "?status=all",
        {"action": "make_eval_case", ACTION_CHECKBOX_NAME: selected},
        follow=True,
    )
    case = EvalCase.objects.get(escalation=escalation)
    assert case.expected_verdict == Verdict.NOT_WRITTEN
    body = response.content.decode()
    assert f"Eval case(s) made: {case}" in body
    assert EvalCase.objects.count() == 1  # the open one (if any) was refused, with a warning


def test_the_case_pages_render_and_filter_by_sop(as_manager: Client, written_case: EvalCase):
    changelist = reverse("admin:salesops_evalcase_changelist")
    response = as_manager.get(changelist, {"sop__id__exact": written_case.sop_id})
    assert list(response.context["cl"].result_list) == [written_case]
    page = as_manager.get(reverse("admin:salesops_evalcase_change", args=[written_case.pk]))
    assert page.status_code == 200 and written_case.record["id"] in page.content.decode()


def test_run_evals_shows_pass_rates_against_the_published_version(
    as_manager: Client, written_case: EvalCase
):
    draft = regressing_draft(written_case)
    version_page = as_manager.get(reverse("admin:salesops_sopversion_change", args=[draft.pk]))
    url = reverse("admin:salesops_sopversion_evals", args=[draft.pk])
    assert url in version_page.content.decode()  # the version page links to it
    assert as_manager.get(url).status_code == 200
    response = as_manager.post(url, {"engine": "rules"})
    comparison = response.context["comparison"]
    assert (comparison.draft.passed, comparison.published.passed, comparison.draft.total) == (
        0,
        1,
        1,
    )
    body = response.content.decode()
    assert "0 / 1" in body and "1 / 1" in body and "will ask for confirmation" in body
    assert "verdict: expected written, got escalated" in body


def test_the_version_action_leads_to_the_evals_page(as_manager: Client, written_case):
    version = written_case.sop.published_version
    response = as_manager.post(
        reverse("admin:salesops_sopversion_changelist"),
        {"action": "run_evals", ACTION_CHECKBOX_NAME: [version.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:salesops_sopversion_evals", args=[version.pk])


def test_a_viewer_sees_the_evals_page_but_cannot_run_them(client: Client, viewer, written_case):
    client.force_login(viewer)
    url = reverse("admin:salesops_sopversion_evals", args=[written_case.sop.published_version_id])
    assert client.post(url, {"engine": "rules"}).status_code == 403


def test_publishing_a_regressing_draft_asks_then_records_the_confirmation(
    as_manager: Client, written_case: EvalCase, manager
):
    draft = regressing_draft(written_case)
    published = written_case.sop.published_version
    asked = publish(as_manager, draft)
    assert asked.status_code == 200
    assert "passes fewer eval cases" in asked.content.decode()
    draft.sop.refresh_from_db()
    assert draft.sop.published_version == published  # not yet
    assert not EvalPublishOverride.objects.exists()

    publish(as_manager, draft, confirm_evals="yes")
    draft.sop.refresh_from_db()
    assert draft.sop.published_version == draft
    override = EvalPublishOverride.objects.get()
    assert (override.sop_version, override.replaced_version) == (draft, published)
    assert (override.draft_passed, override.published_passed, override.total) == (0, 1, 1)
    assert override.confirmed_by == manager and override.confirmed_at is not None


def test_publishing_a_draft_that_passes_as_many_cases_asks_nothing(
    as_manager: Client, written_case: EvalCase
):
    text = written_case.sop.published_version.text + "\n<!-- reworded -->\n"
    draft, _ = sop_version_create(sop_name=written_case.sop.name, text=text)
    response = publish(as_manager, draft)
    assert response.status_code == 302
    draft.sop.refresh_from_db()
    assert draft.sop.published_version == draft
    assert not EvalPublishOverride.objects.exists()
