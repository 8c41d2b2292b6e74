"""parse_sop: a valid SOP becomes the right SopSpec; every kind of mistake is a named issue."""

from __future__ import annotations

from typing import Any

import pytest
from specs_samples import BODY, DROP, FRAGMENTS, SOURCE, parse, sop_text

from salesops.specs import CelExpression, ModelPolicy, SpecError, SpecIssue


def issues_of(text: str, **kwargs: Any) -> list[SpecIssue]:
    with pytest.raises(SpecError) as caught:
        parse(text, **kwargs)
    return caught.value.issues


def test_it_parses_a_valid_sop_into_a_spec() -> None:
    spec = parse(sop_text())

    assert spec.name == "lead-qualification"
    assert spec.object == "contact"
    assert spec.source == SOURCE
    assert [t.event for t in spec.triggers] == ["contact.created", "contact.property_changed", None]
    assert spec.triggers[1].property == "lifecycle_stage"
    assert spec.triggers[2].schedule == "0 8 * * 1-5"
    assert spec.triggers[2].where.source == "record.lifecycle_stage == 'lead'"
    assert spec.context == ("company", "recent_activities")
    assert spec.skills == ("crm-lookup", "bant-rubric")
    assert spec.offline == "lead_qualification"
    assert spec.output["properties"]["tier"]["enum"] == ["A", "B", "C", "disqualified"]
    assert spec.evidence == ("rationale",)
    assert [c.id for c in spec.acceptance] == ["tier-matches-score", "polite"]
    assert isinstance(spec.acceptance[0].check, CelExpression)
    assert spec.acceptance[1].check is None
    assert spec.acceptance[1].judge.startswith("Is the summary polite")
    assert spec.acceptance[1].when_unavailable == "skip"
    assert spec.acceptance[0].when_unavailable == "auto"
    assert spec.escalate_when[0].id == "enterprise"
    assert [w.kind for w in spec.write_back] == ["set_property", "note", "task"]
    assert spec.write_back[0].property == "lead_status"
    assert spec.write_back[0].value.evaluate({"result": {"tier": "disqualified"}}) == "UNQUALIFIED"
    assert spec.write_back[1].template == "notes/lead_qualification.md"
    task = spec.write_back[2]
    assert (task.due_in_business_days, task.priority, task.when.source) == (
        1,
        "HIGH",
        "result.tier == 'A'",
    )
    assert spec.model == ModelPolicy(max_attempts=3, budget_usd_per_run=0.05)
    assert spec.includes == ("company-policy",)
    assert spec.fragments == (FRAGMENTS["company-policy"],)
    assert spec.sections["goal"] == "Qualify the lead against BANT."
    assert spec.sections["what_good_looks_like"] == "A score backed by evidence."
    assert spec.body == BODY
    assert spec.front_matter["title"] == "Lead qualification"
    assert spec.applies_when.evaluate({"record": {"email_opt_out": True}}) is False


def test_it_defaults_optional_keys() -> None:
    optional = ["applies_when", "include", "triggers", "context", "skills", "offline"]
    optional += ["evidence", "acceptance", "escalate_when", "write_back", "model"]
    spec = parse(sop_text({(key,): DROP for key in optional}))

    assert spec.triggers == spec.acceptance == spec.write_back == ()
    assert spec.offline is None and spec.applies_when is None
    assert spec.model == ModelPolicy()


