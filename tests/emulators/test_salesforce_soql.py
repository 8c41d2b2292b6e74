"""The Salesforce emulator's SOQL parser and evaluator, against an org's store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.emulators.framework import FakeClock
from tests.emulators.salesforce_soql import parse
from tests.emulators.salesforce_soql_eval import run_query
from tests.emulators.salesforce_soql_lex import SoqlError, tokenize
from tests.emulators.salesforce_store import OrgStore

START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def org() -> OrgStore:
    counter = iter(range(1, 10_000))
    store = OrgStore("00D000000000001AAA", "api@x.io", FakeClock(START), lambda: next(counter))
    acme = store.insert("Account", {"Name": "Acme", "NumberOfEmployees": 50})
    store.insert("Account", {"Name": "Globex", "NumberOfEmployees": 500})
    store.insert("Contact", {"LastName": "O'Brien", "FirstName": "Pat", "AccountId": acme})
    store.insert("Contact", {"LastName": "Lee", "Email": "lee@globex.com"})
    store.insert("Contact", {"LastName": "100%_sure", "Email": None})
    return store


def names(org: OrgStore, soql: str, *, deleted: bool = False) -> list[str]:
    query = parse(soql, org.schema)
    return [r["Name"] for r in run_query(org, query, include_deleted=deleted)]


def error_of(org: OrgStore, soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        parse(soql, org.schema)
    return caught.value


def test_where_and_or_parentheses_in_like_and_order(org: OrgStore) -> None:
    assert names(org, "SELECT Name FROM Contact ORDER BY LastName") == [
        "100%_sure",
        "Lee",
        "Pat O'Brien",
    ]
    assert names(org, "select name from contact order by LastName desc") == [
        "Pat O'Brien",
        "Lee",
        "100%_sure",
    ]
    assert names(
        org,
        "SELECT Name FROM Contact "
        "WHERE (Email = null OR Email LIKE '%globex%') AND LastName != 'Lee'",
    ) == ["Pat O'Brien", "100%_sure"]
    assert names(org, "SELECT Name FROM Account WHERE NumberOfEmployees >= 100") == ["Globex"]
    assert names(org, "SELECT Name FROM Account WHERE Name IN ('acme', 'Initech')") == ["Acme"]
    assert names(org, "SELECT Name FROM Account WHERE Name NOT IN ('Acme')") == ["Globex"]
    assert names(org, "SELECT Name FROM Contact WHERE NOT LastName LIKE 'L%'") == [
        "Pat O'Brien",
        "100%_sure",
    ]
    assert names(org, "SELECT Name FROM Contact ORDER BY Email NULLS LAST LIMIT 1") == ["Lee"]
    assert names(org, "SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1") == ["Globex"]


def test_relationship_fields_filter_and_escapes(org: OrgStore) -> None:
    assert names(org, "SELECT Name, Account.Name FROM Contact WHERE Account.Name = 'Acme'") == [
        "Pat O'Brien"
    ]
    assert names(org, r"SELECT Name FROM Contact WHERE LastName = 'O\'Brien'") == ["Pat O'Brien"]
    # Escaped wildcards match themselves only.
    assert names(org, r"SELECT Name FROM Contact WHERE LastName LIKE '100\%\_%'") == ["100%_sure"]
    assert names(org, r"SELECT Name FROM Contact WHERE LastName LIKE '10_\%x%'") == []


def test_injection_attempts_stay_literals(org: OrgStore) -> None:
    # A quote escaped by the caller can never end the literal and add a condition.
    assert names(org, r"SELECT Name FROM Contact WHERE LastName = 'x\' OR LastName != \''") == []
    # Unescaped, the same text is a syntax error, not a wider query.
    err = error_of(
        org, "SELECT Name FROM Contact WHERE LastName = 'x' OR LastName != '' AND Id = ''"
    )
    assert err.code in ("MALFORMED_QUERY", "INVALID_QUERY_FILTER_OPERATOR")
    assert names(org, r"SELECT Name FROM Contact WHERE LastName = 'Lee\\'") == []


def test_dates_datetimes_numbers_and_booleans(org: OrgStore) -> None:
    assert (
        len(names(org, "SELECT Name FROM Contact WHERE CreatedDate >= 2025-03-04T12:00:00Z")) == 3
    )
    assert (
        names(org, "SELECT Name FROM Contact WHERE CreatedDate > 2025-03-04T12:00:00.000+0000")
        == []
    )
    assert len(names(org, "SELECT Name FROM Contact WHERE HasOptedOutOfEmail = false")) == 3
    tokens = tokenize("CloseDate = 2025-01-31 AND Amount > -10.5 AND X = 2025-01-31T00:00:00+01:00")
    values = [t.value for t in tokens if t.kind in ("date", "number", "datetime")]
    assert values == [date(2025, 1, 31), -10.5, datetime(2025, 1, 30, 23, 0, tzinfo=UTC)]


def test_count_and_deleted_rows(org: OrgStore) -> None:
    query = parse("SELECT COUNT() FROM Contact", org.schema)
    assert query.count and len(run_query(org, query, include_deleted=False)) == 3
    lee = next(r["Id"] for r in org.rows("Contact") if r["LastName"] == "Lee")
    org.delete("Contact", lee)
    assert "Lee" not in names(org, "SELECT Name FROM Contact")
    assert names(org, "SELECT Name FROM Contact WHERE IsDeleted = true", deleted=True) == ["Lee"]


@pytest.mark.parametrize(
    ("soql", "code", "needle"),
    [
        ("SELECT Idd FROM Contact", "INVALID_FIELD", "No such column 'Idd' on entity 'Contact'"),
        ("SELECT Id FROM Widget", "INVALID_TYPE", "sObject type 'Widget' is not supported"),
        ("SELECT Id FROM Contact WHERE Foo.Name = 'x'", "INVALID_FIELD", "relationship 'Foo'"),
        ("SELECT Id FROM Contact WHERE LastName = 'x", "MALFORMED_QUERY", "unterminated"),
        ("SELECT Id FROM Contact WHERE LastName = 'a\\qb'", "MALFORMED_QUERY", "Illegal"),
        (
            "SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3",
            "INVALID_FIELD",
            "No such column",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR FirstName = 'c'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        ("SELECT Id, FROM Contact", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Contact LIMIT", "MALFORMED_QUERY", "<EOF>"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2025-01-01'", "INVALID_FIELD", "dateTime"),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD", "enclosed in quotes"),
        (
            "SELECT Id FROM Contact WHERE AccountId = 'nope'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: nope",
        ),
        ("SELECT Id FROM Contact; DELETE", "MALFORMED_QUERY", "unexpected token: ';'"),
    ],
)
def test_errors_answer_like_salesforce(org: OrgStore, soql: str, code: str, needle: str) -> None:
    err = error_of(org, soql)
    assert err.code == code
    assert needle in err.message
    assert "ERROR at Row:1:Column:" in err.message
