"""Deleted records become tombstones that schedules skip; two connections keep their mirrors
apart; values are stored JSON-safe."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.local import models as crm
from connectors.local.sample import sample_data_load
from salesops.models import Connection, CrmRecordMirror, Run
from salesops.services.batches import records_select, sop_get
from salesops.services.connections import connection_credentials_set
from salesops.services.schedules import schedule_tick
from salesops.services.sync import connection_sync, mirror_properties
from tests.sync.seed import mirror_differences

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sop_library" / "sample_data" / "crm.json"
MONDAY_0601 = datetime(2026, 11, 23, 6, 1, tzinfo=UTC)  # deal-review's weekly slot


def test_a_deleted_record_becomes_a_tombstone_that_schedules_skip(library, sample_crm, connection):
    connection_sync(connection=connection)
    schedule_tick(now=MONDAY_0601)
    first = Run.objects.filter(trigger="schedule")
    chosen = set(first.values_list("record_id", flat=True))
    first_ids = list(first.values_list("pk", flat=True))
    gone = sorted(chosen)[0]
    crm.Deal.objects.get(pk=gone).delete()

    result = connection_sync(connection=connection)
    assert result.deleted == 1
    tomb = CrmRecordMirror.objects.get(connection=connection, record_id=gone)
    assert tomb.deleted_at is not None
    assert mirror_differences(connection) == []

    next_week = MONDAY_0601 + timedelta(days=7)
    assert schedule_tick(now=next_week) > 0
    later = Run.objects.filter(trigger="schedule").exclude(pk__in=first_ids)
    assert later.exists() and not later.filter(record_id=gone).exists()
    assert gone not in records_select(sop=sop_get(name="deal-review"), connection=connection)


def test_a_record_reported_again_after_its_delete_is_alive(connection):
    CrmRecordMirror.objects.create(
        connection=connection,
        object_type="company",
        record_id="co-back",
        properties={},
        deleted_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    crm.Company.objects.create(pk="co-back", name="Back again")
    connection_sync(connection=connection, object_types=["company"])
    assert CrmRecordMirror.objects.get(record_id="co-back").deleted_at is None


def test_two_connections_keep_their_mirrors_apart(sample_crm, connection):
    acme = Connection.objects.create(kind="local", slug="acme", account_id="acme")
    connection_credentials_set(acme, {"account": "acme"})
    sample_data_load(SAMPLE, account="acme")
    crm.Deal.objects.get(pk="acme-d-001").delete()

    local_result = connection_sync(connection=connection)
    acme_result = connection_sync(connection=acme)
    assert local_result.records == acme_result.records + 1  # acme lost one deal
    assert mirror_differences(connection) == [] and mirror_differences(acme) == []
    local_ids = set(
        CrmRecordMirror.objects.filter(connection=connection).values_list("record_id", flat=True)
    )
    acme_ids = set(
        CrmRecordMirror.objects.filter(connection=acme).values_list("record_id", flat=True)
    )
    assert local_ids and not local_ids & acme_ids
    assert all(i.startswith("acme-") for i in acme_ids)
    assert acme_result.deleted == 0  # the delete came before the first sync: never mirrored
    assert "d-001" in local_ids


def test_properties_are_stored_json_safe():
    stamp = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    plain = mirror_properties(
        {"at": stamp, "day": date(2026, 5, 4), "n": Decimal("1.50"), "tags": {"b", "a"}, "x": None}
    )
    assert plain == {
        "at": "2026-05-04T03:02:01+00:00",
        "day": "2026-05-04",
        "n": "1.50",
        "tags": ["a", "b"],
        "x": None,
    }


def test_mirrored_deals_keep_their_dates_as_iso_strings(sample_crm, connection):
    connection_sync(connection=connection, object_types=["deal"])
    deal = CrmRecordMirror.objects.get(connection=connection, record_id="d-001")
    close = deal.properties["close_date"]
    assert isinstance(close, str) and date.fromisoformat(close)
