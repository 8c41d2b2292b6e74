"""Admin for CRM sync: each connection's last sync, lag and counts, read-only (sync_crm and
the scheduled sync task write them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from salesops.models import SyncState

_FIELDS = (
    "object_type",
    "last_sync",
    "lag",
    "running_since",
    "last_page_at",
    "records_synced",
    "records_deleted",
    "last_error",
)


def _lag_text(state: SyncState) -> str:
    if state.finished_at is None:
        return "never caught up"
    return _duration(timezone.now() - state.finished_at)


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


class _SyncDisplay:
    """The derived columns shared by the inline and the list."""

    @admin.display(description="last sync (caught up)", ordering="finished_at")
    def last_sync(self, obj: SyncState) -> Any:
        return obj.finished_at or "never"

    @admin.display(description="lag")
    def lag(self, obj: SyncState) -> str:
        return _lag_text(obj)

    @admin.display(description="running since")
    def running_since(self, obj: SyncState) -> Any:
        return obj.started_at or "-"


class SyncStateInline(_SyncDisplay, admin.TabularInline):
    """A connection's sync per object type: last sync, lag, counts and last error."""

    model = SyncState
    extra = 0
    can_delete = False
    fields = _FIELDS
    readonly_fields = _FIELDS
    show_change_link = False
    verbose_name = "sync"
    verbose_name_plural = "sync (manage.py sync_crm; scheduled every minute)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncState)
class SyncStateAdmin(_SyncDisplay, admin.ModelAdmin):
    list_display = ("connection", *_FIELDS)
    list_filter = ("connection", "object_type")
    fields = ("connection", *_FIELDS, "backfill", "cursor")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
