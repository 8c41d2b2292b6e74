"""What an SOP gets beyond its own checks: a fragment's policy checks and the rubric comparison.

Fragment checks are checked twice: once when the fragment loads (syntax, functions, variables:
the same for every includer) and once per including SOP, in that SOP's scope (its record fields
and output), with issues naming the fragment's file and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from salesops.specs.document import usable
from salesops.specs.expressions import check_expression
from salesops.specs.model import Check, Fragment, RubricCompare, SpecIssue
from salesops.specs.scope import DYN, STRING, TEXTS_TYPE, ExpressionScope

POLICY_PREFIX = "policy:"
# Any record, any result: what every includer's scope has in common.
_LOOSE = ExpressionScope(
    variables={"record": DYN, "result": DYN, "texts": TEXTS_TYPE, "now": STRING, "today": STRING}
)


def fragment_acceptance_issues(
    items: Iterable[tuple[int, Mapping[str, Any]]], source: str
) -> list[SpecIssue]:
    """Problems (index, check) items have whoever includes them: duplicate ids, bad CEL."""
    issues: list[SpecIssue] = []
    seen: dict[str, int] = {}
    for i, item in items:
        at = f"acceptance[{i}]"
        if item["id"] in seen:
            message = f"duplicate check id '{item['id']}' (first at acceptance[{seen[item['id']]}])"
            issues.append(SpecIssue(source, f"{at}.id", message))
        seen.setdefault(item["id"], i)
        compiled, problems = check_expression(
            item["check"], _LOOSE, source=source, field=f"{at}.check"
        )
        issues += [SpecIssue(source, f"{at}.check", problem) for problem in problems]
        if compiled is not None and compiled.type.kind not in ("bool", "dyn"):
            message = f"must be a true/false condition, but gives {compiled.type.describe()}"
            issues.append(SpecIssue(source, f"{at}.check", message))
    return issues


def policy_checks(
    fragments: Iterable[Fragment], scope: ExpressionScope, *, includer: str, object_type: str
) -> tuple[list[Check], list[SpecIssue]]:
    """The fragments' checks compiled for one SOP, as `policy:<id>` checks, and any issues."""
    checks: list[Check] = []
    issues: list[SpecIssue] = []
    seen: dict[str, str] = {}
    where = f"(when included by {includer}, a {object_type} SOP)"
    for fragment in fragments:
        for i, item in enumerate(fragment.acceptance):
            field = f"acceptance[{i}].check"
            check_id = POLICY_PREFIX + item["id"]
            if check_id in seen:
                message = f"check id '{item['id']}' is also declared by fragment '{seen[check_id]}'"
                issues.append(SpecIssue(fragment.source, f"acceptance[{i}].id", message))
                continue
            seen[check_id] = fragment.name
            compiled, problems = check_expression(
                item["check"], scope, source=fragment.source, field=field
            )
            issues += [SpecIssue(fragment.source, field, f"{p} {where}") for p in problems]
            if compiled is None:
                continue
            if compiled.type.kind not in ("bool", "dyn"):
                message = f"must be a true/false condition, but gives {compiled.type.describe()}"
                issues.append(SpecIssue(fragment.source, field, f"{message} {where}"))
                continue
            checks.append(Check(check_id, item["message"], check=compiled, kind="policy"))
    return checks, issues


def _enum(schema: Any) -> list[Any] | None:
    enum = schema.get("enum") if isinstance(schema, Mapping) else None
    return enum if isinstance(enum, list) else None


def rubric_build(
    data: Mapping[str, Any], bad: set[tuple[Any, ...]], *, output_ok: bool, source: str
) -> tuple[tuple[RubricCompare, ...], list[SpecIssue]]:
    """The `rubric:` comparisons of an SOP, checked against its output schema and `offline`."""
    if "rubric" not in data or not usable(bad, "rubric"):
        return (), []
    issues: list[SpecIssue] = []
    if not data.get("offline"):
        issues.append(
            SpecIssue(source, "rubric", "a rubric comparison needs an `offline` skill to run")
        )
    properties = data["output"].get("properties", {}) if output_ok else None
    compares: list[RubricCompare] = []
    seen: set[str] = set()
    for i, item in enumerate(data["rubric"]["compare"]):
        at = f"rubric.compare[{i}]"
        name, order = item["field"], tuple(item.get("order", ()))
        tolerance = item.get("tolerance", 0)
        if name in seen:
            issues.append(SpecIssue(source, f"{at}.field", f"'{name}' is compared twice"))
        seen.add(name)
        compares.append(RubricCompare(field=name, tolerance=tolerance, order=order))
        if properties is None:
            continue  # the output schema is invalid; that is reported already
        schema = properties.get(name)
        if not isinstance(schema, Mapping):
            known = ", ".join(sorted(properties)) or "none"
            message = f"'{name}' is not a top-level field of the output (fields: {known})"
            issues.append(SpecIssue(source, f"{at}.field", message))
            continue
        kinds = schema.get("type")
        kinds = set(kinds) if isinstance(kinds, list) else {kinds}
        enum = _enum(schema)
        if kinds & {"integer", "number"}:
            if order:
                message = f"'{name}' is a number; `order` is only for enum fields"
                issues.append(SpecIssue(source, f"{at}.order", message))
        elif enum is not None:
            missing = [value for value in order if value not in enum]
            if missing:
                message = f"{missing} are not values of '{name}' (values: {enum})"
                issues.append(SpecIssue(source, f"{at}.order", message))
            if tolerance and not order:
                message = "a tolerance on an enum field needs `order` to count steps"
                issues.append(SpecIssue(source, f"{at}.tolerance", message))
        else:
            message = f"'{name}' must be a number or an enum to compare with a rubric"
            issues.append(SpecIssue(source, f"{at}.field", message))
    return tuple(compares), issues
