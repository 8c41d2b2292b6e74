"""Verify a proposed result against its SOP: schema, grounding, acceptance, judges, escalations.

Pure Python. Expressions are compiled when the SOP loads; the schema validator is built once per
output schema and reused, so verifying a result costs only the checks themselves.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from salesops.skills.context import iso_timestamp, to_utc
from salesops.specs.expressions import PreparedActivation
from salesops.specs.model import Check, CompiledExpression, ExpressionError, SopSpec
from salesops.verify.grounding import grounding_check
from salesops.verify.report import CheckOutcome, VerificationReport

Judge = Callable[[Check, dict[str, Any], dict[str, Any]], CheckOutcome]

JUDGE_UNAVAILABLE = "judge checks need the anthropic engine"
_CACHE_SIZE = 256
# id(schema) -> (schema, validator); the schema is kept so the id cannot be reused while cached.
_validators: OrderedDict[int, tuple[dict[str, Any], Draft202012Validator]] = OrderedDict()


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A cached Draft 2020-12 validator (with format checks) for an output schema."""
    key = id(schema)
    cached = _validators.get(key)
    if cached is not None and cached[0] is schema:
        _validators.move_to_end(key)
        return cached[1]
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    _validators[key] = (schema, validator)
    if len(_validators) > _CACHE_SIZE:
        _validators.popitem(last=False)
    return validator


def schema_outcomes(schema: dict[str, Any], result: Any) -> list[CheckOutcome]:
    """One failed outcome per schema error, each naming the JSON path; [] when valid."""
    errors = sorted(schema_validator(schema).iter_errors(result), key=lambda e: e.json_path)
    return [
        CheckOutcome("schema", "schema", "failed", f"{e.json_path}: {e.message}") for e in errors
    ]


def _truth(expression: CompiledExpression, activation: dict[str, Any]) -> bool:
    """Evaluate to a bool; anything that is not a bool is an ExpressionError."""
    evaluate_bool = getattr(expression, "evaluate_bool", None)
    if callable(evaluate_bool):
        return bool(evaluate_bool(activation))
    value = expression.evaluate(activation)
    if isinstance(value, bool):
        return value
    # cel-python's BoolType is an int subclass named BoolType; accept it, reject other ints.
    if isinstance(value, int) and type(value).__name__.lower().startswith("bool"):
        return bool(value)
    raise ExpressionError(f"{expression.source!r} yielded {value!r}, not true or false")


def _evaluate(
    expression: CompiledExpression, activation: dict[str, Any]
) -> tuple[bool | None, str]:
    """(truth, "") or (None, reason) when the expression could not be evaluated."""
    try:
        return _truth(expression, activation), ""
    except ExpressionError as exc:
        return None, f"could not evaluate {expression.source!r}: {exc}"
    except Exception as exc:  # a bug in an expression must not crash a run; report it
        return None, f"could not evaluate {expression.source!r}: {type(exc).__name__}: {exc}"


def activation_build(record: Mapping[str, Any], result: Any, now: datetime) -> dict[str, Any]:
    """The CEL variables for checks and escalations: record, result, now (ISO), today."""
    return PreparedActivation(
        record=record,
        result=result,
        now=iso_timestamp(now),
        today=to_utc(now).date().isoformat(),
    )


def _judge_outcome(
    check: Check, result: dict[str, Any], record: dict[str, Any], judge: Judge | None, ready: bool
) -> CheckOutcome:
    """Run a judge check, or say why it did not run."""
    fallback = "skipped" if check.when_unavailable == "skip" else "escalate"
    if judge is None:
        return CheckOutcome(check.id, "judge", fallback, JUDGE_UNAVAILABLE)
    if not ready:
        # A judge costs a model call; no point paying for it when a cheap check already failed.
        return CheckOutcome(check.id, "judge", "skipped", "not run: a deterministic check failed")
    try:
        return judge(check, result, record)
    except Exception as exc:  # the judge is a model call; its failure is a check error
        return CheckOutcome(
            check.id, "judge", "error", f"judge failed: {type(exc).__name__}: {exc}"
        )


def verify_result(
    spec: SopSpec,
    result: Any,
    record: dict[str, Any],
    *,
    now: datetime,
    judge: Judge | None = None,
) -> VerificationReport:
    """Run every check of `spec` on `result` for `record`, in order, and report each outcome."""
    report = VerificationReport()
    schema_failures = schema_outcomes(spec.output, result)
    if schema_failures:
        # Later checks assume the declared shape and would fail confusingly; stop here.
        report.outcomes.extend(schema_failures)
        return report
    report.outcomes.append(CheckOutcome("schema", "schema", "passed"))

    for path in spec.evidence:
        report.outcomes.append(grounding_check(path, result, record))

    activation = activation_build(record, result, now)
    judges: list[Check] = []
    for check in spec.acceptance:
        if check.check is None:
            judges.append(check)
            continue
        truth, reason = _evaluate(check.check, activation)
        if truth is None:
            report.outcomes.append(CheckOutcome(check.id, "acceptance", "error", reason))
        elif truth:
            report.outcomes.append(CheckOutcome(check.id, "acceptance", "passed"))
        else:
            report.outcomes.append(CheckOutcome(check.id, "acceptance", "failed", check.message))

    ready = report.passed
    for check in judges:
        report.outcomes.append(_judge_outcome(check, result, record, judge, ready))

    for rule in spec.escalate_when:
        truth, reason = _evaluate(rule.when, activation)
        if truth is None:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "error", reason))
        elif truth:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "escalate", rule.message))
        else:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "passed"))
    return report
