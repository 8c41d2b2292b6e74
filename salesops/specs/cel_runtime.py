"""Evaluate SOP expressions with the Rust CEL runtime (`common-expression-language`, import `cel`).

celpy still parses and type-checks every expression at load time (expressions.py); this module
compiles the same text once more into a Rust `cel.Program`, which evaluates 50-300x faster than
celpy's tree walker. The documented semantics (expressions.py's docstring) are kept this way:

- `has(a.b.c)` is rewritten at compile time to
  `(a != null && has(a.b) && a.b != null && has(a.b.c) && a.b.c != null)`, so it is false when
  the field, or anything on the way to it, is null (Rust CEL's `has()` is true for a present null).
  Only plain member chains are rewritten; an expression with any other `has()` form gets no Rust
  program and is evaluated by celpy.
- Numbers: Rust CEL compares int and double natively (`record.amount >= 100000` with a float
  amount, `record.n >= 1.5`, `5 == 5.0`), like celpy with our cross-type comparison overloads.
  JSON numbers are therefore passed as they are. Arithmetic across int and double is an error in
  both runtimes.
- Errors: whenever the Rust program raises (a null in an ordering, a missing key, a custom
  function refusing its argument, anything else), the caller re-evaluates with celpy, which
  produces the error message users already know (with its "a value is null" hint) and which stays
  the reference for any corner where the two runtimes would disagree. Errors are the rare path.
- Custom functions are the plain implementations from cel_functions.py; a failure is returned
  to Rust as an unconvertible value, which makes the call a CEL error (absorbed by `||`/`&&` as
  usual) without the `cel` logger printing a warning for every refused argument.
- Dates and datetimes become ISO strings, Decimals become doubles, tuples lists (as in to_cel).
- Expressions calling `string()` stay on celpy: Rust formats `string(2.0)` as "2", celpy as "2.0",
  and such a value may be written back to the CRM.
- Where the two runtimes differ, the Rust answer follows the CEL spec and the documented semantics
  where celpy raised: equality across types is false instead of an error (`record.amount == null`
  with a number, `x == 1` with a null `x`, `1 == 'a'`), `[1] == [1.0]` is true, and `5 in [5.0]`
  is true. No value celpy computes is known to change: tests/specs/test_specs_cel_runtime.py
  checks every expression of the shipped SOPs on the sample CRM under both runtimes.

`SALESOPS_CEL_RUNTIME=celpy` (read when an expression is compiled) disables the Rust runtime.
A `cel.Context` is not thread-safe: build one per activation and do not share it across threads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lark import Token, Tree

from salesops.specs.cel_functions import PLAIN_FUNCTIONS
from salesops.specs.model import ExpressionError

if TYPE_CHECKING:
    import cel

RUNTIME_ENV = "SALESOPS_CEL_RUNTIME"


def is_rust_error(exc: BaseException) -> bool:
    """True for what the Rust runtime raises on a failed evaluation.

    TypeError, KeyError, ValueError, RuntimeError, ZeroDivisionError, OverflowError, IndexError...
    and pyo3's PanicException, which derives from BaseException only (not KeyboardInterrupt).
    """
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def rust_enabled() -> bool:
    """False when SALESOPS_CEL_RUNTIME=celpy forces the celpy evaluator."""
    return os.environ.get(RUNTIME_ENV, "").strip().lower() != "celpy"


class _Refused:
    """Returned by a custom function that failed: Rust cannot convert it, so the call errors."""

    __slots__ = ()


_REFUSED = _Refused()


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception:  # celpy re-evaluates on any Rust error and reports this one properly
            return _REFUSED

    call.__name__ = function.__name__
    return call


RUST_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _guarded(function) for name, function in PLAIN_FUNCTIONS.items()
}


def to_plain(value: Any) -> Any:
    """JSON-like value the Rust runtime accepts. Dates and datetimes become ISO strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):  # datetime too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    raise ExpressionError(f"cannot pass a {type(value).__name__} to an expression")


def build_context(variables: Mapping[str, Any]) -> cel.Context | None:
    """A Rust evaluation context for these plain variables; None when one cannot be converted."""
    # Imported here, not at the top: the `cel` package loads its CLI (prompt_toolkit, typer) on
    # import, ~0.1 s that every management command would pay through the admin's imports.
    import cel

    try:
        plain = {str(name): to_plain(value) for name, value in variables.items()}
        return cel.Context(variables=plain, functions=RUST_FUNCTIONS)
    except BaseException as exc:
        if not is_rust_error(exc):
            raise
        return None  # celpy evaluates (and reports) instead


def _kids(tree: Tree) -> list[Any]:
    return [child for child in tree.children if child is not None]


def _member_chain(tree: Any) -> list[str] | None:
    """["a", "b", "c"] when `tree` is nothing but the member selection `a.b.c`, else None."""
    names: list[str] = []
    while isinstance(tree, Tree):
        kids = _kids(tree)
        if tree.data == "member_dot":
            if len(kids) != 2 or not isinstance(kids[1], Token):
                return None
            names.append(str(kids[1]))
            tree = kids[0]
        elif tree.data == "ident":
            if len(kids) != 1 or not isinstance(kids[0], Token):
                return None
            names.append(str(kids[0]))
            return names[::-1] if len(names) >= 2 else None
        elif len(kids) == 1:
            tree = kids[0]
        else:
            return None
    return None


def _guard(chain: list[str]) -> str:
    parts = [f"{chain[0]} != null"]
    for end in range(2, len(chain) + 1):
        path = ".".join(chain[:end])
        parts.append(f"has({path}) && {path} != null")
    return "(" + " && ".join(parts) + ")"


def rewrite_has(text: str, tree: Tree) -> str | None:
    """`text` with every `has(a.b...)` made null-aware; None when a has() form is not a chain."""
    spans: list[tuple[int, int, str]] = []
    for node in tree.iter_subtrees():
        kids = _kids(node)
        if node.data != "ident_arg" or not kids or str(kids[0]) != "has":
            continue
        meta = node.meta
        if getattr(meta, "empty", True) or len(kids) != 2 or len(_kids(kids[1])) != 1:
            return None
        chain = _member_chain(_kids(kids[1])[0])
        start, end = meta.start_pos, meta.end_pos
        if chain is None or not text[start:end].startswith("has") or text[end - 1] != ")":
            return None
        spans.append((start, end, _guard(chain)))
    spans.sort()
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        if start < end:
            return None
    for start, end, replacement in reversed(spans):
        text = text[:start] + replacement + text[end:]
    return text


# Functions whose results differ between the runtimes: `string(2.0)` is "2.0" in celpy, "2" here.
_CELPY_ONLY = frozenset({"string"})


def compile_program(text: str, tree: Tree) -> cel.Program | None:
    """The Rust program for a checked expression, or None when celpy must evaluate it."""
    if not rust_enabled():
        return None
    rewritten = rewrite_has(text, tree)
    if rewritten is None:
        return None
    import cel  # lazily: see build_context

    try:
        program = cel.compile(rewritten)
    except BaseException as exc:  # a form the Rust parser does not know: celpy evaluates it
        if not is_rust_error(exc):
            raise
        return None
    if _CELPY_ONLY & set(program.functions()):
        return None
    return program
