"""The offline follow-up skill on hand-built record documents."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from salesops.skills.context import document_path_get
from salesops.skills.offline import follow_up

NOW = datetime(2025, 6, 13, 15, 0, tzinfo=UTC)  # a Friday


def draft(make_document, props, activities=(), deals=()):
    doc = make_document("contact", props, activities=activities, deals=deals, now=NOW)
    return doc, follow_up(doc, NOW, None)


def test_it_follows_up_after_a_meeting_by_the_next_business_day(make_document):
    doc, result = draft(
        make_document,
        {"first_name": "Zoë", "last_name": "Šimková"},
        [
            {"id": "a-1", "kind": "meeting", "hours_ago": 3, "subject": "Pricing & discount call"},
            {"id": "a-0", "kind": "email", "direction": "inbound", "days_ago": 6},
        ],
    )
    body = result["email"]["body"]
    assert body.startswith("Hi Zoë,")
    assert result["reason"] == "after_meeting"
    assert result["priority"] == "HIGH"
    assert result["due_date"] == "2025-06-16"  # Monday
    assert len(body.split()) <= 150
    assert body.count("?") == 1  # one clear ask
    assert not re.search(r"pric|discount|\$|\{|\[|TBD", body, re.I)  # nothing copied from CRM
    fields = [r["field"] for r in result["references"]]
    assert "activities.a-1.kind" in fields
    for ref in result["references"]:
        assert document_path_get(doc, ref["field"]) == ref["value"]


def test_it_cites_the_latest_real_interaction_when_quiet(make_document):
    _, result = draft(
        make_document,
        {"first_name": "José"},
        [
            {"id": "a-3", "kind": "note", "days_ago": 1, "ai_generated": True},
            {"id": "a-2", "kind": "email", "direction": "outbound", "days_ago": 9},
            {"id": "a-1", "kind": "meeting", "days_ago": 20},
        ],
    )
    assert result["reason"] == "no_recent_activity"
    assert result["references"][0]["field"] == "activities.a-2.kind"
    assert "email I sent last week" in result["email"]["body"]
    assert result["priority"] == "MEDIUM"


def test_it_ignores_meetings_booked_in_the_future(make_document):
    _, result = draft(
        make_document,
        {"first_name": "Ana"},
        [{"id": "a-9", "kind": "meeting", "days_ago": -3}],
    )
    assert result["reason"] == "no_recent_activity"
    assert result["references"] == [
        {"claim": "Greeting uses the contact's first name", "field": "first_name", "value": "Ana"}
    ]


def test_it_uses_a_neutral_greeting_without_a_first_name(make_document):
    _, result = draft(make_document, {})
    assert result["email"]["body"].startswith("Hi there,")
    assert result["references"][0]["field"] == "id"


def test_it_raises_priority_for_a_late_stage_open_deal(make_document):
    _, result = draft(
        make_document,
        {"first_name": "Kai"},
        [{"id": "a-1", "kind": "call", "days_ago": 8, "outcome": "connected"}],
        deals=[{"id": "d-1", "stage": "contractsent", "amount": 20000.0}],
    )
    assert result["priority"] == "HIGH"
    assert "speaking with me" in result["email"]["body"]


def test_it_marks_nurture_contacts_low_priority(make_document):
    _, result = draft(make_document, {"first_name": "Lee", "lifecycle_stage": "subscriber"})
    assert result["priority"] == "LOW"
