"""Deal review severity floors: a risk the taxonomy rates high (or medium) may not be rated lower,
so the health that follows from it is never rosier than the rules allow."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from salesops.skills.registry import OFFLINE_SKILLS
from salesops.specs import cel_functions
from salesops.specs.deal_stages import DEFAULT_NORM_DAYS, LATE_STAGES, STAGE_NORM_DAYS
from salesops.verify import verify_result
from tests.skills.conftest import NOW, SampleCrm, build_document

ROOT = Path(__file__).resolve().parents[2]
TODAY = NOW.date()


@pytest.fixture(scope="module")
def spec() -> Any:
    from salesops.skills.registry import offline_skill_names, tool_skill_names
    from salesops.specs.library import load_library

    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    return library.sops["deal-review"].spec


def deal(props: dict[str, Any], contacts: int = 2, **kwargs: Any) -> dict[str, Any]:
    base = {"name": "Acme", "stage": "presentationscheduled", "amount": 40000,
            "close_date": TODAY + timedelta(days=40)}  # fmt: skip
    people = [
        {"id": f"c-{i}", "first_name": f"P{i}", "job_title": "VP Sales"} for i in range(contacts)
    ]
    return build_document("deal", {**base, **props}, contacts=people, **kwargs)


def review(kind: str, severity: str) -> dict[str, Any]:
    """A review listing one risk; the health follows from the severity as the taxonomy says."""
    health = {"high": "red", "medium": "amber", "low": "green"}[severity]
    risk = {"type": kind, "severity": severity, "summary": "A risk.",
            "evidence": [{"claim": "Stage", "field": "stage", "value": "x"}]}  # fmt: skip
    return {"health": health, "risks": [risk], "next_steps": ["Agree the close plan."],
            "forecast_category": "pipeline", "summary": "A review."}  # fmt: skip


def status(spec: Any, doc: dict[str, Any], result: dict[str, Any], check_id: str) -> str:
    report = verify_result(spec, result, doc, now=NOW, origin="rules")
    (found,) = [o for o in report.outcomes if o.id == check_id]
    return found.status


def ago(days: int) -> Any:
    return NOW - timedelta(days=days)


# (check, record props, contacts, activities, risk type, severity too low, severity floor)
FLOORS = [
    ("severity-no-recent-activity", {}, 2, 35, "no_recent_activity", "medium", "high"),
    ("severity-no-recent-activity", {}, 2, 20, "no_recent_activity", "low", "medium"),
    ("severity-close-date-past", {"close_date": TODAY - timedelta(days=20)}, 2, 1,
     "close_date_past", "medium", "high"),
    ("severity-close-date-past", {"close_date": TODAY - timedelta(days=5),
     "stage": "contractsent"}, 2, 1, "close_date_past", "medium", "high"),
    ("severity-close-date-past", {"close_date": TODAY - timedelta(days=5),
     "stage": "Contract Sent"}, 2, 1, "close_date_past", "medium", "high"),
    ("severity-close-date-past", {"close_date": TODAY - timedelta(days=5)}, 2, 1,
     "close_date_past", "low", "medium"),
    ("severity-close-date-pushed", {"close_date_changes": 3}, 2, 1, "close_date_pushed",
     "medium", "high"),
    ("severity-close-date-pushed", {"close_date_changes": 2}, 2, 1, "close_date_pushed",
     "low", "medium"),
    ("severity-stalled-in-stage", {"stage_entered_at": ago(50)}, 2, 1, "stalled_in_stage",
     "medium", "high"),
    ("severity-stalled-in-stage", {"stage_entered_at": ago(30)}, 2, 1, "stalled_in_stage",
     "low", "medium"),
    ("severity-single-threaded", {"amount": 150000}, 1, 1, "single_threaded", "medium", "high"),
    ("severity-late-stage-risks", {"stage": "decisionmakerboughtin"}, 2, 1, "buyer_went_quiet",
     "medium", "high"),
    ("severity-late-stage-risks", {"stage": "contractsent"}, 2, 1, "competitor_unaddressed",
     "medium", "high"),
    ("severity-no-economic-buyer", {"stage": "contractsent", "amount": 60000}, 2, 1,
     "no_economic_buyer", "medium", "high"),
]  # fmt: skip


@pytest.mark.parametrize(("check_id", "props", "contacts", "days", "kind", "low", "floor"), FLOORS)
def test_a_risk_rated_below_the_taxonomys_floor_fails(
    spec: Any, check_id: str, props: Any, contacts: int, days: int, kind: str, low: str, floor: str
) -> None:
    activities = [{"id": "a-1", "kind": "call", "days_ago": days, "subject": "Check-in"}]
    doc = deal(props, contacts, activities=activities)

    assert status(spec, doc, review(kind, low), check_id) == "failed"
    assert status(spec, doc, review(kind, floor), check_id) == "passed"
    assert status(spec, doc, review(kind, "high"), check_id) == "passed"


@pytest.mark.parametrize(
    ("props", "days", "kind"),
    [
        ({"stage_entered_at": ago(30)}, 1, "stalled_in_stage"),  # under twice the 21-day norm
        ({"close_date": TODAY - timedelta(days=5)}, 1, "close_date_past"),  # mid-funnel, 5 days
        ({"close_date_changes": 2}, 1, "close_date_pushed"),
        ({}, 20, "no_recent_activity"),
        ({"stage": "presentationscheduled"}, 1, "competitor_unaddressed"),
    ],
)
def test_medium_is_enough_below_the_high_thresholds(
    spec: Any, props: Any, days: int, kind: str
) -> None:
    activities = [{"id": "a-1", "kind": "call", "days_ago": days, "subject": "Check-in"}]
    doc = deal(props, activities=activities)
    report = verify_result(spec, review(kind, "medium"), doc, now=NOW, origin="rules")

    failed = [o.id for o in report.outcomes if o.id.startswith("severity") and o.status != "passed"]
    assert failed == []


def test_the_failure_says_which_rule_was_broken(spec: Any) -> None:
    doc = deal({"close_date_changes": 4})
    report = verify_result(spec, review("close_date_pushed", "medium"), doc, now=NOW)

    (found,) = [o for o in report.outcomes if o.id == "severity-close-date-pushed"]
    assert (found.kind, found.status) == ("acceptance", "failed")
    assert "moved 3+ times is a high close_date_pushed risk" in found.message


def test_an_overdue_late_stage_deal_cannot_be_rated_amber(spec: Any) -> None:
    """The health that follows from an under-rated risk is what the floor protects."""
    doc = deal({"stage": "contractsent", "close_date": TODAY - timedelta(days=12)})
    rosy = review("close_date_past", "medium")  # amber, 12 days overdue in contract sent

    report = verify_result(spec, rosy, doc, now=NOW, origin="rules")

    failed = {o.id for o in report.outcomes if o.status == "failed"}
    assert "severity-close-date-past" in failed
    assert not report.writable


@pytest.mark.parametrize(
    ("severities", "health", "check_id"),
    [
        (["medium"], "green", "green-has-at-most-one-low-risk"),
        (["low", "low"], "green", "green-has-at-most-one-low-risk"),
        (["medium", "medium", "medium"], "amber", "three-mediums-make-red"),
    ],
)
def test_health_follows_from_the_severities(
    spec: Any, severities: list[str], health: str, check_id: str
) -> None:
    kinds = ["stalled_in_stage", "single_threaded", "pricing_not_discussed"]
    result = review("stalled_in_stage", "low")
    result["risks"] = [
        {**result["risks"][0], "type": kind, "severity": severity}
        for kind, severity in zip(kinds, severities, strict=False)
    ]
    result["health"] = health

    assert status(spec, deal({}), result, check_id) == "failed"


def test_the_offline_review_of_every_sample_deal_meets_every_floor(spec: Any) -> None:
    crm = SampleCrm(json.loads((ROOT / "sop_library/sample_data/crm.json").read_text()), NOW)
    checked = 0
    for record_id in crm.ids("deal"):
        doc = crm.document("deal", record_id)
        if doc["stage"] in ("closedwon", "closedlost"):
            continue
        result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)
        report = verify_result(spec, result, doc, now=NOW, origin="rules")
        failed = [o for o in report.outcomes if o.kind == "acceptance" and o.status != "passed"]
        assert failed == [], (record_id, failed)
        checked += 1
    assert checked >= 15


def test_the_cel_helpers_agree_with_the_stage_tables() -> None:
    for stage in LATE_STAGES:
        assert cel_functions.late_stage(stage)
    for stage, days in STAGE_NORM_DAYS.items():
        assert cel_functions.stage_norm_days(stage) == days
    assert cel_functions.stage_norm_days("somethingelse") == DEFAULT_NORM_DAYS
    assert cel_functions.late_stage("Negotiation/Review") and not cel_functions.late_stage("")


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("late_stage", "Contract Sent"), True),
        (("late_stage", "decisionmakerboughtin"), True),
        (("late_stage", "presentationscheduled"), False),
        (("late_stage", None), False),
        (("stage_norm_days", "qualifiedtobuy"), 21),
        (("stage_norm_days", "somethingelse"), 30),
        (("severity_at_least", "high", "medium"), True),
        (("severity_at_least", "medium", "medium"), True),
        (("severity_at_least", "low", "medium"), False),
        (("days_between", "2025-06-01T15:00:00Z", "2025-06-11T10:00:00Z"), 9),  # whole days
        (("days_between", "2025-06-01", "2025-06-11T10:00:00Z"), 10),
        (("days_between", "2025-06-11", "2025-06-01"), -10),
    ],
)
def test_the_severity_helpers(call: tuple[Any, ...], expected: Any) -> None:
    name, *args = call
    assert cel_functions.PLAIN_FUNCTIONS[name](*args) == expected
