"""The rules engine on named sample records: the outcomes docs/sop-library.md promises."""

from __future__ import annotations

import pytest

from salesops.models import Run
from tests.helpers import mirror_sync, run_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def execute(library, sample_crm):
    mirror_sync()  # duplicate-email detection reads the mirror

    def run(sop_name: str, record_id: str) -> Run:
        return run_now(sop_name, record_id, key="named", shadow=True)

    return run


@pytest.mark.parametrize(
    ("record_id", "tier", "reason"),
    [
        ("c-001", "A", None),
        ("c-002", "A", None),
        ("c-003", "B", None),
        ("c-006", "C", None),
        ("c-007", "C", None),
        ("c-014", "disqualified", "personal_email"),
        ("c-015", "disqualified", "student"),
        ("c-016", "disqualified", "competitor_customer"),
        ("c-017", "disqualified", "out_of_territory"),
    ],
)
def test_lead_qualification_tiers(execute, record_id, tier, reason):
    run = execute("lead-qualification", record_id)
    assert run.state == "verified", run.reason
    assert run.output["tier"] == tier
    assert run.output["disqualification_reason"] == reason


def test_a_tier_a_lead_is_called_within_a_day(execute):
    run = execute("lead-qualification", "c-001")
    assert run.output["score"] >= 80 and run.output["next_action"] == "call_within_24h"


@pytest.mark.parametrize(
    ("record_id", "check_id"),
    [
        ("c-009", "enterprise-account"),
        ("c-010", "enterprise-account"),
        ("c-012", "possible-duplicate"),
        ("c-013", "possible-duplicate"),
    ],
)
def test_enterprise_and_duplicate_leads_escalate(execute, record_id, check_id):
    run = execute("lead-qualification", record_id)
    assert run.state == "escalated"
    assert run.steps.filter(kind="check", name=check_id, status="escalate").exists()


@pytest.mark.parametrize(
    ("record_id", "health", "state"),
    [
        ("d-001", "green", "verified"),
        ("d-002", "red", "escalated"),
        ("d-003", "red", "verified"),
        ("d-004", "red", "verified"),
        ("d-005", "amber", "verified"),
        ("d-006", "red", "escalated"),
        ("d-011", "amber", "verified"),
        ("d-013", "red", "verified"),
        ("d-014", "amber", "verified"),
    ],
)
def test_deal_review_health(execute, record_id, health, state):
    run = execute("deal-review", record_id)
    assert run.state == state, run.reason
    assert run.output["health"] == health


def test_a_past_close_date_is_flagged_and_not_forecast_as_commit(execute):
    run = execute("deal-review", "d-004")
    assert any(r["type"] == "close_date_past" for r in run.output["risks"])
    assert run.output["forecast_category"] != "commit"


def test_closed_deals_are_skipped(execute):
    assert execute("deal-review", "d-007").state == "skipped"


def test_follow_up_after_a_meeting_greets_by_real_name(execute):
    run = execute("follow-up", "c-004")
    assert run.state == "verified", run.reason
    assert run.output["reason"] == "after_meeting"
    assert run.output["email"]["body"].startswith("Hi José,")


def test_follow_up_never_goes_to_an_opted_out_contact(execute):
    run = execute("follow-up", "c-011")
    assert run.state == "skipped" and "email_opt_out" in run.reason
    assert run.engine == "" and not run.steps.filter(kind="tool_call").exists()


def test_follow_up_for_a_big_open_deal_escalates(execute):
    assert execute("follow-up", "c-019").state == "escalated"
