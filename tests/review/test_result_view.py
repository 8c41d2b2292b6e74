"""The result renderer lays out any SOP's result by its output schema (pure, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from salesops.services.result_view import Block, result_view

LIBRARY = Path(__file__).resolve().parents[2] / "sop_library"


def schema_of(name: str) -> dict[str, Any]:
    """The output schema from the SOP file's front matter, as the library holds it."""
    front_matter = (LIBRARY / f"{name}.md").read_text().split("---")[1]
    return yaml.safe_load(front_matter)["output"]


def by_key(blocks: list[Block], key: str) -> Block:
    return next(b for b in blocks if b.key == key)


DEAL = {
    "stage": "contractsent",
    "amount": 150000,
    "close_date_changes": 3,
    "contacts": [{"id": "c-019", "job_title": "Operations Manager"}],
}
REVIEW = {
    "health": "red",
    "risks": [
        {
            "type": "single_threaded",
            "severity": "high",
            "summary": "One contact on a 150k deal.",
            "evidence": [
                {"claim": "Deal amount", "field": "amount", "value": 150000},
                {"claim": "Only contact", "field": "contacts.c-019.job_title", "value": "CFO"},
                {"claim": "Made up", "field": "budget_owner", "value": "Dana"},
            ],
        }
    ],
    "next_steps": ["Ask Dana to introduce the CFO."],
    "forecast_category": "pipeline",
    "summary": "Single-threaded.",
}


def test_classifications_lead_and_risks_carry_their_checked_evidence():
    view = result_view(schema_of("deal-review"), REVIEW, DEAL)
    assert [(b.key, b.display, b.tone) for b in view.headline] == [
        ("health", "red", "bad"),
        ("forecast_category", "pipeline", ""),
    ]
    risks = by_key(view.blocks, "risks")
    assert risks.kind == "items"
    (risk,) = risks.children
    assert [(c.key, c.display) for c in risk.inline] == [
        ("type", "single_threaded"),
        ("severity", "high"),
    ]
    evidence = by_key(risk.rest, "evidence").evidence
    amount, title, missing = evidence
    assert (amount.path, amount.cited, amount.actual, amount.holds) == (
        "amount",
        "150,000",
        "150,000",
        True,
    )
    assert title.found and not title.holds and title.actual == "Operations Manager"
    assert not missing.found and not missing.holds
    assert by_key(view.blocks, "next_steps").entries == ["Ask Dana to introduce the CFO."]
    assert '"single_threaded"' in view.raw


def test_score_and_tier_are_headline_values():
    result = {
        "score": 85,
        "tier": "A",
        "disqualification_reason": None,
        "rationale": [],
        "next_action": "call_within_24h",
        "summary": "Fits.",
    }
    view = result_view(schema_of("lead-qualification"), result, {})
    headline = {b.key: b for b in view.headline}
    assert headline["score"].display == "85" and headline["tier"].tone == "good"
    assert "summary" not in headline and by_key(view.blocks, "summary").display == "Fits."


def test_an_email_reads_as_an_email_to_the_contact():
    result = {
        "email": {"subject": "Next step", "body": "Hi Dana,\n\nThanks."},
        "due_date": "2026-12-02",
        "task_subject": "Send it",
        "priority": "HIGH",
        "references": [],
        "reason": "after_meeting",
    }
    record = {"first_name": "Dana", "last_name": "Reyes", "email": "dana@example.com"}
    email = by_key(result_view(schema_of("follow-up"), result, record).blocks, "email")
    assert email.kind == "email"
    assert (email.to, email.subject, email.body) == (
        "Dana Reyes <dana@example.com>",
        "Next step",
        "Hi Dana,\n\nThanks.",
    )


def test_no_result_and_non_objects_still_render():
    assert result_view({}, None).empty
    (block,) = result_view({"type": "object"}, ["a", 1]).blocks
    assert block.kind == "list" and block.entries == ["a", "1"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("sop", ["deal-review", "lead-qualification", "follow-up"])
@settings(max_examples=60, deadline=None)
@given(result=json_values, record=json_values)
def test_any_json_renders_without_error(sop: str, result: Any, record: Any):
    view = result_view(schema_of(sop), result, record if isinstance(record, dict) else None)
    assert view.raw  # the raw JSON is always available
