"""Claim grounding: facts stated in free text must be supported by the record document."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from salesops.skills.registry import OFFLINE_SKILLS
from salesops.verify import verify_result
from salesops.verify.claims import claims_check
from tests.skills.conftest import NOW, SampleCrm, build_document

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(
    p
    for p in (ROOT / "sop_library" / "cases").glob("*.json")
    if "-good-" in p.stem or "-escalate-" in p.stem
)
SOPS = ("lead-qualification", "follow-up", "deal-review")


@pytest.fixture(scope="module")
def sops():
    from salesops.skills.registry import offline_skill_names, tool_skill_names
    from salesops.specs.library import load_library

    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    return {name: loaded.spec for name, loaded in library.sops.items()}


@pytest.fixture(scope="module")
def crm_data():
    return json.loads((ROOT / "sop_library" / "sample_data" / "crm.json").read_text())


@pytest.fixture
def contact():
    """Dana at an 850-person company: a meeting 6 days ago (Thursday), an email 2 days ago."""
    return build_document(
        "contact",
        {"first_name": "Dana", "job_title": "VP of Sales", "created_at": NOW - timedelta(days=40)},
        company={"id": "co-1", "name": "Acme", "employees": 448},
        activities=[
            {"id": "a-1", "kind": "meeting", "days_ago": 6, "subject": "Discovery",
             "body": "Team of 40 regional managers; budget around $240,000."},
            {"id": "a-2", "kind": "email", "days_ago": 2, "subject": "Re: demo",
             "body": "Thanks, great chat 9 days ago.", "direction": "inbound"},
        ],
    )  # fmt: skip


@pytest.fixture
def deal():
    """A 64,000 deal, 60% probability, 3 days past its close date, one call yesterday."""
    return build_document(
        "deal",
        {"name": "Acme", "amount": 64000.0, "probability": 0.6, "stage": "contractsent",
         "close_date": (NOW - timedelta(days=3)).date(), "close_date_changes": 2},
        contacts=[{"id": "c-9", "first_name": "Derek", "job_title": "Director"}],
        activities=[{"id": "a-7", "kind": "call", "days_ago": 1, "subject": "Pricing",
                     "body": "Walked through the order form."}],
    )  # fmt: skip


SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "next_steps": {"type": "array", "items": {"type": "string"}},
    },
}


class _Spec:
    """The two attributes claims_check reads from an SOP: its output schema and its prose."""

    output = SCHEMA
    body = "Deals of 100,000 or more go to review."
    fragments = ()
    acceptance = ()
    escalate_when = ()
    description = ""


def check(doc, summary, *steps):
    result = {"summary": summary, "next_steps": list(steps)}
    return claims_check(_Spec(), result, doc, now=NOW)


def test_it_passes_a_summary_the_record_supports(contact):
    outcome = check(contact, "Met 6 days ago with a team of 40 regional managers; 448 staff.")
    assert (outcome.id, outcome.kind, outcome.status) == ("claims", "claims", "passed")


def test_it_fails_a_made_up_meeting():
    doc = build_document(
        "contact", {"first_name": "Ann"},
        activities=[{"id": "a-1", "kind": "email", "days_ago": 3, "subject": "Hi", "body": "x"}],
    )  # fmt: skip
    outcome = check(doc, "As we said in the meeting, the contract is with legal.")
    assert outcome.status == "failed"
    assert "in the meeting" in outcome.message
    assert check(doc, "As we said in your email, the contract is with legal.").status == "passed"


def test_it_accepts_a_call_that_happened(deal):
    assert check(deal, "Thanks for the call yesterday.").status == "passed"


def test_it_fails_a_conversation_when_the_record_has_only_notes():
    doc = build_document(
        "contact", {"first_name": "Ann"},
        activities=[{"id": "a-1", "kind": "note", "days_ago": 3, "subject": "Form", "body": "x"}],
    )  # fmt: skip
    assert check(doc, "Great to speak with you on our call.").status == "failed"


def test_it_accepts_about_450_for_448(contact):
    assert check(contact, "A company of about 450 employees.").status == "passed"


def test_it_fails_a_head_count_the_record_does_not_hold(contact):
    outcome = check(contact, "A company of 1,500 employees.")
    assert outcome.status == "failed"
    assert '"1,500 employees"' in outcome.message


@pytest.mark.parametrize("text", ["A $240k budget.", "Budget of 240,000.", "Budget 0.24M."])
def test_it_reads_amounts_in_any_notation(contact, text):
    assert check(contact, text).status == "passed"


def test_it_fails_a_wrong_amount(deal):
    assert check(deal, "A 85k deal in contract sent.").status == "failed"
    assert check(deal, "A 64k deal in contract sent.").status == "passed"


def test_it_compares_percentages_with_probability(deal):
    assert check(deal, "Probability is 60%.").status == "passed"
    assert check(deal, "Probability is 90%.").status == "failed"


def test_it_accepts_days_overdue_against_days_to_close(deal):
    assert check(deal, "Close date passed 3 days ago; 3 days overdue.").status == "passed"
    assert check(deal, "The deal is 10 days overdue.").status == "failed"


def test_it_accepts_six_days_ago_with_a_day_of_slack(contact):
    assert check(contact, "We met 6 days ago.").status == "passed"
    assert check(contact, "We met 7 days ago.").status == "passed"
    assert check(contact, "We met 12 days ago.").status == "failed"


def test_it_fails_a_wrong_weekday(contact):
    # NOW is Wednesday 2025-06-11; the meeting 6 days ago was on Thursday.
    assert check(contact, "Thanks for meeting with us on Thursday.").status == "passed"
    outcome = check(contact, "Thanks for meeting with us on Tuesday.")
    assert outcome.status == "failed"
    assert "Tuesday" in outcome.message


def test_it_fails_yesterday_when_nothing_happened_yesterday(contact):
    assert check(contact, "Thanks for your email yesterday.").status == "failed"
    assert check(contact, "Thanks for your email 2 days ago.").status == "passed"


def test_it_ignores_proposed_times(deal):
    outcome = check(
        deal,
        "Close date passed 3 days ago.",
        "Would a 30-minute review next Tuesday or Wednesday work?",
        "Ask Derek for a 15-minute call with the CFO this week, by Friday.",
        "Reply within 24h and book a call in 2 weeks.",
    )
    assert outcome.status == "passed", outcome.message


def test_it_ignores_ids_ordinals_years_and_scores(deal):
    text = "Note a-0044 is not an update. Score 85 (fit 50/50). 2nd contact from the 2024 plan."
    assert check(deal, text).status == "passed"


def test_it_accepts_facts_inside_a_quote_from_the_record(contact):
    assert check(contact, 'Dana wrote "great chat 9 days ago".').status == "passed"
    assert check(contact, "We had a great chat 9 days ago.").status == "failed"


def test_it_checks_thresholds_against_the_record(contact):
    assert check(contact, "Company in our 200-2,000 employee sweet spot.").status == "passed"
    assert check(contact, "Enterprise account (over 5,000 employees).").status == "failed"


def test_it_names_the_phrase_and_field(contact):
    outcome = check(contact, "Fine.", "Recap our call on Tuesday with the 12 hospitals.")
    assert outcome.status == "failed"
    assert outcome.message.startswith("claims: next_steps[0] says ")
    assert '"our call on Tuesday"' in outcome.message
    assert '"12 hospitals"' in outcome.message
    assert "no call or meeting on a Tuesday" in outcome.message


def test_it_runs_inside_verify_result(sops, crm_data):
    crm = SampleCrm(crm_data, NOW)
    case = json.loads((ROOT / "sop_library/cases/deal-review-good-d-001-green.json").read_text())
    result = case["result"]
    result["summary"] = "We met with Kevin on Monday about a 90,000 deal."
    doc = crm.document("deal", "d-001")
    report = verify_result(sops["deal-review"], result, doc, now=NOW)
    claims = [o for o in report.outcomes if o.kind == "claims"]
    assert [o.status for o in claims] == ["failed"]
    assert "90,000" in claims[0].message


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_it_passes_every_shipped_good_case(case, sops, crm_data):
    data = json.loads(case.read_text())
    spec = sops[data["sop"]]
    # The sample data is relative to "now": try every weekday, as real runs do.
    for offset in range(7):
        now = NOW + timedelta(days=offset, hours=offset * 3)
        doc = SampleCrm(crm_data, now).document(data["record"]["object"], data["record"]["id"])
        outcome = claims_check(spec, data["result"], doc, now=now)
        assert outcome.status == "passed", (now.strftime("%A"), outcome.message)


@pytest.mark.parametrize("sop_name", SOPS)
def test_every_offline_result_on_the_sample_data_passes(sop_name, sops, crm_data):
    spec = sops[sop_name]
    checked = 0
    for offset in (0, 2, 4):  # a Wednesday, a Friday and a Sunday
        now = NOW + timedelta(days=offset)
        crm = SampleCrm(crm_data, now)
        for record_id in crm.ids(spec.object):
            doc = crm.document(spec.object, record_id)
            result = OFFLINE_SKILLS[spec.offline](doc, now, spec)
            outcome = claims_check(spec, result, doc, now=now)
            assert outcome.status == "passed", (record_id, outcome.message)
            checked += 1
    assert checked >= 30
