"""Schedule triggers: due cron slots start runs for the mirrored records their `where` selects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.local import models as crm
from salesops.models import Run
from salesops.services.schedules import schedule_tick, schedules_install
from tests.helpers import mirror_sync

pytestmark = pytest.mark.django_db

# deal-review runs Mondays 06:00 UTC, lead-qualification weekdays 07:00, follow-up weekdays 08:00.
MONDAY_0601 = datetime(2026, 11, 23, 6, 1, tzinfo=UTC)


@pytest.fixture
def mirrored(sample_crm):
    """The sample CRM, synced into the mirror (the sync task's job, not the tick's)."""
    mirror_sync()
    return sample_crm


def test_a_due_slot_starts_runs_only_for_selected_records(library, mirrored):
    started = schedule_tick(now=MONDAY_0601)
    runs = Run.objects.filter(trigger="schedule")
    assert started == runs.count() > 0
    assert set(runs.values_list("sop__name", flat=True)) == {"deal-review"}
    open_deals = set(
        crm.Deal.objects.exclude(stage__in=["closedwon", "closedlost"]).values_list("id", flat=True)
    )
    assert set(runs.values_list("record_id", flat=True)) <= open_deals


def test_the_same_slot_twice_starts_nothing_more(library, mirrored):
    first = schedule_tick(now=MONDAY_0601)
    again = schedule_tick(now=MONDAY_0601 + timedelta(minutes=1))
    assert first > 0 and again == 0
    assert Run.objects.filter(trigger="schedule").count() == first


def test_a_slot_missed_by_more_than_the_catch_up_window_is_skipped(library, mirrored):
    assert schedule_tick(now=MONDAY_0601 + timedelta(minutes=30)) == 0


def test_the_mirror_follows_crm_changes(library, sample_crm):
    assert mirror_sync() == 22 + 50 + 27
    deal = crm.Deal.objects.get(pk="d-001")
    deal.stage = "closedlost"
    deal.save()
    assert mirror_sync() >= 1
    from salesops.models import CrmRecordMirror

    mirrored = CrmRecordMirror.objects.get(object_type="deal", record_id="d-001")
    assert mirrored.properties["stage"] == "closedlost"


def test_the_tick_schedule_is_installed_once(db):
    from django_q.models import Schedule

    schedules_install()
    schedules_install()
    assert Schedule.objects.filter(func="salesops.tasks.schedule_tick").count() == 1
