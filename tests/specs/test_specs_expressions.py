"""CEL expressions: type checking with suggestions, custom functions, null handling."""

from __future__ import annotations

from typing import Any

import pytest
from specs_samples import OUTPUT

from salesops.specs import ExpressionError, ExpressionScope, compile_expression, evaluate_bool
from salesops.specs import expressions as expressions_module

DEAL_OUTPUT = {
    "type": "object",
    "properties": {
        "health": {"enum": ["green", "amber", "red"]},
        "risks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "severity": {"enum": ["low", "medium", "high"]},
                },
            },
        },
        "email": {"type": "object", "properties": {"body": {"type": "string"}}},
        "next_steps": {"type": "array", "items": {"type": "string"}},
    },
}
CONTACT = ExpressionScope.for_sop("contact", OUTPUT)
DEAL = ExpressionScope.for_sop("deal", DEAL_OUTPUT)
COMPANY = ExpressionScope.for_sop("company")


def compile_(text: str, scope: ExpressionScope = DEAL) -> Any:
    return compile_expression(text, scope=scope, source="sop.md", field="acceptance[0].check")


@pytest.mark.parametrize(
    ("text", "scope", "message"),
    [
        (
            "record.emploees > 10",
            COMPANY,
            "record has no field 'emploees' (did you mean 'employees'?)",
        ),
        (
            "record.company.emploees > 10",
            DEAL,
            "record.company has no field 'emploees' (did you mean 'employees'?)",
        ),
        ("result.tierr == 'A'", CONTACT, "result has no field 'tierr' (did you mean 'tier'?)"),
        ("reccord.amount > 1", DEAL, "unknown variable 'reccord' (did you mean 'record'?)"),
        ("record.company.name == 'x'", COMPANY, "record has no field 'company'"),
        (
            "result.risks.exists(r, r.typ == 'x')",
            DEAL,
            "r has no field 'typ' (did you mean 'type'?)",
        ),
        (
            "result.risks.all(r, r.severity == 'critical')",
            DEAL,
            "'critical' is not a possible value of r.severity",
        ),
        ("result.risks.type == 'x'", DEAL, "result.risks is list of map; it has no field 'type'"),
        ("record.contacts.exists(c, c.jobtitle == 'CEO')", DEAL, "(did you mean 'job_title'?)"),
        ("record.activities.exists(a, a.bdy == '')", DEAL, "(did you mean 'body'?)"),
        ("record.amount == '100'", DEAL, "cannot compare record.amount (double) with '100'"),
        ("record.stage > 3", DEAL, "cannot order record.stage (string) against 3"),
        ("record.amount > null", DEAL, "cannot order"),
        (
            "word_count(record.amount) > 3",
            DEAL,
            "word_count() expects a string, but record.amount is double",
        ),
        ("business_days_between(today) > 1", DEAL, "takes 2 argument(s), got 1"),
        ("frobnicate(record.name)", DEAL, "unknown function 'frobnicate'"),
        ("record.name.lowr() == 'x'", DEAL, "unknown function 'lowr' (did you mean 'lower'?)"),
        ("record.name && true", DEAL, "'&&' needs a bool, but record.name is string"),
        ("record.stage.exists(s, s == 'x')", DEAL, "exists() needs a list"),
        ("has(record)", DEAL, "has() needs a field selection"),
        ("record.name + 1 == 'x'", DEAL, "cannot apply '+'"),
        ("x", DEAL, "unknown variable 'x'"),
    ],
)
def test_it_rejects_ill_typed_expressions(text: str, scope: ExpressionScope, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_(text, scope)

    assert str(caught.value).startswith("sop.md: acceptance[0].check: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "result.risks.exists(r, r.type == 'close_date_past' && r.severity == 'high')",
        "result.risks.filter(r, r.severity == 'high').size() >= 1",
        "size(result.next_steps.map(s, lower(s))) <= 5",
        "result.risks.exists_one(r, r.type == 'x') || result.health != 'red'",
        "record.contacts.all(c, c.email_opt_out != true)",
        "record.activities.filter(a, !a.ai_generated).size() > 0",
        "'ceo' in record.contacts.map(c, lower(c.job_title))",
        "record.amount >= 100000 && record.days_to_close < 0",
        "record.company.employees == null || record.company.employees > 5000",
        "result.email.body.startsWith('Hi') && word_count(result.email.body) <= 150",
        "business_days_between(today, record.close_date) <= 3",
        "timestamp(now) > timestamp(record.stage_entered_at)",
        "dyn(record.amount) == 'whatever'",
    ],
)
def test_it_accepts_well_typed_expressions(text: str) -> None:
    assert compile_(text).source == text


