"""Admin for Message Batches: read-only, to follow a scheduled bulk run to its results."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string

from salesops.admin.events import ReadOnlyAdmin
from salesops.models import AgentBatch, AgentBatchItem, Run
from salesops.services.record_labels import RecordLabel, record_labels


class AgentBatchItemInline(admin.TabularInline):
    model = AgentBatchItem
    fields = (
        "run",
        "record",
        "custom_id",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "error",
    )
    readonly_fields = fields
    raw_id_fields = ("run",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentBatchItem]:
        # Each row shows its run: one join, not a query per row (nor the runs' documents).
        return (
            super().get_queryset(request).select_related("run").defer("run__input", "run__output")
        )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # Every item's label in a few queries up front; the admin builds this inline afresh
        # for each request, so the labels never outlive the page.
        runs = Run.objects.filter(agent_batch_item__batch=obj) if obj else Run.objects.none()
        self._labels: dict[int, RecordLabel] = record_labels(
            runs.only("pk", "connection_id", "object_type", "record_id")
        )
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="record")
    def record(self, item: AgentBatchItem) -> str:
        label = getattr(self, "_labels", {}).get(item.run_id)
        if label is None:
            return "-"
        return render_to_string("admin/salesops/record_label.html", {"label": label})


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
