"""A manager opens the dashboard from the admin index and reads an SOP's figures and charts."""

from __future__ import annotations

from typing import Any

import pytest

from salesops.models import Run, Sop
from tests import helpers

RECORDS = ("c-001", "c-002", "c-009", "c-010")


@pytest.fixture
def some_runs(library: Any, sample_crm: Any) -> list[Run]:
    """A few real lead-qualification runs: some written, some escalated."""
    return [
        helpers.run_now("lead-qualification", record_id, key=f"dash-{record_id}")
        for record_id in RECORDS
    ]


def kpi(page: Any, label: str) -> str:
    """The figure of one KPI tile (its label, then the number in bold)."""
    return page.locator(".dash-kpi", has_text=label).first.locator("b").inner_text().strip()


def test_the_dashboard_shows_the_runs_and_charts_them(
    manager_page: Any, some_runs: list[Run], guide_shot
):
    page = manager_page
    page.goto("/admin/")
    page.get_by_role("link", name="Dashboard", exact=True).first.click()
    page.wait_for_selector(".dash-kpis")
    assert kpi(page, "Runs") == str(len(some_runs))
    outcomes = page.locator(".module", has=page.get_by_role("heading", name="Outcomes per day"))
    assert outcomes.locator("svg").count() >= 1
    escalated = sum(run.state == Run.State.ESCALATED for run in some_runs)
    assert escalated, "the sample should escalate at least one of these contacts"
    decisions = page.locator(".module", has=page.get_by_role("heading", name="Reviewer decisions"))
    open_row = decisions.locator("tr", has_text="Still open")
    assert open_row.locator("td").nth(1).inner_text().strip() == str(escalated)
    guide_shot(page, "dashboard")

    # Narrow to one SOP with the filter form: the page keeps that SOP's figures.
    sop = Sop.objects.get(name="lead-qualification")
    page.select_option("select[name=sop]", value=str(sop.pk))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/?*sop=*")
    assert kpi(page, "Runs") == str(len(some_runs))

    page.get_by_role("link", name="Compare two versions").click()
    page.wait_for_selector("form")
    assert "/dashboard/compare/" in page.url
