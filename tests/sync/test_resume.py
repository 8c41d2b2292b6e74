"""A sync stores each page with its cursor: interrupted anywhere, the next one finishes the
job with no gap, no duplicate and right counts; CRM errors stop it and keep the cursor."""

from __future__ import annotations

import math

import pytest

from connectors.base import PermanentCRMError, RetriableCRMError
from connectors.local import models as crm
from salesops.models import CrmRecordMirror, SyncState
from salesops.services.sync import connection_sync
from tests.sync.seed import crm_seed, mirror_differences

pytestmark = pytest.mark.django_db

TOTAL = 300  # 100 companies, 100 contacts, 100 deals


class Killed(Exception):
    """Stands for the process dying mid-sync (not a CRM error: nothing handles it)."""


def states(connection) -> dict[str, SyncState]:
    return {s.object_type: s for s in SyncState.objects.filter(connection=connection)}


def test_a_first_sync_mirrors_every_record_and_counts_them(connection, small_pages):
    crm_seed(TOTAL)
    result = connection_sync(connection=connection)
    assert result.records == TOTAL and not result.errors
    assert mirror_differences(connection) == []
    assert CrmRecordMirror.objects.filter(connection=connection).count() == TOTAL
    for state in states(connection).values():
        assert state.records_synced == 100
        assert state.finished_at is not None and state.started_at is None
        assert state.cursor and not state.last_error
    by_type = {o.object_type: o for o in result.objects}
    assert by_type["deal"].pages == math.ceil(100 / small_pages)


def test_an_interrupted_pass_resumes_from_its_last_stored_page(connection, small_pages, breaking):
    crm_seed(TOTAL)
    broken = breaking(connection, pages=20, error=Killed("kill -9"))
    with pytest.raises(Killed):
        connection_sync(connection=connection)
    # contacts (15 pages) were done, companies stopped after 5 pages: all stored, no more.
    mirrored = CrmRecordMirror.objects.filter(connection=connection)
    assert mirrored.filter(object_type="contact").count() == 100
    assert mirrored.filter(object_type="company").count() == 5 * small_pages
    assert not mirrored.filter(object_type="deal").exists()
    assert states(connection)["company"].started_at is None  # the lease went with the error

    broken.left = 10**6  # the next sync runs on a healthy connector
    broken.reads.clear()
    connection_sync(connection=connection, object_types=["company", "deal"])
    assert mirror_differences(connection) == []
    # The interrupted pass went on from its cursor: no page read twice, counts exact.
    assert broken.reads.count("company") == math.ceil((100 - 5 * small_pages) / small_pages)
    assert states(connection)["company"].records_synced == 100
    assert states(connection)["deal"].records_synced == 100


def test_changes_made_between_the_kill_and_the_resume_are_picked_up(
    connection, small_pages, breaking
):
    crm_seed(TOTAL)
    broken = breaking(connection, pages=3, error=Killed())
    with pytest.raises(Killed):
        connection_sync(connection=connection)
    crm.Company.objects.filter(pk="s-co-0000000").update(name="Renamed")  # already mirrored
    company = crm.Company.objects.get(pk="s-co-0000001")
    company.name = "Renamed too"
    company.save()
    crm.Deal.objects.get(pk="s-d-0000005").delete()
    broken.left = 10**6
    connection_sync(connection=connection)
    assert mirror_differences(connection) == []


def test_a_retriable_error_stops_the_sync_and_keeps_the_cursor(connection, small_pages, breaking):
    crm_seed(TOTAL)
    broken = breaking(connection, pages=2, error=RetriableCRMError("429 slow down"))
    result = connection_sync(connection=connection)
    (contact,) = result.objects  # the other object types wait for the next sync
    assert contact.retriable and "429" in contact.error and not contact.caught_up
    state = SyncState.objects.get(connection=connection, object_type="contact")
    assert "retriable: 429 slow down" in state.last_error
    assert state.records_synced == 2 * small_pages and state.cursor and state.finished_at is None

    broken.left = 10**6
    result = connection_sync(connection=connection)
    assert not result.errors and mirror_differences(connection) == []
    state.refresh_from_db()
    assert state.last_error == "" and state.records_synced == 100


def test_a_permanent_error_stops_that_object_type_only(connection, small_pages, breaking):
    crm_seed(TOTAL)
    refused = PermanentCRMError("no read permission on contacts")
    breaking(connection, pages=0, error=refused, only="contact")
    result = connection_sync(connection=connection)
    assert [o.object_type for o in result.objects] == ["contact", "company", "deal"]
    assert result.errors == ["contact: no read permission on contacts"]
    assert result.records == 200  # companies and deals went on
    assert "permanent: no read permission" in states(connection)["contact"].last_error
    assert states(connection)["deal"].finished_at is not None


def test_a_full_pass_reads_everything_again_and_deletes_only_what_the_crm_reports(
    connection, small_pages
):
    crm_seed(TOTAL)
    connection_sync(connection=connection)
    CrmRecordMirror.objects.create(  # a row the CRM no longer lists, with no delete reported
        connection=connection, object_type="deal", record_id="ghost", properties={}
    )
    result = connection_sync(connection=connection, object_types=["deal"], full=True)
    assert result.records == 100
    assert CrmRecordMirror.objects.get(record_id="ghost").deleted_at is None
    assert states(connection)["deal"].records_synced == 200


def test_one_page_is_stored_with_a_constant_number_of_queries(
    connection, settings, django_assert_max_num_queries
):
    from salesops.services.connections import connections_reset

    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTOR_OPTIONS": {"local": {"page_size": 500}},
    }
    connections_reset()
    crm_seed(1200)  # 400 companies: one page, stored by one upsert, not one per record
    with django_assert_max_num_queries(20):
        result = connection_sync(connection=connection, object_types=["company"])
    assert result.records == 400
    connections_reset()


def test_an_unknown_object_type_is_refused(connection):
    with pytest.raises(ValueError, match="unknown object type widget"):
        connection_sync(connection=connection, object_types=["widget"])
