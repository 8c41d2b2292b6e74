"""The local change feed: look-back for late commits, tombstones, cursors bound to their feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import PermanentCRMError
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.testing import read_all, record_ids

pytestmark = pytest.mark.django_db

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def contacts_at(*seconds: int, account: str = "local") -> list[str]:
    """One contact per offset, last modified BASE + offset seconds."""
    ids = []
    for i, offset in enumerate(seconds):
        contact = m.Contact.objects.create(id=f"{account}-c{i}", account=account, first_name="X")
        m.Contact.objects.filter(pk=contact.pk).update(updated_at=BASE + timedelta(seconds=offset))
        ids.append(contact.pk)
    return ids


def test_it_picks_up_a_row_committed_late_with_an_earlier_stamp():
    connector = LocalConnector(page_size=2, lookback_seconds=12)
    contacts_at(10, 20, 30, 40)
    first, cursor = read_all(connector, "contact")
    assert record_ids(first) == ["local-c0", "local-c1", "local-c2", "local-c3"]

    # A long transaction stamped this row at +35 s but committed after we read past +40 s.
    m.Contact.objects.create(id="late", first_name="Late")
    m.Contact.objects.filter(pk="late").update(updated_at=BASE + timedelta(seconds=35))
    again, _ = read_all(connector, "contact", cursor)

    assert "late" in record_ids(again)
    # Only the look-back window (from +28 s) is read again, not the whole table.
    assert record_ids(again) == ["local-c2", "late", "local-c3"]


def test_a_caught_up_feed_rereads_only_its_window_and_does_not_drift():
    connector = LocalConnector(page_size=3, lookback_seconds=15)
    contacts_at(10, 20, 30, 40, 40)
    _, cursor = read_all(connector, "contact")

    page = connector.read_page("contact", cursor)
    again = connector.read_page("contact", page.next_cursor)

    assert not page.has_more and not again.has_more
    assert [r.id for r in page.records] == ["local-c2", "local-c3", "local-c4"]  # >= +25 s
    assert [r.id for r in again.records] == [r.id for r in page.records]


def test_it_reports_deletes_once_and_forgets_an_id_used_again():
    connector = LocalConnector(lookback_seconds=0)
    contacts_at(10, 20)
    _, cursor = read_all(connector, "contact")

    m.Contact.objects.filter(pk="local-c0").delete()  # a queryset delete is recorded too
    (tomb,) = m.DeletedRecord.objects.all()
    assert (tomb.account, tomb.object_type, tomb.record_id) == ("local", "contact", "local-c0")
    page = connector.read_page("contact", cursor)
    assert page.deleted_ids == ["local-c0"]
    assert "local-c0" not in [r.id for r in page.records]

    m.Contact.objects.filter(pk="local-c1").delete()
    m.Contact.objects.create(id="local-c1", first_name="Back")
    page = connector.read_page("contact", page.next_cursor)
    assert "local-c1" not in page.deleted_ids  # alive again: a record, not a delete
    assert "local-c1" in [r.id for r in page.records]


def test_a_cursor_belongs_to_one_object_type_and_account():
    contacts_at(10)
    cursor = LocalConnector().read_page("contact", None).next_cursor

    with pytest.raises(PermanentCRMError, match="not company"):
        LocalConnector().read_page("company", cursor)
    with pytest.raises(PermanentCRMError, match="account 'local'"):
        LocalConnector(account="acme").read_page("contact", cursor)


def test_each_account_pages_only_its_own_records():
    contacts_at(10, 20, account="local")
    contacts_at(15, account="acme")

    mine, _ = read_all(LocalConnector(page_size=1), "contact")
    theirs, _ = read_all(LocalConnector(page_size=1, account="acme"), "contact")

    assert record_ids(mine) == ["local-c0", "local-c1"]
    assert record_ids(theirs) == ["acme-c0"]
