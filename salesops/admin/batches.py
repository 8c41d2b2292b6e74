"""Admin for Message Batches: read-only, to follow a scheduled bulk run to its results."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from salesops.admin.events import ReadOnlyAdmin
from salesops.models import AgentBatch, AgentBatchItem


class AgentBatchItemInline(admin.TabularInline):
    model = AgentBatchItem
    fields = ("run", "custom_id", "status", "input_tokens", "output_tokens", "cost_usd", "error")
    readonly_fields = fields
    raw_id_fields = ("run",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AgentBatch)
class AgentBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "external_id", "state", "model", "items", "created_at", "ended_at")
    list_filter = ("state", "model")
    search_fields = ("=external_id",)
    readonly_fields = (
        "external_id",
        "state",
        "model",
        "created_at",
        "ended_at",
        "polled_at",
        "request_counts",
        "error",
    )
    inlines = [AgentBatchItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentBatch]:
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(ordering="item_count", description="runs")
    def items(self, obj: AgentBatch) -> int:
        return obj.item_count  # type: ignore[attr-defined]
