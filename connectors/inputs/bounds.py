"""Size, depth, length, range, finiteness and encoding limits for external input. Pure Python.

Checked before any parse that can recurse: a JSON body's nesting is measured by a linear scan
before `json.loads` sees it, so no input reaches a RecursionError, an overflow or a database
DataError further in. Every refusal is an InputRejected with a reason a client can act on and
the HTTP status an edge should answer (413 for too large, 400 otherwise).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Bounds for one kind of input; every edge names its own or takes the defaults."""

    max_bytes: int = 1_000_000  # the whole body
    max_depth: int = 32  # nesting of objects and arrays
    max_items: int = 10_000  # entries in one object or array
    max_string: int = 100_000  # characters in one string (keys included)
    max_int_digits: int = 30  # a larger integer is an attack or an error, never data


DEFAULT_LIMITS = Limits()


class InputRejected(ValueError):
    """External input outside the limits; `status` is the HTTP answer (400, or 413)."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


def _nesting(text: str) -> int:
    """Deepest nesting of [ and { outside strings, in one pass (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _constant(name: str) -> Any:
    raise InputRejected(f"{name} is not a number JSON allows")


def json_loads_bounded(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse a JSON body within `limits`: size, UTF-8, nesting, then every value.

    Raises InputRejected naming what is wrong (413 when the body is too large).
    """
    size = len(raw)
    if size > limits.max_bytes:
        raise InputRejected(f"body is {size} bytes; the limit is {limits.max_bytes}", status=413)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRejected(f"body is not UTF-8 (byte {exc.start})") from None
    else:
        text = raw
    depth = _nesting(text)
    if depth > limits.max_depth:
        raise InputRejected(f"JSON is nested {depth} deep; the limit is {limits.max_depth}")

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_int_digits:
            raise InputRejected(
                f"an integer has {len(digits)} digits; the limit is {limits.max_int_digits}"
            )
        return int(digits)

    def parse_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise InputRejected(f"number {literal[:40]} is out of range")
        return value

    try:
        data = json.loads(
            text, parse_int=parse_int, parse_float=parse_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InputRejected(f"not valid JSON: {exc.msg} ({where})") from None
    if not (isinstance(raw, bytes) and _values_within(text, limits)):
        value_check(data, limits)
    return data


def _values_within(text: str, limits: Limits) -> bool:
    """True when no value parsed from `text` (decoded from UTF-8, its depth and numbers
    already checked) can break `limits`, so the walk over every value can be skipped.

    No string or key is longer than the whole text; no container has more entries than the
    text has commas plus one; a NUL or a lone surrogate needs a \\u escape (strict JSON refuses
    raw control characters, and UTF-8 has no surrogates).
    """
    return (
        len(text) <= limits.max_string and text.count(",") < limits.max_items and "\\u" not in text
    )


def text_check(value: str, *, max_length: int, where: str = "text") -> str:
    """A string a database and a browser can hold: bounded, no NUL, no lone surrogates."""
    if len(value) > max_length:
        raise InputRejected(f"{where} is {len(value)} characters; the limit is {max_length}")
    if "\x00" in value:
        raise InputRejected(f"{where} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputRejected(f"{where} contains a lone surrogate (not valid Unicode)") from None
    return value


def value_check(value: Any, limits: Limits = DEFAULT_LIMITS, where: str = "$") -> None:
    """Check an already-parsed JSON value against `limits`, iteratively (no recursion).

    Raises InputRejected naming the JSON path of the first value out of bounds.
    """
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            text_check(node, max_length=limits.max_string, where=path)
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if len(str(abs(node))) > limits.max_int_digits:
                raise InputRejected(f"{path} has more than {limits.max_int_digits} digits")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InputRejected(f"{path} is not a finite number")
        elif isinstance(node, Mapping | list | tuple):
            if depth > limits.max_depth:
                raise InputRejected(f"{path} is nested deeper than {limits.max_depth}")
            if len(node) > limits.max_items:
                raise InputRejected(
                    f"{path} has {len(node)} entries; the limit is {limits.max_items}"
                )
            if isinstance(node, Mapping):
                for key, item in node.items():
                    name = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key!r}]"
                    if isinstance(key, str):
                        text_check(key, max_length=limits.max_string, where=f"a key in {path}")
                    stack.append((item, name, depth + 1))
            else:
                stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node))
        else:
            raise InputRejected(f"{path} is a {type(node).__name__}, not a JSON value")
