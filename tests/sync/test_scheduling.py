"""Sync runs as its own scheduled task, one at a time per connection; the tick never syncs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from salesops import tasks
from salesops.models import Connection, CrmRecordMirror, Run, SyncState
from salesops.services.schedules import schedule_tick, schedules_install
from salesops.services.sync import LEASE, connection_sync, syncs_enqueue

pytestmark = pytest.mark.django_db

MONDAY_0601 = datetime(2026, 11, 23, 6, 1, tzinfo=UTC)


def hold_lease(connection: Connection, *, beat_ago: float = 0) -> SyncState:
    """Leave a lease as a running (or, with an old beat, a killed) sync would."""
    beat = timezone.now() - (LEASE * beat_ago)
    state, _ = SyncState.objects.update_or_create(
        connection=connection,
        object_type="deal",
        defaults={"started_at": beat, "last_page_at": beat},
    )
    return state


def test_the_schedule_tick_no_longer_syncs(library, sample_crm, connection):
    assert schedule_tick(now=MONDAY_0601) == 0
    assert not CrmRecordMirror.objects.exists()
    assert not Run.objects.exists()


def test_the_sync_schedule_is_installed_once_every_minute(db):
    from django_q.models import Schedule

    schedules_install()
    schedules_install()
    (schedule,) = Schedule.objects.filter(func="salesops.tasks.syncs_enqueue")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


def test_the_enqueued_task_syncs_each_enabled_connection(sample_crm, connection, sync_queue):
    Connection.objects.create(kind="local", slug="off", account_id="off", enabled=False)
    assert syncs_enqueue() == 1  # the disabled one is left alone
    assert CrmRecordMirror.objects.filter(connection=connection).count() == 22 + 50 + 27
    assert not CrmRecordMirror.objects.exclude(connection=connection).exists()


def test_nothing_is_enqueued_for_a_connection_being_synced(connection, sync_queue):
    hold_lease(connection)
    assert syncs_enqueue() == 0


def test_a_second_sync_skips_while_the_first_holds_the_lease(sample_crm, connection):
    hold_lease(connection)
    result = connection_sync(connection=connection)
    assert "a sync of local is running" in result.skipped
    assert not CrmRecordMirror.objects.exists()
    assert tasks.sync_connection(connection.pk) == 0


def test_a_lease_left_by_a_killed_sync_lapses_and_force_takes_it_over(sample_crm, connection):
    hold_lease(connection, beat_ago=1.1)  # no page for longer than the lease
    assert connection_sync(connection=connection).records == 22 + 50 + 27
    hold_lease(connection)
    assert connection_sync(connection=connection, force=True, object_types=["deal"]).records
    assert SyncState.objects.filter(connection=connection, started_at__isnull=False).count() == 0


def test_the_task_leaves_a_disabled_connection_alone(sample_crm, connection):
    Connection.objects.filter(pk=connection.pk).update(enabled=False)
    assert tasks.sync_connection(connection.pk) == 0
    assert tasks.sync_connection(10**9) == 0
    assert not CrmRecordMirror.objects.exists()


def test_records_select_syncs_its_connection_first(library, sample_crm, connection):
    from salesops.services.batches import records_select, sop_get

    assert len(records_select(sop=sop_get(name="lead-qualification"))) == 50
