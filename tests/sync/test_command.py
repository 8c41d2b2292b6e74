"""`manage.py sync_crm`: a progress bar, a line per object type, clear errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connectors.base import RetriableCRMError
from salesops.models import Connection, CrmRecordMirror
from tests.sync.test_scheduling import hold_lease

pytestmark = pytest.mark.django_db


def sync_crm(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_crm", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_syncs_and_reports_each_object_type(sample_crm, connection):
    out, err = sync_crm()
    assert out.splitlines() == [
        "local contact: 50 record(s), 0 deleted, 1 page(s), caught up",
        "local company: 22 record(s), 0 deleted, 1 page(s), caught up",
        "local deal: 27 record(s), 0 deleted, 1 page(s), caught up",
    ]
    assert "sync local" in err and "99" in err  # the progress bar, on stderr
    assert CrmRecordMirror.objects.count() == 99


def test_it_syncs_one_connection_and_object_type(sample_crm, connection):
    Connection.objects.create(kind="local", slug="other", account_id="other")
    out, _ = sync_crm("--connection", "local", "--object-type", "deal", "--full")
    assert out.splitlines() == ["local deal: 27 record(s), 0 deleted, 1 page(s), caught up"]
    assert set(CrmRecordMirror.objects.values_list("object_type", flat=True)) == {"deal"}


def test_an_unknown_connection_or_object_type_is_a_command_error(connection):
    with pytest.raises(CommandError, match=r"no connection 'nope' \(known: local\)"):
        sync_crm("--connection", "nope")
    with pytest.raises(CommandError, match="unknown object type widget"):
        sync_crm("--object-type", "widget")


def test_a_running_sync_is_a_command_error_unless_forced(sample_crm, connection):
    hold_lease(connection)
    with pytest.raises(CommandError, match=r"a sync of local is running.*--force"):
        sync_crm("--no-progress")
    out, _ = sync_crm("--no-progress", "--force")
    assert "local deal: 27 record(s)" in out


def test_a_crm_error_is_reported_and_exits_non_zero(sample_crm, connection, breaking):
    breaking(connection, pages=0, error=RetriableCRMError("503 from the CRM"))
    with pytest.raises(CommandError, match="sync stopped on a CRM error: local contact: 503"):
        sync_crm("--no-progress")
