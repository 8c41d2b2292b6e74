"""`kill -9` mid-sync: the restarted `sync_crm` ends with the mirror equal to the CRM (no gap,
no duplicate), in a real process on a file database (PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from connectors.local import models as crm
from salesops.models import CrmRecordMirror, SyncState
from salesops.services.workers import worker_env
from tests.sync.seed import crm_seed, mirror_differences

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS = 3000  # 600 pages of 5


def sync_crm(*args: str) -> subprocess.Popen[str]:
    env = {**worker_env(), "DJANGO_SETTINGS_MODULE": "tests.sync.kill_settings"}
    manage = Path(settings.BASE_DIR) / "manage.py"
    return subprocess.Popen(
        [sys.executable, str(manage), "sync_crm", "--no-progress", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def synced(connection) -> int:
    return sum(
        SyncState.objects.filter(connection=connection).values_list("records_synced", flat=True)
    )


def test_a_sync_killed_mid_run_and_restarted_leaves_the_mirror_equal_to_the_crm(connection):
    crm_seed(RECORDS)
    proc = sync_crm()
    deadline = time.monotonic() + 60
    while synced(connection) < 300 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = CrmRecordMirror.objects.filter(connection=connection).count()
    assert 0 < at_kill < RECORDS, f"the kill came at {at_kill} of {RECORDS} records"
    assert at_kill == synced(connection)  # each stored page counted with its cursor, no more

    # The CRM moves on while the sync is down: contacts (synced first) are deleted, one
    # mirrored before the kill and one not; companies renamed, one each side too.
    assert CrmRecordMirror.objects.filter(record_id="s-c-0000000").exists()
    assert not CrmRecordMirror.objects.filter(record_id="s-c-0000999").exists()
    crm.Company.objects.filter(pk__in=["s-co-0000000", "s-co-0000999"]).update(name="Renamed")
    for contact in crm.Contact.objects.filter(pk__in=["s-c-0000000", "s-c-0000999"]):
        contact.delete()

    # At once, the killed sync still holds the lease: a second one refuses to start.
    again = sync_crm()
    out, err = again.communicate(timeout=120)
    assert again.returncode == 1 and "is running" in err and "--force" in err, err

    resumed = sync_crm("--force")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "deal:" in out and "caught up" in out
    assert mirror_differences(connection) == []
    mirror = CrmRecordMirror.objects.filter(connection=connection)
    assert mirror.count() == RECORDS - 1  # one row per record (the unsynced deleted one: none)
    tombs = mirror.filter(deleted_at__isnull=False).values_list("record_id", flat=True)
    assert list(tombs) == ["s-c-0000000"]