def test_comprehension_variables_do_not_leak() -> None:
    with pytest.raises(ExpressionError, match="unknown variable 'r'"):
        compile_("result.risks.exists(r, r.type == 'x') && r.type == 'y'")


def test_result_and_event_exist_only_when_the_scope_has_them() -> None:
    before = ExpressionScope.for_sop("contact")
    with pytest.raises(ExpressionError, match="'result' is not available here"):
        compile_("result.score > 1", before)
    with pytest.raises(ExpressionError, match="'event' is only available on event triggers"):
        compile_("event.property == 'email'", before)

    on_event = ExpressionScope.for_sop("contact", event=True)
    assert compile_("event.property == 'email'", on_event).evaluate(
        {"event": {"name": "contact.property_changed", "property": "email", "value": "a@b.c"}}
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("word_count(result.email.body)", 4),
        ("word_count('  one\\ttwo\\nthree  ')", 3),
        ("word_count('')", 0),
        ("has_placeholder('Hi {{ first_name }}')", True),
        ("has_placeholder('Hi [Name], thanks')", True),
        ("has_placeholder('Dear <FIRST_NAME>')", True),
        ("has_placeholder('Meeting on XXX')", True),
        ("has_placeholder('Date TBD')", True),
        ("has_placeholder('Hi {first_name}')", True),
        ("has_placeholder('Hi Ana, see [the deck](https://x.y) and {} TBA')", False),
        ("has_placeholder('Hi Ana, thanks for the call.')", False),
        ("mentions_pricing('We can offer 20% off this quarter')", True),
        ("mentions_pricing('That would be $4,000 per year')", True),
        ("mentions_pricing('It costs 500 EUR')", True),
        ("mentions_pricing('The setup is free of charge')", True),
        ("mentions_pricing('I will send you a quote')", True),
        ("mentions_pricing('Let us review the contract terms')", True),
        ("mentions_pricing('Happy to walk your team of 20 through the demo')", False),
        ("business_days_between('2024-05-03', '2024-05-07')", 2),  # Fri -> Tue
        ("business_days_between('2024-05-06', '2024-05-06')", 0),
        ("business_days_between('2024-05-04', '2024-05-05')", 0),  # Sat -> Sun
        ("business_days_between('2024-05-07', '2024-05-03')", -2),
        # A date in the past is never "0 business days away", even across a weekend.
        ("business_days_between('2024-05-05', '2024-05-03')", -1),  # Sun -> Fri before
        ("business_days_between('2024-05-04', '2024-05-03')", -1),  # Sat -> Fri before
        ("business_days_between('2024-05-05', '2024-05-04')", -1),  # Sun -> Sat before
        ("business_days_between('2024-05-06', '2024-05-03')", -1),  # Mon -> Fri before
        ("business_days_between('2024-05-03', '2024-05-31')", 20),
        ("business_days_between('2024-05-31', '2024-05-03')", -20),
        ("business_days_between('2024-05-03T17:00:00Z', '2024-05-10')", 5),
        ("lower('Hello ÄB')", "hello äb"),
        ("result.next_steps.map(s, lower(s))", ["call", "mail"]),
        ("{'a': [1, 2.5, null, true]}", {"a": [1, 2.5, None, True]}),
    ],
)
def test_it_evaluates_custom_functions(text: str, expected: Any) -> None:
    activation = {
        "result": {"email": {"body": "Hi Ana, thanks again"}, "next_steps": ["Call", "MAIL"]}
    }

    assert compile_(text).evaluate(activation) == expected


