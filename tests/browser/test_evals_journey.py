"""A manager turns a decided escalation into an eval case, then runs the evals on a draft."""

from __future__ import annotations

from typing import Any

from salesops.models import Escalation, EvalCase, EvalRun, Sop, Verdict
from salesops.services.escalations import escalation_reject
from salesops.services.sops import sop_version_create
from tests.browser.conftest import published


def test_a_rejected_escalation_becomes_a_case_and_a_draft_is_evaluated(
    manager_page: Any, manager_login: Any, open_escalation: Escalation, guide_shot
):
    page = manager_page
    escalation_reject(escalation=open_escalation, user=manager_login, reason="not a real lead")

    # One click in the queue (decided escalations are listed under "all").
    page.goto("/admin/salesops/escalation/?status=all")
    page.check(f"input[name=_selected_action][value='{open_escalation.pk}']")
    page.select_option("select[name=action]", value="make_eval_case")
    page.click("button[name=index]")
    success = page.wait_for_selector(".messagelist .success")
    assert "Eval case(s) made" in success.inner_text()
    case = EvalCase.objects.get(escalation=open_escalation)
    assert case.expected_verdict == Verdict.NOT_WRITTEN

    sop = Sop.objects.get(name="lead-qualification")
    text = published(sop).text.replace("title: Lead qualification", "title: Lead triage")
    draft, _ = sop_version_create(sop_name=sop.name, text=text, publish=False)
    page.goto(f"/admin/salesops/sopversion/{draft.pk}/change/")
    page.get_by_role("link", name="Run evals and compare with the published version").click()
    page.select_option("#id_engine", value="rules")
    page.get_by_role("button", name="Run evals").click()
    table = page.wait_for_selector("#eval-results")

    row = page.locator("#eval-results tbody tr", has_text=case.name)
    assert row.count() == 1
    draft_run = EvalRun.objects.filter(sop_version=draft).latest("pk")
    published_run = EvalRun.objects.filter(sop_version=published(sop)).latest("pk")
    cells = row.locator("td")
    shown = [cells.nth(i).inner_text() for i in (2, 3)]
    for cell, run in zip(shown, (draft_run, published_run), strict=True):
        result = run.results.get(case_name=case.name)
        # The same lead still goes to review on both versions: "not written" holds.
        assert result.passed, result.differences
        assert cell.startswith("pass"), cell
    assert str(case.name) in table.inner_text()
    guide_shot(page, "evals")
