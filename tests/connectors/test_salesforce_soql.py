"""SOQL literals are bound, never formatted in: escapes, Ids, datetimes and IN lists.

The literal rules are checked here as text; `test_salesforce_reads.py` sends hostile values
through the emulator's SOQL parser too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.salesforce.soql import (
    Like,
    SfId,
    bind,
    chunks,
    datetime_literal,
    ids_valid,
    literal,
    name,
    names,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("line\nbreak\r\ttab\b\f", "'line\\nbreak\\r\\ttab\\b\\f'"),
        ("x' OR Name != '", "'x\\' OR Name != \\''"),
        ("\\' OR Id != null --", "'\\\\\\' OR Id != null --'"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (2.5, "2.5"),
        (date(2025, 3, 4), "2025-03-04"),
    ],
)
def test_literals_are_quoted_and_escaped(value: object, expected: str) -> None:
    assert literal(value) == expected


def test_an_escaped_string_cannot_end_the_literal_early() -> None:
    text = literal("a\\' OR '1'='1")
    body = text[1:-1]
    # Every quote inside is preceded by an odd run of backslashes: still inside the literal.
    for i, ch in enumerate(body):
        if ch == "'":
            run = len(body[:i]) - len(body[:i].rstrip("\\"))
            assert run % 2 == 1


def test_datetimes_are_utc_whole_seconds() -> None:
    moment = datetime(2025, 3, 4, 13, 0, 5, 999_000, tzinfo=timezone(timedelta(hours=1)))
    assert datetime_literal(moment) == "2025-03-04T12:00:05Z"
    assert literal(moment) == "2025-03-04T12:00:05Z"
    with pytest.raises(ValueError):
        literal(datetime(2025, 3, 4))  # naive: which zone?


def test_in_lists_and_ids() -> None:
    ids = [SfId("0035g000004SLsfAAG"), SfId("0035g000004SLsg")]
    assert literal(ids) == "('0035g000004SLsfAAG', '0035g000004SLsg')"
    with pytest.raises(ValueError):
        literal([])
    for bad in ("0035g000004SLs", "003' OR Id != '", "0035g000004SLsfAAG\n", "x" * 19):
        with pytest.raises(ValueError):
            SfId(bad)
    assert ids_valid(["0035g000004SLsfAAG", "bad id", "0035g000004SLsfAAG"]) == [ids[0]]


def test_numbers_must_be_finite() -> None:
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            literal(bad)
    with pytest.raises(ValueError):
        literal(object())


def test_like_patterns_escape_wildcards_in_the_text() -> None:
    assert literal(Like("50%_off", after="%")) == "'50\\%\\_off%'"
    assert literal(Like("O'Brien", before="%", after="%")) == "'%O\\'Brien%'"
    with pytest.raises(ValueError):
        Like("x", after="' OR '")


def test_bind_replaces_placeholders_and_refuses_mistakes() -> None:
    query = bind(
        "SELECT Id FROM Lead WHERE Email = :email AND SystemModstamp > :since",
        email="a'b@x.test",
        since=datetime(2025, 3, 4, tzinfo=UTC),
    )
    assert query == (
        "SELECT Id FROM Lead WHERE Email = 'a\\'b@x.test' AND SystemModstamp > 2025-03-04T00:00:00Z"
    )
    with pytest.raises(KeyError):
        bind("SELECT Id FROM Lead WHERE Email = :email")
    with pytest.raises(ValueError):
        bind("SELECT Id FROM Lead", email="x")  # bound to nothing: a typo
    with pytest.raises(ValueError):
        bind("SELECT Id FROM Lead WHERE Email = 'x'")  # literals are bound, not written in


def test_names_are_identifiers_only() -> None:
    assert name("Account.Name") == "Account.Name"
    assert names(["Id", "ai_score__c"]) == "Id, ai_score__c"
    for bad in ("Name, (SELECT Id FROM Contacts)", "Id FROM User --", "1Id", ""):
        with pytest.raises(ValueError):
            name(bad)


def test_chunks_split_long_lists() -> None:
    assert chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert chunks([], 200) == []
