"""record_document_build and document_path_get."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from salesops.skills.context import document_path_get, iso_timestamp

NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)


def test_it_fills_every_neutral_field_and_serialises_times(make_document):
    doc = make_document(
        "contact",
        {"first_name": "Zoë", "created_at": datetime(2025, 6, 1, 9, 30, tzinfo=UTC)},
        record_id="c-1",
    )
    assert doc["id"] == "c-1" and doc["object"] == "contact"
    assert doc["first_name"] == "Zoë"
    assert doc["job_title"] is None  # unknown fields are present as None
    assert doc["created_at"] == "2025-06-01T09:30:00Z"
    assert doc["company"] is None
    assert doc["deals"] == []
    assert "days_to_close" not in doc


def test_it_orders_activities_newest_first_and_skips_ai_ones_for_recency(make_document):
    doc = make_document(
        "contact",
        {},
        activities=[
            {"id": "a-1", "kind": "email", "days_ago": 10},
            {"id": "a-2", "kind": "note", "days_ago": 1, "ai_generated": True},
            {"id": "a-3", "kind": "call", "days_ago": 4},
        ],
    )
    assert [a["id"] for a in doc["activities"]] == ["a-2", "a-3", "a-1"]
    assert doc["days_since_last_activity"] == 4
    assert doc["activities"][0]["ai_generated"] is True


def test_it_has_no_recency_without_human_activity(make_document):
    doc = make_document(
        "contact", {}, activities=[{"id": "a-1", "kind": "note", "ai_generated": True}]
    )
    assert doc["days_since_last_activity"] is None


def test_it_counts_days_to_close_negative_when_overdue(make_document):
    overdue = make_document("deal", {"close_date": date(2025, 6, 1)})
    ahead = make_document("deal", {"close_date": "2025-06-21"})
    missing = make_document("deal", {})
    assert overdue["days_to_close"] == -10
    assert overdue["close_date"] == "2025-06-01"
    assert ahead["days_to_close"] == 10
    assert missing["days_to_close"] is None


def test_it_includes_related_records_by_relation(make_document):
    doc = make_document(
        "deal",
        {"amount": 50000.0},
        company={"id": "co-1", "name": "Acme", "employees": 250},
        contacts=[{"id": "c-9", "job_title": "CFO"}],
    )
    assert doc["company"]["name"] == "Acme" and doc["company"]["id"] == "co-1"
    assert doc["company"]["industry"] is None
    assert doc["contacts"][0]["job_title"] == "CFO"


def test_it_resolves_dotted_paths_and_list_items_by_id(make_document):
    doc = make_document(
        "deal",
        {"stage": "contractsent"},
        company={"id": "co-1", "employees": 250},
        contacts=[{"id": "c-009", "job_title": "VP Sales"}],
        activities=[{"id": "a-0104", "kind": "email", "body": "Hello"}],
    )
    assert document_path_get(doc, "stage") == "contractsent"
    assert document_path_get(doc, "company.employees") == 250
    assert document_path_get(doc, "contacts.c-009.job_title") == "VP Sales"
    assert document_path_get(doc, "activities.a-0104.body") == "Hello"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("emploees", "has no 'emploees'"),
        ("contacts.c-404.job_title", "no item with id 'c-404'"),
        ("stage.name", "is a value"),
        ("", "not a valid path"),
    ],
)
def test_it_raises_a_clear_key_error_for_missing_paths(make_document, path, fragment):
    doc = make_document("deal", {"stage": "x"}, contacts=[{"id": "c-1"}])
    with pytest.raises(KeyError) as excinfo:
        document_path_get(doc, path)
    assert fragment in str(excinfo.value)


def test_it_formats_timestamps_in_utc_with_z():
    assert iso_timestamp(datetime(2025, 1, 2, 3, 4, 5, 678)) == "2025-01-02T03:04:05Z"
