"""Compile, type-check and evaluate SOP expressions (CEL).

cel-python (celpy) parses and type-checks at load time; evaluation runs on the Rust CEL runtime
(cel_runtime.py) and falls back to celpy for errors and for forms the Rust runtime is not given.
`SALESOPS_CEL_RUNTIME=celpy` forces celpy throughout.

Null semantics (every record field is present, None when unknown):
- `x == null` / `x != null` work on any field.
- `has(a.b)` is true only when `a.b` exists *and is not null*: the record document always carries
  every field, so plain CEL `has()` would be true for unknown values and the documented guard
  `has(record.company.employees) && record.company.employees > 5000` would still fail on null.
- Ordering or arithmetic on null (`record.company.employees > 5000` when unknown) is an
  evaluation error -> ExpressionError; `false && <error>` is false and `true || <error>` is true,
  as in CEL.
- Numbers compare across int and double (`record.amount >= 100000` with a float amount).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, Evaluator

from salesops.specs import cel_runtime, cost
from salesops.specs.cel_functions import FUNCTIONS
from salesops.specs.model import ExpressionError
from salesops.specs.scope import DYN, CelType, ExpressionScope
from salesops.specs.typecheck import check_tree


class _Evaluator(Evaluator):
    """celpy's evaluator with `has()` false for null values (see module docstring)."""

    def macro_has_eval(self, exprlist: lark.Tree) -> celtypes.BoolType:
        value = self.visit_children(exprlist)[0]
        return celtypes.BoolType(not isinstance(value, CELEvalError) and value is not None)

    def sub_evaluator(self, ast: lark.Tree) -> Evaluator:
        return _Evaluator(ast, activation=self.activation)


class _Runner(celpy.InterpretedRunner):
    def evaluate(self, context: Any) -> Any:
        return _Evaluator(ast=self.ast, activation=self.new_activation()).evaluate(context)


@functools.cache
def _env() -> celpy.Environment:
    # One environment for the process: building celpy's lark parser is the expensive part
    # (~0.1 s), so it is built on the first compile, not when a command imports this module.
    return celpy.Environment(runner_class=_Runner)


def to_cel(value: Any) -> Any:
    """Plain Python/JSON value -> celpy value. Dates and datetimes become ISO strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float | Decimal):
        return celtypes.DoubleType(float(value))
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, dt.date):  # datetime too
        return celtypes.StringType(value.isoformat())
    if isinstance(value, list | tuple):
        return celtypes.ListType([to_cel(item) for item in value])
    if isinstance(value, Mapping):
        return celtypes.MapType({celtypes.StringType(str(k)): to_cel(v) for k, v in value.items()})
    raise ExpressionError(f"cannot pass a {type(value).__name__} to an expression")


def from_cel(value: Any) -> Any:
    """celpy value -> plain Python (bool/int/float/str/list/dict/None)."""
    if value is None or isinstance(value, celtypes.NullType):
        return None
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {from_cel(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_cel(item) for item in value]
    if isinstance(value, CELEvalError):
        raise ExpressionError(_describe(value))
    return value


_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "in": "in"}


def _describe(exc: BaseException) -> str:
    """A readable message from celpy's error, whose text names internal classes."""
    parts = [str(arg) for arg in exc.args[:1]]
    if len(exc.args) > 2 and exc.args[2]:
        # Our own functions explain themselves; celpy's "no such overload: IntType(5)..." doesn't.
        parts.extend(
            str(arg)
            for arg in exc.args[2]
            if isinstance(arg, str) and not arg.startswith("no such overload")
        )
    text = "; ".join(dict.fromkeys(p for p in parts if p)) or type(exc).__name__
    text = re.sub(
        r"found no matching overload for Token\('RULE', '\w+_(\w+)'\) applied to",
        lambda m: f"cannot apply '{_OPS.get(m.group(1), m.group(1))}' to",
        text,
    )
    text = re.sub(r"<class 'celpy\.celtypes\.(\w+?)Type'>", lambda m: m.group(1).lower(), text)
    text = text.replace("<class 'NoneType'>", "null")
    if "NoneType" in text or "null" in text:
        text += " (a value is null: guard it with has(...) or compare with null first)"
    return text


_UNBUILT = object()


class PreparedActivation(dict[str, Any]):
    """Plain variables plus their CEL form, converted once and shared by many expressions.

    Converting a record document to celpy values costs more than evaluating most checks, and a
    verification evaluates a dozen expressions over the same record and result.
    """

    _cel: dict[str, Any] | None = None
    _rust: Any = _UNBUILT
    _longest: int | None = None

    def longest_list(self) -> int:
        """The longest list in the variables (computed on first use), for the step budget."""
        if self._longest is None:
            self._longest = cost.longest_list(self.values())
        return self._longest

    def cel(self) -> dict[str, Any]:
        """The celpy-typed variables (computed on first use)."""
        if self._cel is None:
            self._cel = {name: to_cel(value) for name, value in self.items()}
        return self._cel

    def rust_context(self) -> Any:
        """The Rust runtime's context (built on first use); None when it cannot take the values.

        Not thread-safe (neither is cel.Context): use one activation per thread.
        """
        if self._rust is _UNBUILT:
            self._rust = cel_runtime.build_context(self)
        return self._rust


