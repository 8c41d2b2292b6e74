"""verify_result: schema, grounding, acceptance, judges and escalations, in that order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from verify_helpers import check, escalation, make_spec

from salesops.specs.model import Check
from salesops.verify import JUDGE_UNAVAILABLE, CheckOutcome, verify_result

NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)


def by_id(report):
    return {o.id: o for o in report.outcomes}


def test_it_passes_a_valid_grounded_result(record, good_result):
    spec = make_spec(acceptance=[check("tier-a", lambda a: a["result"]["score"] >= 80)])
    report = verify_result(spec, good_result, record, now=NOW)
    assert report.passed and report.writable
    got = [(o.kind, o.status) for o in report.outcomes]
    assert got == [
        ("schema", "passed"),
        ("grounding", "passed"),  # rationale
        ("grounding", "passed"),  # risks.*.evidence
        ("claims", "passed"),
        ("acceptance", "passed"),
    ]


def test_it_stops_after_schema_errors_naming_the_json_path(record, good_result):
    bad = {**good_result, "score": 120, "extra": 1}
    bad["rationale"] = [{"field": "job_title"}]
    spec = make_spec(acceptance=[check("never-run", lambda a: 1 / 0)])
    report = verify_result(spec, bad, record, now=NOW)
    assert {o.kind for o in report.outcomes} == {"schema"}
    messages = [o.message for o in report.outcomes]
    assert any(m.startswith("$.score:") for m in messages)
    assert any(m.startswith("$.rationale[0]:") and "'value'" in m for m in messages)
    assert any("extra" in m for m in messages)
    assert not report.passed


def test_it_checks_formats_in_the_schema(record, good_result):
    report = verify_result(make_spec(), {**good_result, "due_date": "tomorrow"}, record, now=NOW)
    assert report.outcomes[0].message.startswith("$.due_date:")


def test_it_fails_grounding_for_made_up_fields_and_wrong_values(record, good_result):
    good_result["rationale"] += [
        {"claim": "Big", "field": "company.revenue", "value": 9},
        {"claim": "Size", "field": "company.employees", "value": 9000},
    ]
    report = verify_result(make_spec(), good_result, record, now=NOW)
    grounding = by_id(report)["grounding:rationale"]
    assert grounding.status == "failed"
    assert "rationale[2]: field 'company.revenue' does not exist in the record" in grounding.message
    assert "rationale[3] cites company.employees = 9000 but the record has 250" in grounding.message
    assert not report.passed


def test_it_checks_nested_evidence_paths(record, good_result):
    good_result["risks"] = [
        {"evidence": [{"field": "activities.a-0104.body", "value": "want a demo"}]},
        {"evidence": [{"field": "activities.a-9999.body", "value": "x"}]},
    ]
    outcome = by_id(verify_result(make_spec(), good_result, record, now=NOW))[
        "grounding:risks.*.evidence"
    ]
    assert outcome.status == "failed"
    assert outcome.message == (
        "risks[1].evidence[0]: field 'activities.a-9999.body' does not exist in the record"
    )


def test_it_reports_failed_acceptance_with_the_check_message(record, good_result):
    spec = make_spec(acceptance=[check("tier-b", lambda a: a["result"]["score"] < 80, "B < 80")])
    outcome = by_id(verify_result(spec, good_result, record, now=NOW))["tier-b"]
    assert (outcome.kind, outcome.status, outcome.message) == ("acceptance", "failed", "B < 80")


def test_it_reports_an_expression_error_as_error(record, good_result):
    spec = make_spec(acceptance=[check("broken", lambda a: a["record"]["nope"])])
    outcome = by_id(verify_result(spec, good_result, record, now=NOW))["broken"]
    assert outcome.status == "error" and "could not evaluate" in outcome.message


def test_it_treats_a_non_bool_result_as_an_error(record, good_result):
    spec = make_spec(acceptance=[check("nullish", lambda a: None)])
    assert by_id(verify_result(spec, good_result, record, now=NOW))["nullish"].status == "error"


def test_it_passes_now_and_today_as_iso_strings(record, good_result):
    seen = {}

    def capture(activation):
        seen.update(now=activation["now"], today=activation["today"])
        return True

    verify_result(make_spec(acceptance=[check("c", capture)]), good_result, record, now=NOW)
    assert seen == {"now": "2025-06-11T10:00:00Z", "today": "2025-06-11"}


def test_it_escalates_when_a_condition_is_true(record, good_result):
    spec = make_spec(
        escalate_when=[
            escalation("big", lambda a: a["record"]["company"]["employees"] > 100, "Enterprise"),
            escalation("small", lambda a: False),
            escalation("bad", lambda a: a["record"]["missing"]),
        ]
    )
    report = verify_result(spec, good_result, record, now=NOW)
    outcomes = by_id(report)
    assert (outcomes["big"].kind, outcomes["big"].status) == ("escalation", "escalate")
    assert outcomes["big"].message == "Enterprise"
    assert outcomes["small"].status == "passed"
    assert outcomes["bad"].status == "error"
    assert not report.writable


def test_judge_checks_skip_or_escalate_without_a_judge(record, good_result):
    spec = make_spec(
        acceptance=[
            Check(id="tone", message="m", judge="rubric", when_unavailable="skip"),
            Check(id="facts", message="m", judge="rubric", when_unavailable="escalate"),
        ]
    )
    outcomes = by_id(verify_result(spec, good_result, record, now=NOW))
    assert outcomes["tone"].status == "skipped"
    assert outcomes["tone"].message.startswith(JUDGE_UNAVAILABLE)
    assert outcomes["facts"].status == "escalate"
    assert outcomes["facts"].kind == "judge"


@pytest.mark.parametrize(
    ("origin", "status", "says"),
    [
        ("model", "escalate", "a model's result goes to a human"),
        ("rules", "skipped", "deterministic and reproducible"),
        ("human", "skipped", "a reviewer wrote this result"),
    ],
)
def test_an_unavailable_judge_escalates_a_models_result_and_skips_the_rules_engines(
    record, good_result, origin, status, says
):
    spec = make_spec(acceptance=[Check(id="tone", message="m", judge="rubric")])
    report = verify_result(spec, good_result, record, now=NOW, origin=origin)
    tone = by_id(report)["tone"]
    assert (tone.status, tone.kind) == (status, "judge")
    assert JUDGE_UNAVAILABLE in tone.message and says in tone.message
    assert report.writable is (status == "skipped")


def test_judges_run_only_after_deterministic_checks_pass(record, good_result):
    calls = []

    def judge(chk, result, rec):
        calls.append(chk.id)
        return CheckOutcome(chk.id, "judge", "passed", "fine")

    rubric = Check(id="tone", message="m", judge="rubric")
    passing = make_spec(acceptance=[rubric])
    assert (
        by_id(verify_result(passing, good_result, record, now=NOW, judge=judge))["tone"].status
        == "passed"
    )
    failing = make_spec(acceptance=[check("no", lambda a: False), rubric])
    outcome = by_id(verify_result(failing, good_result, record, now=NOW, judge=judge))["tone"]
    assert outcome.status == "skipped"
    assert calls == ["tone"]


def test_a_crashing_judge_is_a_check_error(record, good_result):
    def judge(chk, result, rec):
        raise TimeoutError("model timed out")

    spec = make_spec(acceptance=[Check(id="tone", message="m", judge="rubric")])
    outcome = by_id(verify_result(spec, good_result, record, now=NOW, judge=judge))["tone"]
    assert outcome.status == "error" and "model timed out" in outcome.message
