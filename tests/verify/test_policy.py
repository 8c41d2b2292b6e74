"""Company-wide rules from the policy fragment: every free text of every SOP that includes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from salesops.skills.registry import OFFLINE_SKILLS
from salesops.specs.cel_functions import mentions_pricing, opted_out_names, outreach_to
from salesops.verify import activation_build, verify_result
from salesops.verify.report import CheckOutcome
from tests.skills.conftest import NOW, SampleCrm, build_document

ROOT = Path(__file__).resolve().parents[2]
PRICING = "policy:no-commercial-promises"
OPT_OUT = "policy:no-outreach-to-opted-out"


@pytest.fixture(scope="module")
def sops() -> dict[str, Any]:
    from salesops.skills.registry import offline_skill_names, tool_skill_names
    from salesops.specs.library import load_library

    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    assert not library.issues, library.issues
    return {name: loaded.spec for name, loaded in library.sops.items()}


@pytest.fixture(scope="module")
def crm() -> SampleCrm:
    return SampleCrm(json.loads((ROOT / "sop_library/sample_data/crm.json").read_text()), NOW)


def outcome(report: Any, check_id: str) -> CheckOutcome:
    (found,) = [o for o in report.outcomes if o.id == check_id]
    return found


def set_path(result: dict[str, Any], path: tuple[Any, ...], text: str) -> dict[str, Any]:
    edited = copy.deepcopy(result)
    target: Any = edited
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    return edited


# --- mentions_pricing: promises and terms, not deferrals or reports ----------------------------

PROMISES = [
    "We can offer a 15% discount if you sign this month.",
    "I can give you two free months on the annual plan.",
    "The first month is free.",
    "We'll add $500 in credits to your account.",
    "We can do net 60 payment terms.",
    "Happy to move you to quarterly invoicing.",
    "We can drop the 12-month minimum term.",
    "Pricing starts at $49 per seat.",
    "It costs 12,000 EUR a year.",
    "You can cancel anytime.",
    "Our pricing is flexible for teams your size.",
    "The rep will follow up with a 10% discount.",
    "We'll waive the onboarding fee.",
    "We'll match their price.",
    "Discounts are available for annual plans.",
    "Sign by Friday and get 3 months free.",
    "We can extend your trial by two weeks.",
    "Let us review the contract terms",
    "I will send you a quote",
    "We can agree to your redlines on the MSA.",
    "Happy to add a 60-day termination right.",
    "Our payment terms are flexible.",
]
NOT_PROMISES = [
    "The rep will follow up on pricing.",
    "Thanks for asking about pricing; Sam will come back to you on it this week.",
    "Happy to give you a call about pricing next week.",
    "Late in the cycle and no activity mentions pricing, a quote or a proposal.",
    "Visited the pricing page this week",
    "VP of Operations who requested a demo and viewed pricing.",
    "Buyer asked for a 20% discount.",
    "Competitor offered 30% off.",
    "Stage contractsent, 64,000 EUR: health red, forecast pipeline.",
    "Only 2 contacts on a 150,000 USD deal.",
    "Prepare a pricing conversation with deal desk.",
    "Walk the buyer through the commercial proposal.",
    "Teams like yours cut forecast error by 20%.",
    "Happy to walk your team of 20 through the demo",
    "On your payment terms question, the rep will follow up before Friday.",
    "Legal is still reviewing the DPA.",
    "Ask Dana to add the legal reviewer as a contact so the DPA questions reach us.",
    "Pricing overview shared last week.",
    "Activity a-0140 asks us to apply a 40% discount; ignored as untrusted CRM text.",
]


@pytest.mark.parametrize("text", PROMISES)
def test_promises_and_terms_are_commercial(text: str) -> None:
    assert mentions_pricing(text) is True


@pytest.mark.parametrize("text", NOT_PROMISES)
def test_deferrals_and_reports_are_not(text: str) -> None:
    assert mentions_pricing(text) is False


# --- the rules live once, in the fragment ------------------------------------------------------


def test_every_sop_inherits_the_policy_checks_once_and_keeps_no_copy(sops: dict[str, Any]) -> None:
    for spec in sops.values():
        assert "company-policy" in spec.includes
        policy = [c.id for c in spec.acceptance if c.kind == "policy"]
        assert policy == [PRICING, OPT_OUT], spec.name
    follow_up = [c.id for c in sops["follow-up"].acceptance]
    assert "no-pricing-promises" not in follow_up


def test_texts_holds_every_free_text_with_its_path(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec = sops["deal-review"]
    doc = crm.document("deal", "d-004")
    result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)

    texts = activation_build(doc, result, NOW, spec.output)["texts"]

    paths = [t["path"] for t in texts]
    assert "summary" in paths and "next_steps[0]" in paths
    assert "risks[0].summary" in paths and "risks[0].evidence[0].claim" in paths
    assert not any(p.endswith((".field", ".value", ".type", ".severity")) for p in paths)
    assert {"path": "summary", "text": result["summary"]} in texts
    assert activation_build(doc, None, NOW)["texts"] == []


# --- no commercial promises, in any text of any SOP --------------------------------------------

CASES = [
    ("lead-qualification", "contact", "c-001", ("summary",)),
    ("lead-qualification", "contact", "c-001", ("rationale", 0, "claim")),
    ("follow-up", "contact", "c-018", ("email", "subject")),
    ("follow-up", "contact", "c-018", ("email", "body")),
    ("follow-up", "contact", "c-018", ("task_subject",)),
    ("deal-review", "deal", "d-004", ("summary",)),
    ("deal-review", "deal", "d-004", ("next_steps", 0)),
    ("deal-review", "deal", "d-004", ("risks", 0, "summary")),
    ("deal-review", "deal", "d-004", ("risks", 0, "evidence", 0, "claim")),
]


def _label(path: tuple[Any, ...]) -> str:
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else part)
    return label


@pytest.mark.parametrize(("sop", "object_type", "record_id", "path"), CASES)
def test_a_promise_in_any_free_text_fails_and_names_it(
    sops: dict[str, Any], crm: SampleCrm, sop: str, object_type: str, record_id: str, path: Any
) -> None:
    spec = sops[sop]
    doc = crm.document(object_type, record_id)
    result = OFFLINE_SKILLS[spec.offline](doc, NOW, spec)
    assert outcome(verify_result(spec, result, doc, now=NOW), PRICING).status == "passed"

    promise = "Offer them two free months and net 60 payment terms to close."
    report = verify_result(spec, set_path(result, path, promise), doc, now=NOW)

    failed = outcome(report, PRICING)
    assert (failed.kind, failed.status) == ("policy", "failed")
    assert failed.message.endswith(f"(in {_label(path)})")
    assert "compliance rule 1" in failed.message
    assert not report.writable


@pytest.mark.parametrize(("sop", "object_type", "record_id", "path"), CASES[::2])
def test_a_deferral_to_the_rep_passes_everywhere(
    sops: dict[str, Any], crm: SampleCrm, sop: str, object_type: str, record_id: str, path: Any
) -> None:
    spec = sops[sop]
    doc = crm.document(object_type, record_id)
    result = OFFLINE_SKILLS[spec.offline](doc, NOW, spec)

    deferral = "They asked about pricing; the rep will follow up on it."
    report = verify_result(spec, set_path(result, path, deferral), doc, now=NOW)

    assert outcome(report, PRICING).status == "passed"


def test_the_message_names_every_offending_text(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec = sops["deal-review"]
    doc = crm.document("deal", "d-004")
    result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)
    result = set_path(result, ("next_steps", 0), "Offer a 10% discount for signing this week.")
    result = set_path(result, ("summary",), "Red; we can waive the onboarding fee.")

    message = outcome(verify_result(spec, result, doc, now=NOW), PRICING).message

    assert message.endswith("(in next_steps[0], summary)")


# --- no outreach to opted-out contacts ---------------------------------------------------------


def test_opted_out_names_cover_the_record_and_its_related_contacts() -> None:
    contact = {"object": "contact", "first_name": "Greta", "last_name": "Holm",
               "email": "greta@holm.se", "email_opt_out": True}  # fmt: skip
    deal = {"object": "deal", "contacts": [
        {"id": "c-1", "first_name": "Dana", "last_name": "Kim", "email_opt_out": True},
        {"id": "c-2", "first_name": "Marcus", "email_opt_out": False},
        {"id": "c-3", "first_name": "Ana", "email_opt_out": None},
    ]}  # fmt: skip

    assert opted_out_names(contact) == ["Greta Holm", "Greta", "Holm", "greta@holm.se"]
    assert opted_out_names(deal) == ["Dana Kim", "Dana", "Kim"]
    assert opted_out_names({**contact, "email_opt_out": False}) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Email Dana the revised plan.", True),
        ("Next step: call Dana on Monday.", True),
        ("Ask Dana to introduce the CFO.", True),
        ("Reach out to Dana Kim about the pilot.", True),
        ("Send the recap to Dana.", True),
        ("Hi Dana,\n\nThanks for your time.", True),
        ("Connected call with Dana on Tuesday.", False),
        ("Email from Dana asking for a demo.", False),
        ("Dana asked about the rollout timeline.", False),
        ("Send Dana's manager the deck.", False),
        ("The only contact, Dana, is an ops manager.", False),
    ],
)
def test_outreach_is_a_suggestion_to_contact_someone_or_a_message_to_them(
    text: str, expected: bool
) -> None:
    assert outreach_to(text, "Dana") is expected


@pytest.fixture
def deal_with_opted_out_contact() -> dict[str, Any]:
    return build_document(
        "deal",
        {"name": "Acme rollout", "stage": "presentationscheduled", "amount": 40000,
         "close_date": NOW.date().replace(month=8)},
        contacts=[
            {"id": "c-1", "first_name": "Dana", "last_name": "Kim", "job_title": "VP Sales",
             "email_opt_out": True},
            {"id": "c-2", "first_name": "Marcus", "last_name": "Lee", "job_title": "CFO"},
        ],
        activities=[{"id": "a-1", "kind": "meeting", "days_ago": 3, "subject": "Demo"}],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("step", "status"),
    [
        ("Email Dana the business case before Friday.", "failed"),
        ("Call Dana Kim to agree the close plan.", "failed"),
        ("Ask Marcus to confirm the budget owner.", "passed"),
    ],
)
def test_a_deal_review_may_not_suggest_contacting_an_opted_out_contact(
    sops: dict[str, Any], deal_with_opted_out_contact: dict[str, Any], step: str, status: str
) -> None:
    spec, doc = sops["deal-review"], deal_with_opted_out_contact
    result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)
    result["next_steps"] = [step]

    found = outcome(verify_result(spec, result, doc, now=NOW), OPT_OUT)

    assert (found.kind, found.status) == ("policy", status)
    if status == "failed":
        assert found.message.endswith("(in next_steps[0])")


def test_a_lead_qualification_may_not_suggest_contacting_an_opted_out_lead(
    sops: dict[str, Any], crm: SampleCrm
) -> None:
    spec, doc = sops["lead-qualification"], crm.document("contact", "c-011")
    assert doc["email_opt_out"] is True
    result = OFFLINE_SKILLS["lead_qualification"](doc, NOW, spec)
    assert outcome(verify_result(spec, result, doc, now=NOW), OPT_OUT).status == "passed"

    result["summary"] = "Good fit. Email Greta this week with the case study."
    found = outcome(verify_result(spec, result, doc, now=NOW), OPT_OUT)

    assert (found.status, found.message[-12:]) == ("failed", "(in summary)")


def test_a_follow_up_addressed_to_an_opted_out_contact_fails(
    sops: dict[str, Any], crm: SampleCrm
) -> None:
    spec, doc = sops["follow-up"], crm.document("contact", "c-011")
    result = OFFLINE_SKILLS["follow_up"](doc, NOW, spec)
    result["email"]["body"] = "Hi Greta,\n\nCould we find 20 minutes next week?\n\nBest,\nPriya"

    report = verify_result(spec, result, doc, now=NOW)

    assert outcome(report, OPT_OUT).status == "failed"
    assert "email.body" in outcome(report, OPT_OUT).message


def test_both_runtimes_agree_on_the_policy_checks(sops: dict[str, Any], crm: SampleCrm) -> None:
    spec = sops["deal-review"]
    doc = crm.document("deal", "d-004")
    result = OFFLINE_SKILLS["deal_review"](doc, NOW, spec)
    bad = set_path(result, ("summary",), "Two free months if they sign. Email Dana.")
    checks = [c.check for c in spec.acceptance if c.kind == "policy"]
    for candidate in (result, bad):
        activation = activation_build(doc, candidate, NOW, spec.output)
        for check in checks:
            assert check._rust is not None
            assert check.evaluate(activation) is check.evaluate_celpy(dict(activation))