class CelExpression:
    """A compiled, type-checked CEL expression (implements model.CompiledExpression).

    Equality is by expression text, so specs parsed twice from the same file compare equal.
    """

    __slots__ = ("_names", "_program", "_rust", "cost", "field", "origin", "source", "type")

    def __init__(
        self,
        source: str,
        program: Any,
        *,
        type: CelType = DYN,
        field: str = "",
        origin: str = "",
        rust: Any = None,
        tree_cost: cost.TreeCost | None = None,
    ) -> None:
        self.source = source
        self.cost = tree_cost or cost.TreeCost(depth=0, nodes=0, comprehensions=0)
        self.type = type
        self.field = field
        self.origin = origin
        self._program = program  # celpy: errors, and forms the Rust runtime is not given
        self._rust = rust  # cel.Program, or None
        # Identifiers the program reads: a plain-dict activation converts only those variables.
        self._names: frozenset[str] = (
            frozenset(rust.variables()) if rust is not None else frozenset()
        )

    def _within_budget(self, activation: dict[str, Any], budget: int) -> None:
        """Refuse, before it starts, an evaluation whose comprehensions would run too long."""
        if not self.cost.comprehensions:
            return
        if isinstance(activation, PreparedActivation):
            longest = activation.longest_list()
        else:
            longest = cost.longest_list(activation.values())
        problem = cost.steps_problem(self.cost, longest, budget)
        if problem:
            where = ": ".join(p for p in (self.origin, self.field) if p)
            raise ExpressionError(f"{where + ': ' if where else ''}`{self.source}` {problem}")

    def evaluate(self, activation: dict[str, Any]) -> Any:
        """Evaluate against plain values; raise ExpressionError on any failure."""
        if self._rust is not None:
            self._within_budget(activation, cost.MAX_STEPS)
            if isinstance(activation, PreparedActivation):
                context = activation.rust_context()
            else:
                context = cel_runtime.build_context(
                    {name: activation[name] for name in self._names if name in activation}
                )
            if context is not None:
                try:
                    value = self._rust.execute(context)
                except BaseException as exc:  # celpy below re-evaluates and explains the error
                    if not cel_runtime.is_rust_error(exc):
                        raise
                else:
                    return value if type(value) is bool else from_cel(value)
        return self.evaluate_celpy(activation)

    def evaluate_celpy(self, activation: dict[str, Any]) -> Any:
        """Evaluate with celpy (the reference evaluator); raise ExpressionError on any failure."""
        self._within_budget(activation, cost.MAX_STEPS_CELPY)
        where = ": ".join(p for p in (self.origin, self.field) if p)
        prefix = f"{where}: " if where else ""
        try:
            if isinstance(activation, PreparedActivation):
                context = activation.cel()
            else:
                context = {name: to_cel(value) for name, value in activation.items()}
            value = self._program.evaluate(context)
            return from_cel(value)
        except ExpressionError as exc:
            raise ExpressionError(f"{prefix}`{self.source}`: {exc}") from exc
        except CELEvalError as exc:
            raise ExpressionError(f"{prefix}`{self.source}` failed: {_describe(exc)}") from exc
        except Exception as exc:  # celpy lets some Python errors (RecursionError...) through
            raise ExpressionError(f"{prefix}`{self.source}` failed: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelExpression) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"CelExpression({self.source!r})"


def check_expression(
    text: str, scope: ExpressionScope, *, source: str = "", field: str = ""
) -> tuple[CelExpression | None, list[str]]:
    """Compile and type-check; return the expression (None on failure) and every problem."""
    if not isinstance(text, str) or not text.strip():
        return None, ["expression is empty"]
    # Measured before anything recursive sees the text (cost.py); the parser is iterative.
    problems = cost.scan_problems(text)
    if problems:
        return None, problems
    try:
        tree = _env().compile(text)
    except CELParseError as exc:
        column = getattr(exc, "column", None)
        near = f" near {text[column - 1 : column + 11]!r}" if column else ""
        at = f" at column {column}" if column else ""
        return None, [f"CEL syntax error{at}{near} in `{text}`"]
    measured = cost.tree_cost(tree)
    problems = cost.tree_problems(measured)
    if problems:
        return None, problems
    try:
        static_type, problems = check_tree(tree, scope.variables)
        if problems:
            return None, problems
        program = _env().program(tree, functions=FUNCTIONS)
        rust = cel_runtime.compile_program(text, tree)
    except RecursionError:  # the limits above should make this unreachable; never a 500
        return None, ["the expression is too deeply nested to check"]
    expression = CelExpression(
        text, program, type=static_type, field=field, origin=source, rust=rust, tree_cost=measured
    )
    return expression, []


def compile_expression(
    text: str, *, scope: ExpressionScope, source: str, field: str
) -> CelExpression:
    """Compile and type-check one expression; raise ExpressionError naming file and field."""
    expression, problems = check_expression(text, scope, source=source, field=field)
    if expression is None:
        raise ExpressionError(f"{source}: {field}: " + "; ".join(problems))
    return expression


def evaluate_bool(expr: Any, activation: dict[str, Any]) -> bool:
    """Evaluate a condition; a non-bool result (e.g. null) is an ExpressionError."""
    value = expr.evaluate(activation)
    if not isinstance(value, bool):
        raise ExpressionError(f"`{expr.source}` gave {value!r}, not true or false")
    return value