EVENT_TRIGGER = {"event": "contact.created", "schedule": "0 8 * * *"}
INVALID_CASES: list[tuple[str, dict[tuple[Any, ...], Any], str, str]] = [
    (
        "unknown skill",
        {("skills",): ["crm-lookup", "bant-rubrik"]},
        "skills[1]",
        "unknown skill 'bant-rubrik' (did you mean 'bant-rubric'?)",
    ),
    (
        "unknown fragment",
        {("include",): ["company-polcy"]},
        "include[0]",
        "unknown fragment 'company-polcy'",
    ),
    (
        "unknown offline skill",
        {("offline",): "lead_qualifcation"},
        "offline",
        "unknown offline skill 'lead_qualifcation' (did you mean 'lead_qualification'?)",
    ),
    (
        "unknown note template",
        {("write_back", 1, "note", "template"): "notes/nope.md"},
        "write_back[1].note.template",
        "template 'notes/nope.md' not found",
    ),
    (
        "unknown task template",
        {("write_back", 2, "task", "template"): "notes/x.md"},
        "write_back[2].task.template",
        "not found",
    ),
    (
        "unknown event",
        {("triggers", 0, "event"): "contact.deleted"},
        "triggers[0].event",
        "unknown event 'contact.deleted'",
    ),
    (
        "event of another object",
        {("triggers", 0, "event"): "deal.created"},
        "triggers[0].event",
        "about deal records, but this SOP is about contact",
    ),
    (
        "unknown trigger property",
        {("triggers", 1, "property"): "lifecycle_stag"},
        "triggers[1].property",
        "'lifecycle_stag' is not a field of contact (did you mean",
    ),
    (
        "company field as contact property",
        {("triggers", 1, "property"): "employees"},
        "triggers[1].property",
        "not a field of contact",
    ),
    (
        "property on a created event",
        {("triggers", 0, "property"): "email"},
        "triggers[0].property",
        "only goes with a property_changed event",
    ),
    (
        "bad cron",
        {("triggers", 2, "schedule"): "0 25 * * *"},
        "triggers[2].schedule",
        "not a valid 5-field cron expression",
    ),
    (
        "six-field cron",
        {("triggers", 2, "schedule"): "0 0 8 * * 1"},
        "triggers[2].schedule",
        "not a valid 5-field cron expression",
    ),
    ("event and schedule", {("triggers", 0): EVENT_TRIGGER}, "triggers[0]", "exactly one of"),
    (
        "trigger without event or schedule",
        {("triggers", 0): {"where": "true"}},
        "triggers[0]",
        "exactly one of",
    ),
    (
        "where field typo",
        {("triggers", 2, "where"): "record.lifecycle_stag == 'lead'"},
        "triggers[2].where",
        "record has no field 'lifecycle_stag' (did you mean 'lifecycle_stage'?)",
    ),
    (
        "result in a trigger",
        {("triggers", 2, "where"): "result.score > 5"},
        "triggers[2].where",
        "'result' is not available here",
    ),
    (
        "event on a schedule",
        {("triggers", 2, "where"): "event.name == 'x'"},
        "triggers[2].where",
        "'event' is only available on event triggers",
    ),
    (
        "check field typo",
        {("acceptance", 0, "check"): "result.tierr == 'A'"},
        "acceptance[0].check",
        "result has no field 'tierr' (did you mean 'tier'?)",
    ),
    (
        "check not a condition",
        {("acceptance", 0, "check"): "result.score + 1"},
        "acceptance[0].check",
        "must be a true/false condition, but gives int",
    ),
    (
        "check syntax error",
        {("acceptance", 0, "check"): "result.score >"},
        "acceptance[0].check",
        "CEL syntax error",
    ),
    (
        "check unknown function",
        {("acceptance", 0, "check"): "wordcount(result.summary) < 9"},
        "acceptance[0].check",
        "unknown function 'wordcount' (did you mean 'word_count'?)",
    ),
    (
        "duplicate check id",
        {("escalate_when", 0, "id"): "tier-matches-score"},
        "escalate_when[0].id",
        "duplicate check id 'tier-matches-score'",
    ),
    (
        "check and judge missing",
        {("acceptance", 0, "check"): DROP},
        "acceptance[0]",
        "exactly one of `check` or `judge`",
    ),
    (
        "escalation enum typo",
        {("escalate_when", 0, "when"): "result.tier == 'AA'"},
        "escalate_when[0].when",
        "'AA' is not a possible value of result.tier",
    ),
    (
        "output not a schema",
        {("output", "properties", "score", "type"): "integr"},
        "output.properties.score.type",
        "not a valid JSON Schema",
    ),
    (
        "output not an object",
        {("output",): {"type": "array", "items": {}}},
        "output",
        "must have `type: object`",
    ),
    ("missing title", {("title",): DROP}, "title", "required key is missing"),
    ("misspelt key", {("tilte",): "x"}, "tilte", "unknown key 'tilte' (did you mean 'title'?)"),
    (
        "misspelt nested key",
        {("acceptance", 0, "mesage"): "x"},
        "acceptance[0].mesage",
        "unknown key 'mesage' (did you mean 'message'?)",
    ),
    ("unknown object", {("object",): "lead"}, "object", "'lead' is not one of: company"),
    ("bad name", {("name",): "Lead_Qual"}, "name", "'Lead_Qual' is not valid: use lowercase"),
    ("bad check id", {("acceptance", 0, "id"): "Tier Check"}, "acceptance[0].id", "not valid"),
    (
        "set unknown property",
        {("write_back", 0, "set_property", "name"): "lead_stat"},
        "write_back[0].set_property.name",
        "'lead_stat' is not a field of contact (did you mean",
    ),
    (
        "set property of the wrong type",
        {("write_back", 0, "set_property", "name"): "ai_score"},
        "write_back[0].set_property.value",
        "gives string, but ai_score holds int",
    ),
    (
        "subject variable typo",
        {("write_back", 2, "task", "subject"): "Call {{ record.firstname }}"},
        "write_back[2].task.subject",
        "record has no field 'firstname' (did you mean 'first_name'?)",
    ),
    (
        "due date and due days",
        {("write_back", 2, "task", "due_date"): "today"},
        "write_back[2].task",
        "give `due_in_business_days` or `due_date`, not both",
    ),
    (
        "due date not a string",
        {
            ("write_back", 2, "task", "due_date"): "result.score",
            ("write_back", 2, "task", "due_in_business_days"): DROP,
        },
        "write_back[2].task.due_date",
        "must give a YYYY-MM-DD string",
    ),
    (
        "two kinds in one write",
        {("write_back", 1, "task"): {"subject": "x"}},
        "write_back[1]",
        "exactly one of set_property, note, task",
    ),
    (
        "unknown evidence path",
        {("evidence",): ["rationales"]},
        "evidence[0]",
        "no property 'rationales' (did you mean 'rationale'?)",
    ),
    ("evidence not an array", {("evidence",): ["summary"]}, "evidence[0]", "is not an array"),
    (
        "unavailable context",
        {("context",): ["contacts"]},
        "context[0]",
        "'contacts' is not available for contact records",
    ),
    (
        "applies_when typo",
        {("applies_when",): "record.email_optout != true"},
        "applies_when",
        "(did you mean 'email_opt_out'?)",
    ),
    ("bad model limit", {("model", "max_attempts"): 0}, "model.max_attempts", "minimum"),
    ("wrong type", {("skills",): "crm-lookup"}, "skills", "must be array, got str"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_it_rejects_invalid_front_matter(
    changes: dict[tuple[Any, ...], Any], field: str, message: str
) -> None:
    issues = issues_of(sop_text(changes))

    # Exactly one issue: a mistake must not drown in follow-on noise.
    assert [(i.source, i.field) for i in issues] == [(SOURCE, field)]
    assert message in issues[0].message


def test_it_rejects_a_name_that_does_not_match_the_file() -> None:
    issues = issues_of(sop_text(), source="sop_library/lead-scoring.md")

    assert [(i.field, i.source) for i in issues] == [("name", "sop_library/lead-scoring.md")]
    assert "'lead-scoring.md'" in issues[0].message


def test_it_skips_the_template_check_without_a_lookup() -> None:
    text = sop_text({("write_back", 1, "note", "template"): "notes/nope.md"})

    assert parse(text, template_exists=None).write_back[1].template == "notes/nope.md"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("## Constraints\nx\n\n## What good looks like\ny\n", "missing required section '## Goal'"),
        ("## Goal\nx\n", "missing required section '## What good looks like'"),
        ("## goal\n\n## What good looks like\ny\n", "section '## Goal' is empty"),
        ("## Goal\nx\n```\n## What good looks like\n```\n", "'## What good looks like'"),
    ],
)
def test_it_requires_the_body_sections(body: str, message: str) -> None:
    issues = issues_of(sop_text(body=body))

    assert [i.field for i in issues] == ["body"]
    assert message in issues[0].message


