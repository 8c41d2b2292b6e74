"""Verify a proposed result against its SOP, in order: schema, evidence grounding, the
injection guard, claims in free text, acceptance and inherited policy checks, the rubric
comparison, judges, escalation conditions.

Pure Python. Expressions are compiled when the SOP loads; the schema validator is built once per
output schema and reused, so verifying a result costs only the checks themselves.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from salesops.skills.context import iso_timestamp, to_utc
from salesops.specs.expressions import PreparedActivation
from salesops.specs.model import Check, CompiledExpression, ExpressionError, SopSpec
from salesops.verify.claims import claims_check
from salesops.verify.grounding import grounding_check
from salesops.verify.injection import injection_outcomes
from salesops.verify.policy import failure_message, texts_variable
from salesops.verify.report import CheckOutcome, VerificationReport
from salesops.verify.rubric import rubric_outcomes

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

Judge = Callable[[Check, dict[str, Any], dict[str, Any]], CheckOutcome]
# Who produced the result: a model engine, the deterministic rules engine, or a human reviewer.
Origin = Literal["model", "rules", "human"]

JUDGE_UNAVAILABLE = "not run: no model engine is configured to judge"
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
    # Imported on first use: jsonschema costs ~30 ms of every command's start-up.
    from jsonschema import Draft202012Validator

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


def activation_build(
    record: Mapping[str, Any],
    result: Any,
    now: datetime,
    output: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CEL variables for checks and escalations: record, result, now (ISO), today, and
    `texts` (the result's free text as {path, text}; [] unless the output schema is given)."""
    return PreparedActivation(
        record=record,
        result=result,
        now=iso_timestamp(now),
        today=to_utc(now).date().isoformat(),
        texts=texts_variable(output, result),
    )


def judge_unavailable(check: Check, origin: Origin) -> CheckOutcome:
    """What a judge check says when no model can judge: by default a model's result escalates
    (nobody checked what only a judge can), the reproducible rules engine's result skips, and a
    reviewer's own edit skips (the reviewer is the judge); `when_unavailable` overrides."""
    policy = check.when_unavailable
    if policy == "auto":
        policy = "escalate" if origin == "model" else "skip"
    if policy == "skip":
        why = {
            "rules": "the rules engine's result is deterministic and reproducible",
            "human": "a reviewer wrote this result",
        }.get(origin, "the SOP lets this check skip")
        return CheckOutcome(check.id, "judge", "skipped", f"{JUDGE_UNAVAILABLE}; skipped: {why}")
    return CheckOutcome(
        check.id,
        "judge",
        "escalate",
        f"{JUDGE_UNAVAILABLE}; a model's result goes to a human instead",
    )


def _judge_outcome(
    check: Check,
    result: dict[str, Any],
    record: dict[str, Any],
    judge: Judge | None,
    ready: bool,
    origin: Origin,
) -> CheckOutcome:
    """Run a judge check, or say why it did not run."""
    if judge is None:
        return judge_unavailable(check, origin)
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
    origin: Origin = "model",
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
    report.outcomes.extend(injection_outcomes(spec.output, result, record))
    report.outcomes.append(claims_check(spec, result, record, now=now))

    activation = activation_build(record, result, now, spec.output)
    judges: list[Check] = []
    for check in spec.acceptance:
        if check.check is None:
            judges.append(check)
            continue
        truth, reason = _evaluate(check.check, activation)
        if truth is None:
            report.outcomes.append(CheckOutcome(check.id, check.kind, "error", reason))
        elif truth:
            report.outcomes.append(CheckOutcome(check.id, check.kind, "passed"))
        else:
            message = failure_message(check, activation)  # names the texts at fault, if any
            report.outcomes.append(CheckOutcome(check.id, check.kind, "failed", message))
    if origin != "rules":  # the rules engine's result is the rubric's own answer
        report.outcomes.extend(rubric_outcomes(spec, result, record, now))

    ready = report.passed
    for check in judges:
        report.outcomes.append(_judge_outcome(check, result, record, judge, ready, origin))

    for rule in spec.escalate_when:
        truth, reason = _evaluate(rule.when, activation)
        if truth is None:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "error", reason))
        elif truth:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "escalate", rule.message))
        else:
            report.outcomes.append(CheckOutcome(rule.id, "escalation", "passed"))
    return report
