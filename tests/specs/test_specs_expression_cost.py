"""SOP expressions and front matter have a cost limit: costly text is a SpecIssue, never a hang
or a RecursionError (issue 8, finding 3)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from specs_samples import OUTPUT, SOURCE, parse, sop_text

from salesops.specs import (
    ExpressionError,
    ExpressionScope,
    PreparedActivation,
    SpecError,
    compile_expression,
    load_library,
)
from salesops.specs import cost as cost_module
from salesops.specs.document import MAX_TEXT_CHARS, split_front_matter
from salesops.specs.expressions import check_expression

ROOT = Path(__file__).resolve().parents[2]
SCOPE = ExpressionScope.for_sop(
    "contact",
    {**OUTPUT, "properties": {**OUTPUT["properties"], "items": {"type": "array"}}},
    event=True,
)
NESTED_THREE = (
    "result.rationale.all(a, result.rationale.all(b, result.rationale.exists(c, c.claim == '')))"
)
NESTED_TWO = "result.items.all(a, result.items.exists(b, a == b || a > b))"


def problems_of(text: str) -> list[str]:
    expression, problems = check_expression(text, SCOPE)
    assert expression is None
    return problems


def issues_of(check: str) -> list[str]:
    text = sop_text({("acceptance", 0, "check"): check})
    with pytest.raises(SpecError) as caught:
        parse(text)
    return [str(issue) for issue in caught.value.issues]


def test_it_refuses_comprehensions_nested_three_deep() -> None:
    assert problems_of(NESTED_THREE) == [
        "comprehensions (exists, all, exists_one, map, filter) are nested 3 deep; the limit is 2"
    ]


def test_it_refuses_hundreds_of_parentheses_before_parsing() -> None:
    assert problems_of("(" * 300 + "true" + ")" * 300) == [
        "brackets are nested 300 deep; the limit is 12"
    ]


def test_it_refuses_thousands_of_and_terms_before_parsing() -> None:
    long_chain = " && ".join(["true"] * 3000)
    assert problems_of(long_chain) == [
        f"the expression is {len(long_chain)} characters long; the limit is 1000"
    ]
    short_chain = "&&".join(["true"] * 150)  # within the length, beyond the terms
    assert problems_of(short_chain) == [
        "the expression has 149 operators and terms; the limit is 100"
    ]


def test_it_refuses_a_deep_tree_the_scan_lets_through() -> None:
    # Each member selection adds two levels to the parse tree but one term to the scan.
    text = "(" * 12 + "result" + ".x" * 90 + " == 1" + ")" * 12
    assert problems_of(text)[0].startswith("the expression is nested ")


def test_brackets_inside_strings_do_not_count() -> None:
    expression, problems = check_expression(f"result.summary == '{'(' * 50}'", SCOPE)
    assert problems == [] and expression is not None


def test_a_costly_expression_is_a_spec_issue_naming_file_field_and_limit() -> None:
    issues = issues_of("(" * 200 + "true" + ")" * 200)
    assert issues == [
        f"{SOURCE}: acceptance[0].check: brackets are nested 200 deep; the limit is 12"
    ]
    assert issues_of(NESTED_THREE) == [
        f"{SOURCE}: acceptance[0].check: comprehensions (exists, all, exists_one, map, filter) "
        "are nested 3 deep; the limit is 2"
    ]


def test_a_recursion_error_while_checking_becomes_a_problem(monkeypatch) -> None:
    def explode(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("salesops.specs.expressions.check_tree", explode)
    assert problems_of("true") == ["the expression is too deeply nested to check"]


def test_a_nested_comprehension_over_a_huge_list_is_refused_before_it_runs() -> None:
    expression = compile_expression(NESTED_TWO, scope=SCOPE, source="s.md", field="check")
    activation = PreparedActivation(result={"items": list(range(20_000))}, record={})
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match=r"s\.md: check: .* the limit is 20,000,000"):
        expression.evaluate(activation)
    assert time.perf_counter() - started < 1


def test_the_slower_celpy_path_has_a_smaller_budget() -> None:
    expression = compile_expression(NESTED_TWO, scope=SCOPE, source="s.md", field="check")
    activation = {"result": {"items": list(range(100))}, "record": {}}
    assert expression.evaluate(activation) is True  # the Rust runtime: well within its budget
    with pytest.raises(ExpressionError, match=r"the limit is 100,000"):
        expression.evaluate_celpy(activation)


def test_a_small_list_evaluates_normally_on_both_runtimes() -> None:
    expression = compile_expression(NESTED_TWO, scope=SCOPE, source="s.md", field="check")
    activation = {"result": {"items": [1, 2, 3]}, "record": {}}
    assert expression.evaluate(activation) is True
    assert expression.evaluate_celpy(activation) is True


def test_the_shipped_library_passes_with_room(monkeypatch) -> None:
    # Halve every limit: the shipped SOPs and fragment still load, so the limits leave room.
    for name in ("MAX_LENGTH", "MAX_NESTING", "MAX_TERMS", "MAX_TREE_DEPTH"):
        monkeypatch.setattr(cost_module, name, getattr(cost_module, name) // 2)
    library = load_library(
        ROOT / "sop_library",
        known_tools={"crm-lookup", "calculators"},
        offline_skills={"lead_qualification", "follow_up", "deal_review"},
    )
    assert not [i for i in library.issues if "limit" in i.message], library.issues
    assert len(library.sops) == 3


# --- the text and its YAML front matter, bounded before parsing -----------------------------


def front_matter_issue(front_matter: str) -> str:
    with pytest.raises(SpecError) as caught:
        split_front_matter(f"---\n{front_matter}\n---\nbody\n", "x.md")
    (issue,) = caught.value.issues
    return str(issue)


def test_it_refuses_a_yaml_alias_bomb() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    assert front_matter_issue("\n".join(lines)) == (
        "x.md: front_matter: the front matter has more than 5000 values (aliases expanded)"
    )


def test_it_keeps_a_small_alias_like_the_shipped_sops_use() -> None:
    data, _ = split_front_matter(
        "---\nitem: &item {type: string}\nlist: [*item, *item]\n---\n", "x"
    )
    assert data["list"] == [{"type": "string"}, {"type": "string"}]


def test_it_refuses_deeply_nested_yaml() -> None:
    assert front_matter_issue("d: " + "[" * 500 + "]" * 500).endswith(
        "nested deeper than 32 levels"
    )


def test_it_refuses_over_long_or_unstorable_text() -> None:
    with pytest.raises(SpecError, match=f"the limit is {MAX_TEXT_CHARS}"):
        split_front_matter("---\nname: x\n---\n" + "a" * MAX_TEXT_CHARS, "x.md")
    with pytest.raises(SpecError, match="NUL"):
        split_front_matter("---\nname: x\x00\n---\n", "x.md")


@pytest.mark.parametrize(
    "value", ["2024-02-30", "1" * 5000, "'" + "a" * 20_000 + "'"], ids=["date", "int", "string"]
)
def test_a_scalar_yaml_cannot_build_is_a_spec_issue(value: str) -> None:
    assert front_matter_issue(f"v: {value}").startswith("x.md: front_matter: ")
