"""Cost limits for SOP expressions, checked at load and bounded at run time. Pure Python.

celpy's parse tree is walked recursively by the type checker and the celpy evaluator, and a
comprehension nested in another multiplies the work by the size of every list it iterates. So:

1. `scan_problems` measures the text in one linear pass (length, bracket nesting, operator
   count) before any parser sees it: hundreds of parentheses or thousands of `&&` terms are
   refused without building a tree.
2. `tree_cost` measures the parse tree iteratively (depth, nodes, comprehension nesting) before
   the recursive type checker walks it; `tree_problems` refuses what exceeds the limits.
3. At run time `steps_problem` estimates nodes x (longest list) ^ (comprehension nesting) for the
   actual values and refuses an evaluation above the runtime's budget before it starts.

The limits are documented in docs/sop-format.md ("Limits"); the shipped SOPs use a fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

MAX_LENGTH = 1_000  # characters of one expression (the longest shipped one has 230)
MAX_NESTING = 12  # brackets ( [ { open at once (shipped: 3)
MAX_TERMS = 100  # operators, member selections and arguments (shipped: 25)
MAX_TREE_DEPTH = 250  # parse-tree levels the recursive checker and evaluator walk (shipped: 70)
MAX_COMPREHENSION_NESTING = 2  # exists/all/exists_one/map/filter inside one another (shipped: 1)
# Estimated evaluation steps (tree nodes x longest list ^ nesting) one evaluation may take.
# Measured: the Rust runtime does about 40 million steps a second, celpy about 40 thousand.
MAX_STEPS = 20_000_000  # Rust: half a second at most
MAX_STEPS_CELPY = 100_000  # celpy (errors, `string()`, SALESOPS_CEL_RUNTIME=celpy): ~2.5 s

MACROS = frozenset({"exists", "all", "exists_one", "map", "filter"})
_OPERATOR_CHARS = frozenset("!<>=&|+-*/%?.,:")
_PAIRS = frozenset({"&&", "||", "==", "!=", "<=", ">="})


def scan_problems(text: str) -> list[str]:
    """Problems found by one linear pass over the text (string literals skipped); no parsing."""
    if len(text) > MAX_LENGTH:
        return [f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}"]
    depth = deepest = terms = 0
    quote = ""  # the open string literal's delimiter, or "" outside strings
    raw = False
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and not raw:
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif char in "'\"":
            quote = char * 3 if text.startswith(char * 3, i) else char
            raw = i > 0 and text[i - 1] in "rR"
            i += len(quote)
            continue
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
        elif char in _OPERATOR_CHARS and text[i - 1 : i + 1] not in _PAIRS:
            terms += 1
        i += 1
    problems = []
    if deepest > MAX_NESTING:
        problems.append(f"brackets are nested {deepest} deep; the limit is {MAX_NESTING}")
    if terms > MAX_TERMS:
        problems.append(f"the expression has {terms} operators and terms; the limit is {MAX_TERMS}")
    return problems


@dataclass(frozen=True)
class TreeCost:
    """What an expression costs: parse-tree depth and nodes, and comprehension nesting."""

    depth: int
    nodes: int
    comprehensions: int  # deepest nesting of macros; 0 when the expression has none


def _macro_name(node: Tree) -> str | None:
    if node.data != "member_dot_arg":
        return None
    kids = [kid for kid in node.children if kid is not None]
    if len(kids) >= 2 and isinstance(kids[1], Token) and str(kids[1]) in MACROS:
        return str(kids[1])
    return None


def tree_cost(tree: Tree) -> TreeCost:
    """Measure a parse tree with an explicit stack (no recursion, whatever its depth)."""
    stack: list[tuple[Any, int, int]] = [(tree, 1, 0)]
    depth = nodes = comprehensions = 0
    while stack:
        node, level, nested = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if not isinstance(node, Tree):
            continue
        if _macro_name(node) is not None:
            nested += 1
            comprehensions = max(comprehensions, nested)
        stack.extend((kid, level + 1, nested) for kid in node.children if kid is not None)
    return TreeCost(depth=depth, nodes=nodes, comprehensions=comprehensions)


def tree_problems(cost: TreeCost) -> list[str]:
    """Problems with a measured tree: too deep for the recursive walkers, or too costly."""
    problems = []
    if cost.depth > MAX_TREE_DEPTH:
        problems.append(
            f"the expression is nested {cost.depth} levels deep once parsed; "
            f"the limit is {MAX_TREE_DEPTH}"
        )
    if cost.comprehensions > MAX_COMPREHENSION_NESTING:
        problems.append(
            f"comprehensions (exists, all, exists_one, map, filter) are nested "
            f"{cost.comprehensions} deep; the limit is {MAX_COMPREHENSION_NESTING}"
        )
    return problems


def longest_list(values: Iterable[Any]) -> int:
    """The length of the longest list anywhere in `values` (iteratively; 0 when none)."""
    stack = list(values)
    longest = 0
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            longest = max(longest, len(value))
            stack.extend(value)
    return longest


def steps_problem(cost: TreeCost, list_length: int, budget: int = MAX_STEPS) -> str | None:
    """Why evaluating now would cost too much, or None: nodes x longest list ^ nesting."""
    if cost.comprehensions == 0:
        return None
    steps = cost.nodes * max(list_length, 1) ** cost.comprehensions
    if steps <= budget:
        return None
    return (
        f"would take about {steps:,} steps over a list of {list_length:,} items "
        f"(comprehensions nested {cost.comprehensions} deep); the limit is {budget:,}"
    )
