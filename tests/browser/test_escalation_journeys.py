"""A reviewer works the escalation queue: approves one, edits then approves one, rejects one."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.local import models as crm
from salesops.models import Escalation, Run


def open_from_queue(page: Any, escalation: Escalation) -> None:
    """From the review queue to the escalation's decision form."""
    page.goto("/admin/salesops/escalation/")
    page.locator(f"#result_list a[href$='/escalation/{escalation.pk}/change/']").first.click()
    page.wait_for_selector("input[name=decision]")


def decide(page: Any, label: str) -> None:
    page.get_by_label(label, exact=True).check()


def save(page: Any) -> None:
    page.click("input[name=_save]")


@pytest.mark.usefixtures("sync_queue")
def test_approving_an_escalation_writes_the_result(
    manager_page: Any, open_escalation: Escalation, guide_shot
):
    page = manager_page
    open_from_queue(page, open_escalation)
    guide_shot(page, "escalation-review")
    decide(page, "Approve as is")
    page.fill("#id_note", "enterprise is fine")
    save(page)
    success = page.wait_for_selector(".messagelist .success")
    assert "approved" in success.inner_text()

    open_escalation.refresh_from_db()
    assert open_escalation.status == Escalation.Status.APPROVED
    run = Run.objects.get(pk=open_escalation.run_id)
    assert run.state == Run.State.WRITTEN
    output: dict[str, Any] = run.output or {}
    assert crm.Contact.objects.get(pk=run.record_id).ai_tier == output["tier"]
    # Decided: it left the queue of open escalations.
    assert (
        page.locator(f"#result_list a[href$='/escalation/{open_escalation.pk}/change/']").count()
        == 0
    )


def test_rejecting_needs_a_reason_then_writes_nothing(
    manager_page: Any, open_escalation: Escalation
):
    page = manager_page
    notes = crm.Note.objects.count()
    open_from_queue(page, open_escalation)
    decide(page, "Reject")
    save(page)
    error = page.wait_for_selector(".errorlist")
    assert "A rejection needs a reason." in error.inner_text()
    open_escalation.refresh_from_db()
    assert open_escalation.status == Escalation.Status.OPEN

    decide(page, "Reject")
    page.fill("#id_note", "wrong tier for this org")
    save(page)
    success = page.wait_for_selector(".messagelist .success")
    assert "rejected" in success.inner_text()
    open_escalation.refresh_from_db()
    assert open_escalation.status == Escalation.Status.REJECTED
    assert open_escalation.decision_note == "wrong tier for this org"
    assert crm.Note.objects.count() == notes


@pytest.mark.usefixtures("sync_queue")
def test_an_edited_result_is_checked_then_written(
    manager_page: Any, open_escalation: Escalation, guide_shot
):
    page = manager_page
    run = Run.objects.get(pk=open_escalation.run_id)
    summary = "Reviewed by a manager: keep in the enterprise queue."
    open_from_queue(page, open_escalation)
    page.get_by_role("link", name="Edit and approve", exact=True).click()
    page.wait_for_selector("#edit-approve-form")
    page.fill("#id_summary", summary)

    # "Check only" runs every check on the edit and saves nothing.
    page.get_by_role("button", name="Check only").click()
    checks = page.wait_for_selector("#edit-checks")
    assert checks.inner_text().strip()
    assert page.locator("#id_summary").input_value() == summary
    guide_shot(page, "escalation-edit-approve")
    open_escalation.refresh_from_db()
    assert open_escalation.status == Escalation.Status.OPEN

    page.get_by_role("button", name="Approve with these edits").click()
    success = page.wait_for_selector(".messagelist .success")
    assert "approved with your edit" in success.inner_text()
    open_escalation.refresh_from_db()
    assert open_escalation.status == Escalation.Status.APPROVED
    assert (open_escalation.edited_output or {}).get("summary") == summary
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN
    assert (run.output or {}).get("summary") == summary