def test_has_is_false_for_null_fields_so_the_documented_guard_works() -> None:
    guarded = compile_(
        "has(record.company.employees) && record.company.employees > 5000",
        ExpressionScope.for_sop("contact"),
    )

    assert guarded.evaluate({"record": {"company": {"employees": None}}}) is False
    assert guarded.evaluate({"record": {"company": None}}) is False
    assert guarded.evaluate({"record": {"company": {"employees": 9000}}}) is True
    assert guarded.evaluate({"record": {"company": {"employees": 10}}}) is False


def test_null_compares_with_equality_but_not_with_order() -> None:
    scope = ExpressionScope.for_sop("contact")
    is_null = compile_("record.company.employees == null", scope)
    ordered = compile_("record.company.employees > 5000", scope)

    assert is_null.evaluate({"record": {"company": {"employees": None}}}) is True
    with pytest.raises(ExpressionError) as caught:
        ordered.evaluate({"record": {"company": {"employees": None}}})
    message = str(caught.value)
    assert "sop.md: acceptance[0].check: `record.company.employees > 5000` failed" in message
    assert "a value is null" in message


def test_errors_are_absorbed_by_logic_as_in_cel() -> None:
    scope = ExpressionScope.for_sop("contact")
    short_or = compile_("record.company.employees > 5000 || true", scope)
    short_and = compile_("record.company.employees > 5000 && false", scope)

    assert short_or.evaluate({"record": {"company": {"employees": None}}}) is True
    assert short_and.evaluate({"record": {"company": {"employees": None}}}) is False


def test_numbers_compare_across_int_and_double() -> None:
    expr = compile_("record.amount >= 100000 && record.amount != 5")

    assert expr.evaluate({"record": {"amount": 120000.0}}) is True
    assert expr.evaluate({"record": {"amount": 99999}}) is False


def test_a_missing_key_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="no such member"):
        compile_("record.amount > 1").evaluate({"record": {}})


def test_custom_function_errors_name_the_function() -> None:
    with pytest.raises(ExpressionError, match=r"word_count\(\) expects a string, got null"):
        compile_("word_count(record.name) > 1").evaluate({"record": {"name": None}})
    with pytest.raises(ExpressionError, match="expects a YYYY-MM-DD date"):
        compile_("business_days_between(today, record.close_date) > 1").evaluate(
            {"today": "2024-01-01", "record": {"close_date": "soon"}}
        )


def test_dates_and_datetimes_arrive_as_iso_strings() -> None:
    import datetime as dt

    expr = compile_("record.close_date < today")

    assert expr.evaluate({"record": {"close_date": dt.date(2024, 1, 1)}, "today": "2024-02-01"})


def test_evaluate_bool_rejects_non_bool_results() -> None:
    expr = compile_("record.amount")

    assert evaluate_bool(compile_("record.amount > 1"), {"record": {"amount": 2}}) is True
    with pytest.raises(ExpressionError, match="not true or false"):
        evaluate_bool(expr, {"record": {"amount": None}})


def test_unconvertible_activation_values_are_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="cannot pass a object"):
        compile_("record.amount > 1").evaluate({"record": {"amount": object()}})


def test_evaluation_reuses_the_compiled_program(monkeypatch: pytest.MonkeyPatch) -> None:
    expr = compile_("record.amount > 1")

    def fail(*args: Any) -> None:
        raise AssertionError("evaluate must not parse again")

    monkeypatch.setattr(expressions_module._env(), "compile", fail)
    monkeypatch.setattr(expressions_module._env(), "program", fail)

    assert [expr.evaluate({"record": {"amount": n}}) for n in (0, 5)] == [False, True]


def test_expressions_compare_by_text() -> None:
    assert compile_("record.amount > 1") == compile_("record.amount > 1")
    assert compile_("record.amount > 1") != compile_("record.amount > 2")
    assert len({compile_("record.amount > 1"), compile_("record.amount > 1")}) == 1


def test_has_is_null_aware_inside_macros_too() -> None:
    expr = compile_(
        "record.deals.exists(d, has(d.amount) && d.amount >= 100000)",
        ExpressionScope.for_sop("contact"),
    )

    assert expr.evaluate({"record": {"deals": [{"amount": None}, {"amount": 5.0}]}}) is False
    assert expr.evaluate({"record": {"deals": [{"amount": None}, {"amount": 2e5}]}}) is True
