"""The SOQL tokenizer of the Salesforce emulator: names, keywords, string literals with
Salesforce's backslash escapes, numbers, date and datetime literals, operators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.emulators.salesforce_values import parse_datetime

_KEYWORD_TEXT = (
    "SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET "
    "TRUE FALSE NULL"
)
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
    |(?P<number>[+-]?\d+(?:\.\d+)?)(?![\w.])
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
    |(?P<string>')""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
# Escaped LIKE wildcards stay distinguishable from real ones until the pattern is built.
LIT_PCT, LIT_USC = "\ue000", "\ue001"


class SoqlError(Exception):
    """A query Salesforce refuses (400 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Token:
    """One lexical token and where it starts (0-based)."""

    kind: str  # name, keyword, string, number, date, datetime, op, eof
    text: str
    pos: int
    value: Any = None


def tokenize(text: str) -> list[Token]:
    """The tokens of a query; MALFORMED_QUERY on anything SOQL cannot start with."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise soql_error(text, pos, "MALFORMED_QUERY", f"unexpected token: '{text[pos]}'")
        kind = m.lastgroup or ""
        if kind == "string":
            value, end = _string(text, pos)
            tokens.append(Token("string", text[pos:end], pos, value))
            pos = end
            continue
        word = m.group()
        if kind == "name" and word.upper() in KEYWORDS:
            tokens.append(Token("keyword", word.upper(), pos))
        elif kind == "number":
            tokens.append(Token(kind, word, pos, float(word) if "." in word else int(word)))
        elif kind == "date":
            tokens.append(Token(kind, word, pos, date.fromisoformat(word)))
        elif kind == "datetime":
            tokens.append(Token(kind, word, pos, parse_datetime(word)))
        elif kind != "ws":
            tokens.append(Token(kind, word, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        ch = text[pos]
        if ch == "'":
            return "".join(out), pos + 1
        if ch == "\\":
            nxt = text[pos + 1 : pos + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in ("%", "_"):
                out.append(LIT_PCT if nxt == "%" else LIT_USC)
            else:
                raise soql_error(
                    text,
                    pos,
                    "MALFORMED_QUERY",
                    "Invalid string literal '" + text[start + 1 : pos + 2] + "'. Illegal "
                    "character sequence '\\" + nxt + "' in string literal.",
                )
            pos += 2
            continue
        out.append(ch)
        pos += 1
    raise soql_error(text, start, "MALFORMED_QUERY", "unexpected token: <EOF>: unterminated string")


def soql_error(text: str, pos: int, code: str, detail: str) -> SoqlError:
    """A SoqlError whose message quotes the query with a caret, as Salesforce words it."""
    # Salesforce quotes the query with a caret under the offending column.
    return SoqlError(code, f"\n{text}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{detail}")