def test_it_reports_every_error_together() -> None:
    text = sop_text(
        {
            ("skills",): ["crm-lookup", "nope"],
            ("triggers", 2, "schedule"): "every day",
            ("acceptance", 0, "check"): "result.tierr == 'A'",
            ("title",): DROP,
        },
        body="## Goal\nx\n",
    )

    fields = {i.field for i in issues_of(text)}

    assert fields == {"skills[1]", "triggers[2].schedule", "acceptance[0].check", "title", "body"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("## Goal\nno front matter\n", "missing YAML front matter"),
        ("---\nname: [unclosed\n---\n## Goal\n", "invalid YAML at line"),
        ("---\nname: a\nname: b\n---\n", "duplicate key 'name'"),
        ("---\n- a list\n---\n", "front matter must be a YAML mapping"),
        ("---\nname: x\n", "missing YAML front matter"),
    ],
)
def test_it_turns_malformed_files_into_spec_errors(text: str, message: str) -> None:
    issues = issues_of(text)

    assert issues[0].field == "front_matter"
    assert message in issues[0].message


def test_an_empty_front_matter_reports_the_required_keys() -> None:
    fields = {i.field for i in issues_of("---\n---\n" + BODY)}

    assert {"name", "title", "description", "object", "output"} <= fields


def test_spec_error_text_names_file_and_field() -> None:
    with pytest.raises(SpecError) as caught:
        parse(sop_text({("offline",): "nope"}))

    assert str(caught.value).startswith(f"{SOURCE}: offline: unknown offline skill 'nope'")
