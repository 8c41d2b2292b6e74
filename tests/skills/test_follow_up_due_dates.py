"""The shipped follow-up SOP's due-date checks hold on every day of the week, weekends included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from salesops.skills.offline import follow_up
from salesops.verify import verify_result

# A week of "nows", Monday 2025-06-09 to Sunday 2025-06-15, at 10:00 UTC.
WEEK = [datetime(2025, 6, 9, 10, 0, tzinfo=UTC) + timedelta(days=n) for n in range(7)]


def due_check(spec, result, doc, now: datetime) -> str:
    report = verify_result(spec, result, doc, now=now, origin="rules")
    (outcome,) = [o for o in report.outcomes if o.id == "due-within-3-business-days"]
    return outcome.status


@pytest.mark.parametrize("now", WEEK, ids=[d.strftime("%a") for d in WEEK])
@pytest.mark.parametrize("days_back", [1, 2, 3])
def test_a_due_date_in_the_past_fails_on_any_day(
    make_document, shipped_sops, now: datetime, days_back: int
):
    spec = shipped_sops["follow-up"]
    doc = make_document(
        "contact",
        {"first_name": "Ana", "last_name": "Silva"},
        activities=[{"id": "a-1", "kind": "email", "direction": "inbound", "days_ago": 9}],
        now=now,
    )
    result = follow_up(doc, now, spec)
    result["due_date"] = (now.date() - timedelta(days=days_back)).isoformat()
    assert due_check(spec, result, doc, now) == "failed"


@pytest.mark.parametrize("now", WEEK, ids=[d.strftime("%a") for d in WEEK])
def test_the_offline_skills_own_due_date_passes_on_any_day(make_document, shipped_sops, now):
    spec = shipped_sops["follow-up"]
    doc = make_document(
        "contact",
        {"first_name": "Ana", "last_name": "Silva"},
        activities=[{"id": "a-1", "kind": "email", "direction": "inbound", "days_ago": 9}],
        now=now,
    )
    result = follow_up(doc, now, spec)
    assert date.fromisoformat(result["due_date"]) >= now.date()
    assert due_check(spec, result, doc, now) == "passed"
