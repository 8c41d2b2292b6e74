"""A manager edits an SOP (an error first, then the fix), reads the diff and tries it in shadow."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.local import models as crm
from salesops.models import Run, Sop, SopVersion
from salesops.services.sops import sop_version_create
from tests.browser.conftest import published

OLD_TITLE = "title: Lead qualification"
NEW_TITLE = "title: Lead triage"


def open_sop(page: Any, name: str) -> None:
    """From the SOP list to the SOP's edit page, by clicking as a manager would."""
    page.goto("/admin/salesops/sop/")
    page.locator("#result_list").get_by_role("link", name=name, exact=True).click()
    page.wait_for_selector("textarea#id_text")


@pytest.mark.usefixtures("library")
def test_an_sop_edit_with_an_error_shows_it_inline_then_the_fix_is_saved(
    manager_page: Any, guide_shot
):
    page = manager_page
    sop = Sop.objects.get(name="lead-qualification")
    open_sop(page, "lead-qualification")
    text = page.locator("#id_text").input_value()
    assert OLD_TITLE in text

    page.fill("#id_text", text.replace("object: contact", "object: planet"))
    page.check("#id_publish")
    page.click("input[name=_save]")
    error = page.wait_for_selector(".errorlist")
    assert "object" in error.inner_text()
    assert page.locator(".errornote").is_visible()
    guide_shot(page, "sop-edit-error")
    assert SopVersion.objects.filter(sop=sop).count() == 1

    # The form kept the manager's text: fix the mistake and change the title instead.
    kept = page.locator("#id_text").input_value()
    assert "object: planet" in kept
    fixed = kept.replace("object: planet", "object: contact").replace(OLD_TITLE, NEW_TITLE)
    page.fill("#id_text", fixed)
    page.check("#id_publish")
    page.click("input[name=_save]")
    success = page.wait_for_selector(".messagelist .success")
    assert "lead-qualification" in success.inner_text()
    sop.refresh_from_db()
    assert published(sop).number == 2
    assert sop.title == "Lead triage"


@pytest.mark.usefixtures("library")
def test_the_version_page_shows_the_diff_to_the_previous_version(manager_page: Any, guide_shot):
    page = manager_page
    sop = Sop.objects.get(name="lead-qualification")
    text = published(sop).text.replace(OLD_TITLE, NEW_TITLE)
    sop_version_create(sop_name=sop.name, text=text, publish=False)

    open_sop(page, "lead-qualification")
    page.get_by_role("link", name="v2", exact=True).first.click()
    diff = page.wait_for_selector("pre.sop-diff")
    body = diff.inner_text()
    assert f"-{OLD_TITLE}" in body
    assert f"+{NEW_TITLE}" in body
    guide_shot(page, "sop-version-diff")


@pytest.mark.usefixtures("library", "sample_crm")
def test_a_draft_is_tried_in_shadow_next_to_the_published_version(manager_page: Any, guide_shot):
    page = manager_page
    sop = Sop.objects.get(name="lead-qualification")
    text = published(sop).text.replace(OLD_TITLE, NEW_TITLE)
    draft, _ = sop_version_create(sop_name=sop.name, text=text, publish=False)
    notes = crm.Note.objects.count()

    page.goto(f"/admin/salesops/sopversion/{draft.pk}/change/")
    page.get_by_role("link", name="Try in shadow on a record").click()
    page.fill("#id_record_id", "c-001")
    page.get_by_role("button", name="Run in shadow").click()

    draft_column = page.wait_for_selector("#try-draft")
    published_column = page.wait_for_selector("#try-published")
    assert "v2" in draft_column.inner_text()
    assert "v1" in published_column.inner_text()
    runs = Run.objects.filter(record_id="c-001", shadow=True)
    assert sorted(r.sop_version.number for r in runs) == [1, 2]
    for run in runs:
        assert run.state in (Run.State.VERIFIED, Run.State.ESCALATED)
    guide_shot(page, "sop-try-in-shadow")
    assert crm.Note.objects.count() == notes  # shadow writes nothing


@pytest.mark.usefixtures("library", "sample_crm")
def test_an_unknown_record_is_a_form_error_in_shadow(manager_page: Any):
    page = manager_page
    sop = Sop.objects.get(name="lead-qualification")
    page.goto(f"/admin/salesops/sopversion/{sop.published_version_id}/try/")
    page.fill("#id_record_id", "c-nope")
    page.get_by_role("button", name="Run in shadow").click()
    error = page.wait_for_selector(".errorlist")
    assert "c-nope" in error.inner_text()
    assert not Run.objects.filter(record_id="c-nope").exists()
