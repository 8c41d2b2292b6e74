"""Small helpers over celpy's lark parse trees, shared by the type checker."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lark import Tree

from salesops.specs.scope import CelType

NO_LITERAL = object()


@dataclass
class Typed:
    """A sub-expression's static type, plus its dotted path or literal value for messages."""

    type: CelType
    path: str | None = None
    literal: Any = NO_LITERAL

    @property
    def label(self) -> str:
        if self.path:
            return self.path
        if self.literal is not NO_LITERAL:
            return "null" if self.literal is None else repr(self.literal)
        return f"a {self.type.describe()} value"


def suggest(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a close match exists, else an empty string."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def kids_of(tree: Tree) -> list[Any]:
    """Children of a node without the None placeholders of optional parts."""
    return [child for child in tree.children if child is not None]


def bare_ident(tree: Any) -> str | None:
    """The variable name when `tree` is nothing but an identifier (a macro's loop variable)."""
    while isinstance(tree, Tree):
        if tree.data == "ident":
            return str(tree.children[0])
        kids = kids_of(tree)
        if len(kids) != 1:
            return None
        tree = kids[0]
    return None


def is_field_selection(tree: Any) -> bool:
    """True when `tree` is (only) a member selection such as `record.company.employees`."""
    while isinstance(tree, Tree):
        if tree.data == "member_dot":
            return True
        kids = kids_of(tree)
        if len(kids) != 1:
            return False
        tree = kids[0]
    return False
