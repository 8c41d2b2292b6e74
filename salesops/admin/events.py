"""Admin for inbound CRM events and the record mirror: read-only, for tracing a run to its cause."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from salesops.admin.forms import json_block
from salesops.models import CrmRecordMirror, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "connection",
        "name",
        "object_type",
        "record_id",
        "occurred_at",
        "received_at",
        "processed_at",
        "runs_created",
        "skip_reason",
    )
    list_filter = ("connection", "name", "object_type")
    search_fields = ("record_id", "=event_id")
    date_hierarchy = "received_at"
    fields = (
        "connection",
        "event_id",
        "name",
        "object_type",
        "record_id",
        "occurred_at",
        "received_at",
        "processed_at",
        "runs_created",
        "skip_reason",
        "payload_json",
    )
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_json(self, obj: WebhookEvent) -> str:
        return json_block(obj.payload)


@admin.register(CrmRecordMirror)
class CrmRecordMirrorAdmin(ReadOnlyAdmin):
    list_display = ("record_id", "connection", "object_type", "last_modified", "synced_at")
    list_filter = ("connection", "object_type")
    search_fields = ("=record_id",)
    fields = (
        "connection",
        "object_type",
        "record_id",
        "last_modified",
        "synced_at",
        "properties_json",
    )
    readonly_fields = fields

    @admin.display(description="properties")
    def properties_json(self, obj: CrmRecordMirror) -> str:
        return json_block(obj.properties)
