"""The SOQL subset the emulator answers: a recursive-descent parser over `salesforce_soql_lex`'s
tokens (evaluation: `salesforce_soql_eval`).

    SELECT Id, Name, Owner.Email | COUNT() FROM Contact
    [WHERE a = 'x' AND (b > 2024-01-01T00:00:00Z OR c IN ('p', 'q')) AND NOT d LIKE 'x%']
    [ORDER BY a DESC NULLS LAST, b] [LIMIT n] [OFFSET n]

String literals take Salesforce's backslash escapes (\\' \\" \\\\ \\n \\r \\t \\b \\f, and
\\% \\_ in LIKE); AND and OR do not mix without parentheses, as in Salesforce. Errors raise
`SoqlError` with the errorCode and message shape Salesforce answers (MALFORMED_QUERY,
INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.salesforce_model import NUMBER_TYPES, FieldDef, Schema
from tests.emulators.salesforce_soql_lex import (
    LIT_PCT,
    LIT_USC,
    Token,
    soql_error,
    tokenize,
)
from tests.emulators.salesforce_values import normalize_id


@dataclass
class Compare:
    """`path op value` (op: = != < > <= >= LIKE IN NOTIN)."""

    path: str
    op: str
    value: Any
    token: Token


@dataclass
class Logic:
    """AND / OR of parts, or NOT of one part."""

    op: str
    parts: list[Any]


@dataclass
class Query:
    """A parsed SELECT."""

    sobject: str
    fields: list[str]  # canonical paths ("Owner.Email"); empty for COUNT()
    count: bool = False
    where: Any = None
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # path, desc, nulls_first
    limit: int | None = None
    offset: int = 0


class Parser:
    """Recursive descent over the tokens, resolving field names against an org's schema."""

    def __init__(self, text: str, schema: Schema) -> None:
        self.text, self.schema = text, schema
        self.tokens = tokenize(text)
        self.i = 0
        self.sobject = ""

    # -- token helpers ---------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind in ("keyword", "op") and tok.text in words

    def expect(self, word: str) -> Token:
        if not self.at(word):
            self.unexpected()
        return self.take()

    def unexpected(self, tok: Token | None = None) -> None:
        tok = tok or self.peek()
        shown = tok.text or "<EOF>"
        raise soql_error(self.text, tok.pos, "MALFORMED_QUERY", f"unexpected token: '{shown}'")

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> Query:
        """The whole query, or SoqlError."""
        self.expect("SELECT")
        count, names = False, []
        if self.peek().kind == "name" and self.peek().text.upper() == "COUNT":
            self.take()
            self.expect("(")
            self.expect(")")
            count = True
        else:
            names.append(self.name_token())
            while self.at(","):
                self.take()
                names.append(self.name_token())
        self.expect("FROM")
        obj = self.take()
        if obj.kind != "name":
            self.unexpected(obj)
        sobject = self.schema.object_name(obj.text)
        if sobject is None:
            raise soql_error(
                self.text,
                obj.pos,
                "INVALID_TYPE",
                f"sObject type '{obj.text}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        self.sobject = sobject
        query = Query(sobject, [self.resolve(t) for t in names], count)
        if self.at("WHERE"):
            self.take()
            query.where = self.condition()
        if self.at("ORDER"):
            self.take()
            self.expect("BY")
            query.order.append(self.order_item())
            while self.at(","):
                self.take()
                query.order.append(self.order_item())
        if self.at("LIMIT"):
            self.take()
            query.limit = self.integer()
        if self.at("OFFSET"):
            self.take()
            query.offset = self.integer()
        if self.peek().kind != "eof":
            self.unexpected()
        return query

    def name_token(self) -> Token:
        tok = self.take()
        if tok.kind != "name":
            self.unexpected(tok)
        return tok

    def integer(self) -> int:
        tok = self.take()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            self.unexpected(tok)
        return int(tok.value)

    def order_item(self) -> tuple[str, bool, bool]:
        path = self.resolve(self.name_token())
        desc = False
        if self.at("ASC", "DESC"):
            desc = self.take().text == "DESC"
        nulls_first = not desc  # Salesforce's default: nulls first ascending, last descending
        if self.at("NULLS"):
            self.take()
            if not self.at("FIRST", "LAST"):
                self.unexpected()
            nulls_first = self.take().text == "FIRST"
        return path, desc, nulls_first

    def condition(self) -> Any:
        first = self.term()
        if not self.at("AND", "OR"):
            return first
        op = self.peek().text
        parts = [first]
        while self.at("AND", "OR"):
            if self.peek().text != op:  # a AND b OR c is ambiguous: Salesforce refuses it
                self.unexpected()
            self.take()
            parts.append(self.term())
        return Logic(op, parts)

    def term(self) -> Any:
        if self.at("NOT"):
            self.take()
            return Logic("NOT", [self.term()])
        if self.at("("):
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        tok = self.name_token()
        path = self.resolve(tok)
        fdef = self.field_def(path)
        if self.at("NOT"):
            self.take()
            self.expect("IN")
            return Compare(path, "NOTIN", self.value_list(fdef, tok), tok)
        if self.at("IN"):
            self.take()
            return Compare(path, "IN", self.value_list(fdef, tok), tok)
        if self.at("LIKE"):
            self.take()
            lit = self.take()
            if lit.kind != "string":
                self.unexpected(lit)
            return Compare(path, "LIKE", _like_regex(lit.value), tok)
        if not self.at("=", "!=", "<>", "<", ">", "<=", ">="):
            self.unexpected()
        op = self.take().text
        return Compare(path, "!=" if op == "<>" else op, self.literal(fdef, tok), tok)

    def value_list(self, fdef: FieldDef, tok: Token) -> list[Any]:
        self.expect("(")
        values = [self.literal(fdef, tok)]
        while self.at(","):
            self.take()
            values.append(self.literal(fdef, tok))
        self.expect(")")
        return values

    def literal(self, fdef: FieldDef, field_tok: Token) -> Any:
        tok = self.take()
        if tok.kind == "keyword" and tok.text == "NULL":
            return None
        if tok.kind == "keyword" and tok.text in ("TRUE", "FALSE"):
            kind: str = "boolean"
            value: Any = tok.text == "TRUE"
        elif tok.kind in ("string", "number", "date", "datetime"):
            kind, value = tok.kind, tok.value
        else:
            self.unexpected(tok)
            raise AssertionError  # unexpected() raised
        want = _literal_kind(fdef)
        if kind != want:
            quoted = want == "string"
            raise soql_error(
                self.text,
                tok.pos,
                "INVALID_FIELD",
                f"value of filter criterion for field '{fdef.name}' must be of type "
                f"{'dateTime' if want == 'datetime' else want} and should "
                f"{'' if quoted else 'not '}be enclosed in quotes",
            )
        if fdef.type in ("id", "reference"):
            norm = normalize_id(value)
            if norm is None:
                raise soql_error(
                    self.text,
                    tok.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid ID field: {value}",
                )
            return norm
        if isinstance(value, str):
            return value.replace(LIT_PCT, "%").replace(LIT_USC, "_")
        return value

    # -- names -----------------------------------------------------------------------------
    def resolve(self, tok: Token) -> str:
        """A field path in canonical spelling, or INVALID_FIELD as Salesforce words it."""
        parts = tok.text.split(".")
        if len(parts) > 1 and parts[0].lower() == self.sobject.lower():
            parts = parts[1:]  # SELECT Contact.Name FROM Contact is legal
        sobjects, out = [self.sobject], []
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            found = None
            for sobject in sobjects:
                for fdef in self.schema.fields(sobject).values():
                    if last and fdef.name.lower() == part.lower():
                        found = (fdef.name, fdef)
                    elif not last and (fdef.relationship_name or "").lower() == part.lower():
                        found = (fdef.relationship_name or "", fdef)
                if found:
                    break
            if found is None and last and n > 0 and part.lower() == "type":
                found = ("Type", FieldDef("Type"))  # polymorphic Who.Type / What.Type
            if found is None:
                entity = sobjects[0]
                raise soql_error(
                    self.text,
                    tok.pos,
                    "INVALID_FIELD",
                    f"No such column '{part}' on entity '{entity}'. If you are attempting to "
                    "use a custom field, be sure to append the '__c' after the custom field "
                    "name. Please reference your WSDL or the describe call for the appropriate "
                    "names."
                    if last
                    else f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name.",
                )
            out.append(found[0])
            sobjects = list(found[1].reference_to)
        return ".".join(out)

    def field_def(self, path: str) -> FieldDef:
        """The definition of the field a path ends at (the first target for polymorphic ones)."""
        parts, sobject = path.split("."), self.sobject
        for part in parts[:-1]:
            ref = next(
                f for f in self.schema.fields(sobject).values() if f.relationship_name == part
            )
            sobject = ref.reference_to[0]
        if parts[-1] == "Type" and len(parts) > 1:
            return FieldDef("Type")
        fdef = self.schema.field(sobject, parts[-1])
        if fdef is None:  # a polymorphic target that lacks it: try the others
            return FieldDef(parts[-1])
        return fdef


def _literal_kind(fdef: FieldDef) -> str:
    if fdef.type == "boolean":
        return "boolean"
    if fdef.type in NUMBER_TYPES:
        return "number"
    if fdef.type in ("date", "datetime"):
        return fdef.type
    return "string"


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            literal = {LIT_PCT: "%", LIT_USC: "_"}.get(ch, ch)
            out.append(re.escape(literal))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def parse(text: str, schema: Schema) -> Query:
    """Parse a query against an org's schema."""
    return Parser(text, schema).parse()
