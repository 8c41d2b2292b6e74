"""Grounding rules: how a cited value is compared with the record's value."""

from __future__ import annotations

import pytest

from salesops.verify import evidence_lists, grounding_check, value_matches


@pytest.mark.parametrize(
    ("cited", "actual"),
    [
        ("want a demo", "We   want a DEMO next week."),  # substring, case/space-insensitive
        (250, 250.0),
        (250.0, 250),
        ("250", 250),
        (True, True),
        (None, None),
        ("2025-06-10T09:00:00+00:00", "2025-06-10T09:00:00Z"),  # same instant
        ("Acme Corp", "Acme  Corp"),
    ],
)
def test_it_accepts_values_that_hold(cited, actual):
    assert value_matches(cited, actual)


@pytest.mark.parametrize(
    ("cited", "actual"),
    [
        ("a trial", "We want a demo."),
        (9000, 250),
        (1, True),
        ("true", False),
        ("x", None),
        (None, "x"),
        ("", "something"),
        ([1], [2]),
        ("250 people", 250),
    ],
)
def test_it_rejects_values_that_do_not_hold(cited, actual):
    assert not value_matches(cited, actual)


def test_it_walks_star_paths_with_labels():
    result = {"risks": [{"evidence": [1]}, {"evidence": [2]}, {}]}
    assert list(evidence_lists(result, "risks.*.evidence")) == [
        ("risks[0].evidence", [1]),
        ("risks[1].evidence", [2]),
    ]


def test_it_passes_when_an_optional_evidence_path_is_absent():
    assert grounding_check("rationale", {}, {"id": "x"}).status == "passed"


def test_it_lists_every_bad_item_in_one_outcome():
    record = {"id": "c-1", "job_title": "CFO"}
    result = {
        "rationale": [
            {"field": "job_title", "value": "CEO"},
            "not an item",
            {"value": 1},
            {"field": "job_title"},
            {"field": "job_title", "value": "cfo"},
        ]
    }
    outcome = grounding_check("rationale", result, record)
    assert outcome.id == "grounding:rationale" and outcome.kind == "grounding"
    assert outcome.status == "failed"
    assert outcome.message.split("; ") == [
        "rationale[0] cites job_title = 'CEO' but the record has 'CFO'",
        "rationale[1] is not an evidence item (an object with field and value)",
        "rationale[2] has no field",
        "rationale[3] cites job_title without a value",
    ]


def test_it_fails_when_the_evidence_path_is_not_a_list():
    outcome = grounding_check("rationale", {"rationale": "text"}, {"id": "x"})
    assert outcome.status == "failed" and "not a list" in outcome.message
