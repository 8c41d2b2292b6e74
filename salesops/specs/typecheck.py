"""Load-time type check of a CEL parse tree (celpy's lark grammar) against an ExpressionScope.

Catches what an SOP author gets wrong most: misspelt fields and variables (with a suggestion),
unknown functions, wrong argument types, comparing a number with a string, comparing an enum
field with a value it can never take. Anything it cannot decide is typed `dyn` and let through.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from lark import Token, Tree

from salesops.specs.cel_functions import SIGNATURES
from salesops.specs.cel_tree import (
    NO_LITERAL,
    Typed,
    bare_ident,
    is_field_selection,
    kids_of,
    suggest,
)
from salesops.specs.scope import BOOL, DOUBLE, DYN, INT, NULL, STRING, CelType

MACROS = ("exists", "all", "exists_one", "map", "filter")
_RELATION_OPS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}


def check_tree(tree: Tree, variables: Mapping[str, CelType]) -> tuple[CelType, list[str]]:
    """Infer the type of a parsed expression; return it with every problem found."""
    checker = _Checker(dict(variables))
    typed = checker.visit(tree)
    return typed.type, checker.errors


class _Checker:
    def __init__(self, variables: dict[str, CelType]) -> None:
        self.variables = variables
        self.errors: list[str] = []

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def visit(self, tree: Any) -> Typed:
        handler = getattr(self, f"_{tree.data}", None)
        kids = kids_of(tree)
        if handler is not None:
            return handler(tree, kids)
        if len(kids) == 1 and isinstance(kids[0], Tree):
            return self.visit(kids[0])
        return Typed(DYN)  # pragma: no cover - every grammar rule is handled above

    # --- logic -----------------------------------------------------------------------------
    def expect_bool(self, typed: Typed, where: str) -> None:
        if typed.type.kind not in ("bool", "dyn"):
            self.error(f"{where} needs a bool, but {typed.label} is {typed.type.describe()}")

    def _expr(self, tree: Tree, kids: list[Any]) -> Typed:
        if len(kids) == 1:
            return self.visit(kids[0])
        condition, yes, no = (self.visit(kid) for kid in kids)
        self.expect_bool(condition, "the condition of '? :'")
        if yes.type.kind == no.type.kind or no.type.kind == "null":
            return Typed(yes.type)
        return Typed(no.type if yes.type.kind == "null" else DYN)

    def _logic(self, kids: list[Any], op: str) -> Typed:
        if len(kids) == 1:
            return self.visit(kids[0])
        for kid in kids:
            self.expect_bool(self.visit(kid), f"'{op}'")
        return Typed(BOOL)

    def _conditionalor(self, tree: Tree, kids: list[Any]) -> Typed:
        return self._logic(kids, "||")

    def _conditionaland(self, tree: Tree, kids: list[Any]) -> Typed:
        return self._logic(kids, "&&")

    def _unary(self, tree: Tree, kids: list[Any]) -> Typed:
        if len(kids) == 1:
            return self.visit(kids[0])
        operand = self.visit(kids[1])
        if kids[0].data == "unary_not":
            self.expect_bool(operand, "'!'")
            return Typed(BOOL)
        if operand.type.category not in ("number", "dyn", "duration"):
            self.error(f"'-' needs a number, but {operand.label} is {operand.type.describe()}")
        return Typed(operand.type)

    # --- relations and arithmetic ----------------------------------------------------------
    def _relation(self, tree: Tree, kids: list[Any]) -> Typed:
        if len(kids) == 1:
            return self.visit(kids[0])
        op_node, right_tree = kids
        left = self.visit(kids_of(op_node)[0])
        right = self.visit(right_tree)
        self.compare(_RELATION_OPS[op_node.data], left, right)
        return Typed(BOOL)

    def compare(self, op: str, left: Typed, right: Typed) -> None:
        if op == "in":
            container = right.type
            if container.kind == "list" and container.item is not None:
                self.compare("==", left, Typed(container.item, f"an item of {right.label}"))
            elif container.kind not in ("object", "dyn", "list"):
                self.error(
                    f"'in' needs a list or map on the right, but {right.label} is "
                    f"{container.describe()}"
                )
            return
        lc, rc = left.type.category, right.type.category
        if "dyn" in (lc, rc):
            return
        if op in ("==", "!="):
            if "null" in (lc, rc):
                return
            if lc != rc:
                self.error(
                    f"cannot compare {left.label} ({left.type.describe()}) with "
                    f"{right.label} ({right.type.describe()})"
                )
                return
            self.check_enum(left, right)
            self.check_enum(right, left)
            return
        if "null" in (lc, rc) or lc != rc or lc in ("bool", "list", "object"):
            self.error(
                f"cannot order {left.label} ({left.type.describe()}) against "
                f"{right.label} ({right.type.describe()}) with '{op}'"
            )

    def check_enum(self, field: Typed, value: Typed) -> None:
        enum = field.type.enum
        if enum and isinstance(value.literal, str) and value.literal not in enum:
            choices = ", ".join(repr(v) for v in enum)
            self.error(
                f"{value.literal!r} is not a possible value of {field.label} (one of {choices})"
            )

    def _arithmetic(self, kids: list[Any], ops: Mapping[str, str]) -> Typed:
        if len(kids) == 1:
            return self.visit(kids[0])
        op_node, right_tree = kids
        op = ops[op_node.data]
        left = self.visit(kids_of(op_node)[0])
        right = self.visit(right_tree)
        lc, rc = left.type.category, right.type.category
        if "dyn" in (lc, rc):
            return Typed(DYN)
        if lc == rc == "number":
            both_int = left.type.kind == right.type.kind == "int"
            return Typed(INT if both_int else DOUBLE)
        if op == "+" and lc == rc and lc in ("string", "list"):
            return Typed(left.type)
        if lc in ("timestamp", "duration") or rc in ("timestamp", "duration"):
            return Typed(DYN)
        self.error(
            f"cannot apply '{op}' to {left.label} ({left.type.describe()}) and "
            f"{right.label} ({right.type.describe()})"
        )
        return Typed(DYN)

    def _addition(self, tree: Tree, kids: list[Any]) -> Typed:
        return self._arithmetic(kids, {"addition_add": "+", "addition_sub": "-"})

    def _multiplication(self, tree: Tree, kids: list[Any]) -> Typed:
        ops = {"multiplication_mul": "*", "multiplication_div": "/", "multiplication_mod": "%"}
        return self._arithmetic(kids, ops)

    # --- members ---------------------------------------------------------------------------
    def select(self, base: Typed, name: str) -> Typed:
        path = f"{base.path}.{name}" if base.path else None
        kind = base.type.kind
        if kind == "object":
            fields = base.type.fields
            if fields is None:
                return Typed(DYN, path)
            if name not in fields:
                self.error(f"{base.label} has no field '{name}'{suggest(name, fields)}")
                return Typed(DYN, path)
            return Typed(fields[name], path)
        if kind == "dyn":
            return Typed(DYN, path)
        hint = f" (use .exists(x, x.{name} ...) or an index)" if kind == "list" else ""
        self.error(f"{base.label} is {base.type.describe()}; it has no field '{name}'{hint}")
        return Typed(DYN, path)

    def _member_dot(self, tree: Tree, kids: list[Any]) -> Typed:
        return self.select(self.visit(kids[0]), str(kids[1]))

    def _member_index(self, tree: Tree, kids: list[Any]) -> Typed:
        base = self.visit(kids[0])
        index = self.visit(kids[1])
        if base.type.kind == "list":
            if index.type.category not in ("number", "dyn"):
                self.error(
                    f"a list index must be an int, but {index.label} is {index.type.describe()}"
                )
            path = f"{base.path}[]" if base.path else None
            return Typed(base.type.item or DYN, path)
        if base.type.kind == "object" and isinstance(index.literal, str):
            return self.select(base, index.literal)
        if base.type.kind not in ("object", "dyn"):
            self.error(f"{base.label} is {base.type.describe()} and cannot be indexed")
        return Typed(DYN)

    def _member_object(self, tree: Tree, kids: list[Any]) -> Typed:
        self.error("message construction (Type{field: ...}) is not supported")
        return Typed(DYN)

    def _member_dot_arg(self, tree: Tree, kids: list[Any]) -> Typed:
        name = str(kids[1])
        args = kids_of(kids[2]) if len(kids) > 2 else []
        base = self.visit(kids[0])
        if name in MACROS:
            return self.macro(name, base, args)
        return self.call(name, [base, *(self.visit(arg) for arg in args)])

    def macro(self, name: str, base: Typed, args: list[Any]) -> Typed:
        if len(args) != 2:
            self.error(f"{name}() takes a variable and an expression, e.g. {name}(x, x.value > 0)")
            return Typed(DYN)
        variable = bare_ident(args[0])
        if variable is None:
            self.error(f"the first argument of {name}() must be a variable name")
            return Typed(DYN)
        container = base.type
        if container.kind == "list":
            item = container.item or DYN
        elif container.kind == "object":
            item = STRING  # macros over a map iterate its keys
        elif container.kind == "dyn":
            item = DYN
        else:
            self.error(f"{name}() needs a list, but {base.label} is {container.describe()}")
            item = DYN
        saved = self.variables
        self.variables = {**saved, variable: item}
        try:
            body = self.visit(args[1])
        finally:
            self.variables = saved
        if name == "map":
            return Typed(CelType("list", item=body.type))
        self.expect_bool(body, f"the expression of {name}()")
        return Typed(container if name == "filter" else BOOL)

    def call(self, name: str, args: list[Typed]) -> Typed:
        signature = SIGNATURES.get(name)
        if signature is None:
            self.error(f"unknown function '{name}'{suggest(name, [*SIGNATURES, *MACROS])}")
            return Typed(DYN)
        params, result = signature
        if len(args) != len(params):
            self.error(f"{name}() takes {len(params)} argument(s), got {len(args)}")
        for param, arg in zip(params, args, strict=False):
            if param == "dyn" or arg.type.kind in ("dyn", param):
                continue
            self.error(f"{name}() expects a {param}, but {arg.label} is {arg.type.describe()}")
        return Typed(CelType(result))

    # --- primaries -------------------------------------------------------------------------
    def _ident(self, tree: Tree, kids: list[Any]) -> Typed:
        name = str(kids[0])
        if name in self.variables:
            return Typed(self.variables[name], name)
        if name == "result":
            self.error(
                "'result' is not available here: triggers and applies_when are "
                "evaluated before there is a result"
            )
        elif name == "event":
            self.error("'event' is only available on event triggers")
        else:
            self.error(f"unknown variable '{name}'{suggest(name, self.variables)}")
        return Typed(DYN, name)

    def _ident_arg(self, tree: Tree, kids: list[Any]) -> Typed:
        name = str(kids[0])
        args = kids_of(kids[1]) if len(kids) > 1 else []
        if name == "has":
            if len(args) != 1 or not is_field_selection(args[0]):
                self.error("has() needs a field selection, e.g. has(record.company.employees)")
            for arg in args:
                self.visit(arg)
            return Typed(BOOL)
        if name == "dyn":
            for arg in args:
                self.visit(arg)
            return Typed(DYN)
        return self.call(name, [self.visit(arg) for arg in args])

    def _dot_ident(self, tree: Tree, kids: list[Any]) -> Typed:
        self.error("names with a leading '.' are not supported")
        return Typed(DYN)

    _dot_ident_arg = _dot_ident

    def _list_lit(self, tree: Tree, kids: list[Any]) -> Typed:
        items = [self.visit(kid) for kid in (kids_of(kids[0]) if kids else [])]
        kinds = {item.type.kind for item in items}
        item = items[0].type if len(kinds) == 1 else DYN
        return Typed(CelType("list", item=item))

    def _map_lit(self, tree: Tree, kids: list[Any]) -> Typed:
        for kid in kids_of(kids[0]) if kids else []:
            self.visit(kid)
        return Typed(CelType("object"))

    def _literal(self, tree: Tree, kids: list[Any]) -> Typed:
        token: Token = kids[0]
        text = str(token)
        kind = token.type
        if kind == "BOOL_LIT":
            return Typed(BOOL, literal=text == "true")
        if kind == "NULL_LIT":
            return Typed(NULL, literal=None)
        if kind in ("INT_LIT", "UINT_LIT"):
            return Typed(INT, literal=int(text.rstrip("uU"), 0))
        if kind == "FLOAT_LIT":
            return Typed(DOUBLE, literal=float(text))
        if kind in ("STRING_LIT", "MLSTRING_LIT"):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return Typed(STRING)
            return Typed(STRING, literal=value if isinstance(value, str) else NO_LITERAL)
        return Typed(CelType("bytes"))
