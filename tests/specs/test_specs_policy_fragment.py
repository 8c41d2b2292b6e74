"""Fragment acceptance checks (inherited as `policy:<id>`) and the `rubric:` front matter key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from specs_samples import DROP, FRAGMENTS, OFFLINE_SKILLS, parse, sop_text

from salesops.specs import Fragment, SpecError, SpecIssue, load_library, parse_fragment, render_sop
from salesops.specs.model import RubricCompare

FRAGMENT_SOURCE = "sop_library/fragments/company-policy.md"


def fragment_text(acceptance: Any, name: str = "company-policy") -> str:
    front = {"name": name, "title": "Company policy", "acceptance": acceptance}
    return f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n\nNever promise discounts.\n"


def fragment(acceptance: Any, name: str = "company-policy") -> Fragment:
    source = f"sop_library/fragments/{name}.md"
    return parse_fragment(fragment_text(acceptance, name), source=source)


NO_PRICING = {
    "id": "no-commercial-promises",
    "check": "!texts.exists(t, mentions_pricing(t.text))",
    "message": "No prices, discounts or terms.",
}


def issues_of(text: str, **kwargs: Any) -> list[SpecIssue]:
    with pytest.raises(SpecError) as caught:
        parse(text, **kwargs)
    return caught.value.issues


def fragment_issues(acceptance: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(SpecError) as caught:
        fragment(acceptance)
    return [(i.source, i.field, i.message) for i in caught.value.issues]


# --- fragments ---------------------------------------------------------------------------------


def test_a_fragment_carries_its_acceptance_checks() -> None:
    parsed = fragment([NO_PRICING])

    assert parsed.acceptance == (NO_PRICING,)
    assert parsed.body == "Never promise discounts."


def test_a_fragment_without_checks_still_parses() -> None:
    assert FRAGMENTS["company-policy"].acceptance == ()


def test_fragment_check_mistakes_are_named_with_the_fragment_file_and_field() -> None:
    issues = fragment_issues(
        [
            NO_PRICING,
            {**NO_PRICING, "check": "!texts.exists(t, mentions_prcing(t.text))"},
            {"id": "broken", "check": "texts.exists(t,", "message": "x"},
        ]
    )

    fields = [(source, field) for source, field, _ in issues]
    assert fields == [
        (FRAGMENT_SOURCE, "acceptance[1].id"),
        (FRAGMENT_SOURCE, "acceptance[1].check"),
        (FRAGMENT_SOURCE, "acceptance[2].check"),
    ]
    assert "duplicate check id 'no-commercial-promises'" in issues[0][2]
    assert "unknown function 'mentions_prcing'" in issues[1][2]
    assert "CEL syntax error" in issues[2][2]


def test_a_fragment_check_is_an_expression_not_a_judge() -> None:
    issues = fragment_issues([{"id": "tone", "judge": "Is it warm?", "message": "Be warm."}])

    assert (FRAGMENT_SOURCE, "acceptance[0].judge", "unknown key 'judge'") in issues
    assert (FRAGMENT_SOURCE, "acceptance[0].check", "required key is missing") in issues


# --- inheritance -------------------------------------------------------------------------------


def test_an_including_sop_inherits_the_checks_as_policy_checks_after_its_own() -> None:
    spec = parse(sop_text(), fragments={"company-policy": fragment([NO_PRICING])})

    assert [c.id for c in spec.acceptance] == [
        "tier-matches-score",
        "polite",
        "policy:no-commercial-promises",
    ]
    policy = spec.acceptance[-1]
    assert (policy.kind, policy.message) == ("policy", "No prices, discounts or terms.")
    assert spec.acceptance[0].kind == "acceptance"
    texts = [{"path": "summary", "text": "We can offer 20% off."}]
    assert policy.check.evaluate({"texts": texts}) is False
    assert policy.check.evaluate({"texts": [{"path": "summary", "text": "Fit."}]}) is True


def test_an_sop_that_does_not_include_the_fragment_gets_none_of_its_checks() -> None:
    spec = parse(
        sop_text({("include",): DROP}), fragments={"company-policy": fragment([NO_PRICING])}
    )

    assert [c.kind for c in spec.acceptance] == ["acceptance", "acceptance"]


def test_fragment_checks_are_type_checked_in_each_includers_scope() -> None:
    opted_out = {
        "id": "contact-not-opted-out",
        "check": "record.email_opt_out != true",
        "message": "Opted out.",
    }
    policy = {"company-policy": fragment([opted_out])}

    contact_spec = parse(sop_text(), fragments=policy)
    assert contact_spec.acceptance[-1].id == "policy:contact-not-opted-out"

    deal = sop_text({("object",): "deal", ("triggers",): DROP, ("escalate_when",): DROP})
    issues = [i for i in issues_of(deal, fragments=policy) if i.source == FRAGMENT_SOURCE]
    assert [i.field for i in issues] == ["acceptance[0].check"]
    assert "email_opt_out" in issues[0].message
    assert "when included by sop_library/lead-qualification.md, a deal SOP" in issues[0].message


def test_fragment_checks_see_the_includers_output() -> None:
    checks = [{"id": "uses-result", "check": "result.tierr != 'A'", "message": "x"}]

    issues = issues_of(sop_text(), fragments={"company-policy": fragment(checks)})

    assert [(i.source, i.field) for i in issues] == [(FRAGMENT_SOURCE, "acceptance[0].check")]
    assert "tierr" in issues[0].message


def test_what_is_wrong_for_every_includer_is_reported_once_by_the_fragment() -> None:
    issues = fragment_issues(
        [
            {"id": "uses-texts", "check": "texts.all(t, t.txt != '')", "message": "x"},
            {"id": "not-bool", "check": "size(texts)", "message": "x"},
        ]
    )

    assert [field for _, field, _ in issues] == ["acceptance[0].check", "acceptance[1].check"]
    assert "t has no field 'txt' (did you mean 'text'?)" in issues[0][2]
    assert "must be a true/false condition, but gives int" in issues[1][2]


def test_two_fragments_may_not_declare_the_same_check() -> None:
    fragments = {"company-policy": fragment([NO_PRICING]), "tone": fragment([NO_PRICING], "tone")}
    text = sop_text({("include",): ["company-policy", "tone"]})

    issues = issues_of(text, fragments=fragments)

    assert [(i.source, i.field) for i in issues] == [
        ("sop_library/fragments/tone.md", "acceptance[0].id")
    ]
    assert "also declared by fragment 'company-policy'" in issues[0].message


def test_an_sop_check_id_never_collides_with_an_inherited_one() -> None:
    own = {"id": "no-commercial-promises", "check": "true", "message": "Own rule."}
    changes = {("acceptance",): [own]}

    spec = parse(sop_text(changes), fragments={"company-policy": fragment([NO_PRICING])})

    assert [c.id for c in spec.acceptance] == [
        "no-commercial-promises",
        "policy:no-commercial-promises",
    ]


def test_a_changed_fragment_check_changes_every_includers_hash(tmp_path: Path) -> None:
    root = tmp_path / "sop_library"
    (root / "fragments").mkdir(parents=True)
    (root / "fragments" / "company-policy.md").write_text(fragment_text([NO_PRICING]))
    (root / "lead-qualification.md").write_text(sop_text())

    def load() -> Any:
        return load_library(
            root,
            known_tools={"crm-lookup", "bant-rubric"},
            offline_skills=OFFLINE_SKILLS,
            template_exists=lambda name: True,
        )

    before = load().sops["lead-qualification"]
    stricter = {**NO_PRICING, "check": "!texts.exists(t, mentions_pricing(t.text)) && true"}
    (root / "fragments" / "company-policy.md").write_text(fragment_text([stricter]))
    after = load().sops["lead-qualification"]

    assert after.hash != before.hash
    assert after.spec.acceptance[-1].check.source == stricter["check"]


# --- rubric ------------------------------------------------------------------------------------

RUBRIC = {
    "compare": [
        {"field": "score", "tolerance": 20},
        {"field": "tier", "order": ["A", "B", "C"], "tolerance": 1},
    ]
}


def test_the_rubric_key_becomes_comparisons() -> None:
    spec = parse(sop_text({("rubric",): RUBRIC}))

    assert spec.rubric == (
        RubricCompare("score", 20, ()),
        RubricCompare("tier", 1, ("A", "B", "C")),
    )
    assert parse(sop_text()).rubric == ()


def test_a_rendered_sop_keeps_its_rubric() -> None:
    spec = parse(sop_text({("rubric",): RUBRIC}))

    again = parse(render_sop(spec))

    assert again.rubric == spec.rubric
    assert render_sop(spec).index("rubric:") > render_sop(spec).index("acceptance:")


FIELD_0, ORDER_0, TOLERANCE_0 = (f"rubric.compare[0].{k}" for k in ("field", "order", "tolerance"))


@pytest.mark.parametrize(
    ("compare", "field", "needle"),
    [
        ([{"field": "scor"}], FIELD_0, "not a top-level field"),
        ([{"field": "summary"}], FIELD_0, "number or an enum"),
        ([{"field": "score", "order": ["1", "2"]}], ORDER_0, "only for enum"),
        ([{"field": "tier", "order": ["A", "Z"]}], ORDER_0, "['Z'] are not values"),
        ([{"field": "tier", "tolerance": 1}], TOLERANCE_0, "needs `order`"),
        ([{"field": "score"}, {"field": "score"}], "rubric.compare[1].field", "compared twice"),
        ([{"field": "score", "tolerance": -1}], TOLERANCE_0, "minimum"),
        ([], "rubric.compare", "should be non-empty"),
        ([{"field": "score", "tol": 3}], "rubric.compare[0].tol", "unknown key 'tol'"),
    ],
)
def test_rubric_mistakes_are_named(compare: Any, field: str, needle: str) -> None:
    issues = issues_of(sop_text({("rubric",): {"compare": compare}}))

    assert [i.field for i in issues] == [field]
    assert needle in issues[0].message


def test_a_rubric_needs_an_offline_skill() -> None:
    issues = issues_of(sop_text({("rubric",): RUBRIC, ("offline",): DROP}))

    assert [(i.field, i.message) for i in issues] == [
        ("rubric", "a rubric comparison needs an `offline` skill to run")
    ]
