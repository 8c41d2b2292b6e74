"""Admin shows each connection's sync read-only: last sync, lag, counts, last error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.utils import timezone

from salesops.admin.sync import SyncStateInline
from salesops.models import SyncState

pytestmark = pytest.mark.django_db


def test_the_sync_list_shows_lag_counts_and_errors_and_cannot_edit(client, manager, connection):
    SyncState.objects.create(
        connection=connection,
        object_type="deal",
        finished_at=timezone.now() - timedelta(minutes=7),
        records_synced=1234,
        last_error="retriable: 429 slow down",
    )
    SyncState.objects.create(connection=connection, object_type="contact")
    client.force_login(manager)
    page = client.get("/admin/salesops/syncstate/").content.decode()
    assert "7 min" in page and "1234" in page and "429 slow down" in page
    assert "never caught up" in page
    state = SyncState.objects.get(object_type="deal")
    assert client.post(f"/admin/salesops/syncstate/{state.pk}/change/", {}).status_code == 403


def test_the_inline_is_read_only():
    from django.test import RequestFactory

    inline = SyncStateInline(SyncState, site)
    request = RequestFactory().get("/")
    assert not inline.has_add_permission(request)
    assert not inline.has_change_permission(request)
    assert not inline.has_delete_permission(request)
    assert "lag" in inline.readonly_fields and "last_error" in inline.readonly_fields
