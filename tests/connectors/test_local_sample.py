"""Loading the sample CRM: relative times, idempotent, strict about bad data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.local import models as m
from connectors.local.sample import relative_time_resolve, sample_data_load

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)


def sample() -> dict[str, Any]:
    return {
        "owners": [{"id": "u-1", "name": "Riley Rep", "email": "riley@example.test"}],
        "companies": [
            {
                "id": "co-001",
                "name": "Acme",
                "employees": 250,
                "owner": "u-1",
                "created_at": "now-90d",
            }
        ],
        "contacts": [
            {"id": "c-001", "company": "co-001", "first_name": "Ada", "email_opt_out": False},
            {"id": "c-002", "company": None, "first_name": "Bo", "job_title": None},
        ],
        "deals": [
            {
                "id": "d-001",
                "company": "co-001",
                "contacts": ["c-001", "c-002"],
                "name": "Acme expansion",
                "amount": 120000,
                "close_date": "today+14d",
                "stage_entered_at": "now-20d",
            }
        ],
        "activities": [
            {
                "id": "a-001",
                "kind": "email",
                "timestamp": "now-3d-4h",
                "subject": "Pricing?",
                "body": "Can you send pricing",
                "direction": "inbound",
                "outcome": "",
                "contact": "c-001",
                "company": None,
                "deal": "d-001",
            }
        ],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "crm.json"
    path.write_text(json.dumps(data))
    return path


def test_it_loads_every_section_and_counts_what_it_created(tmp_path):
    counts = sample_data_load(write(tmp_path, sample()), now=NOW)

    assert counts == {"owners": 1, "companies": 1, "contacts": 2, "deals": 1, "activities": 1}
    deal = m.Deal.objects.get(pk="d-001")
    assert deal.company_id == "co-001"
    assert sorted(deal.contacts.values_list("pk", flat=True)) == ["c-001", "c-002"]
    assert m.Contact.objects.get(pk="c-002").job_title == ""
    assert m.Company.objects.get(pk="co-001").owner_id == "u-1"


def test_it_resolves_relative_times_against_now(tmp_path):
    sample_data_load(write(tmp_path, sample()), now=NOW)

    assert m.Activity.objects.get(pk="a-001").timestamp == NOW - timedelta(days=3, hours=4)
    deal = m.Deal.objects.get(pk="d-001")
    assert deal.close_date == date(2025, 3, 18)
    assert deal.stage_entered_at == NOW - timedelta(days=20)
    assert m.Company.objects.get(pk="co-001").created_at == NOW - timedelta(days=90)


def test_it_fills_last_activity_at_from_the_newest_human_activity(tmp_path):
    sample_data_load(write(tmp_path, sample()), now=NOW)

    when = NOW - timedelta(days=3, hours=4)
    assert m.Contact.objects.get(pk="c-001").last_activity_at == when
    assert m.Deal.objects.get(pk="d-001").last_activity_at == when
    assert m.Contact.objects.get(pk="c-002").last_activity_at is None


def test_it_creates_nothing_on_a_second_load_and_keeps_edits(tmp_path):
    path = write(tmp_path, sample())
    sample_data_load(path, now=NOW)
    m.Contact.objects.filter(pk="c-001").update(first_name="Edited")

    counts = sample_data_load(path, now=NOW + timedelta(days=1))

    assert set(counts.values()) == {0}
    assert m.Contact.objects.get(pk="c-001").first_name == "Edited"
    assert m.Activity.objects.get(pk="a-001").timestamp == NOW - timedelta(days=3, hours=4)


def test_it_adds_only_the_missing_rows(tmp_path):
    data = sample()
    sample_data_load(write(tmp_path, data), now=NOW)
    data["contacts"].append({"id": "c-003", "company": "co-001", "first_name": "Cy"})

    counts = sample_data_load(write(tmp_path, data), now=NOW)

    assert counts["contacts"] == 1 and counts["companies"] == 0
    assert m.Contact.objects.count() == 3


@pytest.mark.parametrize(
    ("section", "index", "change", "message"),
    [
        ("contacts", 0, {"company": "co-999"}, "contacts[c-001].company: unknown company 'co-999'"),
        ("deals", 0, {"contacts": ["c-404"]}, "deals[d-001].contacts: unknown contact 'c-404'"),
        ("deals", 0, {"close_date": "tomorrow"}, "deals[d-001].close_date: bad time 'tomorrow'"),
        ("activities", 0, {"timestamp": "now-3x"}, "activities[a-001].timestamp: bad time"),
        ("companies", 0, {"employees": "many"}, "companies[co-001].employees: expected int"),
        ("contacts", 1, {"shoe_size": 9}, "contacts[c-002].shoe_size: unknown contact field"),
        ("activities", 0, {"kind": "fax"}, "activities[a-001].kind: 'fax' is not one of"),
        ("companies", 0, {"owner": "u-9"}, "companies[co-001].owner: unknown owner 'u-9'"),
    ],
)
def test_it_names_the_record_when_data_is_bad(tmp_path, section, index, change, message):
    data = sample()
    data[section][index].update(change)

    with pytest.raises(ValueError) as caught:
        sample_data_load(write(tmp_path, data), now=NOW)

    assert message in str(caught.value)
    assert m.Company.objects.count() == 0  # one transaction: nothing half-loaded


def test_it_rejects_duplicate_ids(tmp_path):
    data = sample()
    data["contacts"][1]["id"] = "c-001"
    with pytest.raises(ValueError, match=r"contacts\[c-001\]: duplicate id"):
        sample_data_load(write(tmp_path, data), now=NOW)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("now", "timestamp", NOW),
        ("now+2h", "timestamp", NOW + timedelta(hours=2)),
        ("now-1w-30m", "timestamp", NOW - timedelta(weeks=1, minutes=30)),
        ("today-5d", "date", date(2025, 2, 27)),
        ("today", "timestamp", datetime(2025, 3, 4, tzinfo=UTC)),
        ("2025-01-02T03:04:05+00:00", "timestamp", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02", "date", date(2025, 1, 2)),
    ],
)
def test_it_resolves_each_time_form(text, kind, expected):
    assert relative_time_resolve(text, kind, now=NOW, where="x") == expected
