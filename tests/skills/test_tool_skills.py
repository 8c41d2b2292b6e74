"""Tool skills: registry, argument validation, and each tool's answer."""

from __future__ import annotations

import contextlib
import copy

import pytest

from salesops.skills.registry import (
    OFFLINE_SKILLS,
    TOOL_SKILLS,
    ToolError,
    ToolInputError,
    offline_skill_names,
    tool_call,
    tool_skill_names,
    tools_for,
)


@pytest.fixture
def doc(make_document):
    return make_document(
        "contact",
        {"first_name": "Zoë", "job_title": "VP Sales"},
        company={"id": "co-1", "employees": 250},
        activities=[
            {"id": "a-1", "kind": "email", "days_ago": 1},
            {"id": "a-2", "kind": "meeting", "days_ago": 2},
            {"id": "a-3", "kind": "email", "days_ago": 3},
        ],
    )


def tool(name):
    return next(t for t in tools_for(tool_skill_names()) if t.name == name)


def test_it_lists_tool_and_offline_skills():
    assert tool_skill_names() == {"crm-lookup", "calculators"}
    assert offline_skill_names() == {"lead_qualification", "follow_up", "deal_review"}
    assert set(OFFLINE_SKILLS) == offline_skill_names()


def test_it_returns_tools_for_named_skills_ignoring_knowledge_skills():
    names = [t.name for t in tools_for(["crm-lookup", "bant-rubric", "crm-lookup"])]
    assert names == ["get_field", "list_activities", "get_related"]
    assert all(t.input_schema["type"] == "object" for ts in TOOL_SKILLS.values() for t in ts)


def test_it_reads_a_field_by_path(doc):
    assert tool_call(tool("get_field"), {"path": "company.employees"}, doc)["value"] == 250


def test_it_reports_a_missing_path_as_a_tool_error(doc):
    with pytest.raises(ToolError, match="does not exist"):
        tool_call(tool("get_field"), {"path": "company.revenue"}, doc)


def test_it_rejects_arguments_that_do_not_fit_the_schema(doc):
    with pytest.raises(ToolInputError, match=r"\$: 'path' is a required property"):
        tool_call(tool("get_field"), {}, doc)
    with pytest.raises(ToolInputError, match="limit"):
        tool_call(tool("list_activities"), {"limit": 0}, doc)
    with pytest.raises(ToolInputError, match="must be an object"):
        tool_call(tool("get_field"), ["path"], doc)


def test_it_lists_activities_by_kind_and_limit(doc):
    emails = tool_call(tool("list_activities"), {"kind": "email"}, doc)
    assert [a["id"] for a in emails] == ["a-1", "a-3"]
    assert len(tool_call(tool("list_activities"), {"limit": 1}, doc)) == 1


def test_it_returns_related_records(doc):
    assert tool_call(tool("get_related"), {"kind": "company"}, doc)["employees"] == 250
    with pytest.raises(ToolError, match="no related contacts"):
        tool_call(tool("get_related"), {"kind": "contacts"}, doc)


def test_it_adds_business_days_over_weekends(doc):
    # 2025-06-13 is a Friday.
    assert tool_call(tool("business_days_add"), {"date": "2025-06-13", "days": 1}, doc) == (
        "2025-06-16"
    )
    assert tool_call(tool("business_days_add"), {"date": "2025-06-16", "days": -1}, doc) == (
        "2025-06-13"
    )


def test_it_counts_days_between_dates(doc):
    assert tool_call(tool("days_between"), {"start": "2025-06-01", "end": "2025-06-11"}, doc) == 10
    with pytest.raises(ToolInputError, match="not a date"):
        tool_call(tool("days_between"), {"start": "2025-13-01", "end": "2025-06-11"}, doc)


def test_tools_never_modify_the_record(doc):
    before = copy.deepcopy(doc)
    for t in tools_for(tool_skill_names()):
        with contextlib.suppress(ToolError):
            tool_call(t, {}, doc)
    assert doc == before
