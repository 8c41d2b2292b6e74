"""The local CRM in Django admin: records with their timelines and what the AI wrote."""

from __future__ import annotations

from typing import ClassVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from connectors.local import models as m


class ActivityInline(admin.TabularInline):
    model = m.Activity
    fields = ("timestamp", "kind", "direction", "subject", "outcome", "ai_generated")
    readonly_fields = ("ai_generated",)
    ordering = ("-timestamp",)
    extra = 0
    show_change_link = True


class NoteInline(admin.TabularInline):
    """AI notes are an audit trail: visible on the record, never edited here."""

    model: type[m.AiWrite] = m.Note
    fields: ClassVar[tuple[str, ...]] = ("created_at", "body", "idempotency_key")
    readonly_fields: ClassVar[tuple[str, ...]] = fields
    ordering = ("-created_at",)
    extra = 0
    can_delete = False
    verbose_name_plural = "AI notes"

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class TaskInline(NoteInline):
    model = m.Task
    fields = ("created_at", "due_date", "subject", "priority", "status", "owner")
    readonly_fields = fields
    verbose_name_plural = "AI tasks"


class RecordAdmin(admin.ModelAdmin):
    inlines = (ActivityInline, NoteInline, TaskInline)
    list_select_related: ClassVar[tuple[str, ...]] = ("owner",)
    raw_id_fields: ClassVar[tuple[str, ...]] = ("owner",)
    readonly_fields = ("updated_at",)
    date_hierarchy = "updated_at"
    ordering = ("-updated_at",)
    list_per_page = 50


@admin.register(m.Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "name", "email")
    list_filter = ("account",)
    search_fields = ("id", "name", "email")


@admin.register(m.Company)
class CompanyAdmin(RecordAdmin):
    list_display = ("id", "name", "domain", "industry", "employees", "country", "owner")
    list_filter = ("account", "industry", "country", "customer_status", "owner")
    search_fields = ("id", "name", "domain")


@admin.register(m.Contact)
class ContactAdmin(RecordAdmin):
    list_display = (
        "id",
        "first_name",
        "last_name",
        "email",
        "company",
        "lifecycle_stage",
        "lead_status",
        "ai_score",
        "ai_tier",
        "owner",
    )
    list_filter = ("account", "lifecycle_stage", "lead_status", "ai_tier", "email_opt_out", "owner")
    list_select_related = ("owner", "company")
    raw_id_fields = ("owner", "company")
    search_fields = ("id", "first_name", "last_name", "email", "company__name")


@admin.register(m.Deal)
class DealAdmin(RecordAdmin):
    list_display = (
        "id",
        "name",
        "company",
        "stage",
        "amount",
        "currency",
        "close_date",
        "forecast_category",
        "ai_health",
        "owner",
    )
    list_filter = ("account", "stage", "forecast_category", "ai_health", "owner")
    list_select_related = ("owner", "company")
    raw_id_fields = ("owner", "company", "contacts")
    search_fields = ("id", "name", "company__name")


@admin.register(m.Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("id", "timestamp", "kind", "subject", "contact", "company", "deal")
    list_filter = ("account", "kind", "ai_generated", "direction")
    list_select_related = ("contact", "company", "deal")
    raw_id_fields = ("contact", "company", "deal")
    search_fields = ("id", "subject", "body")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)


@admin.register(m.Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "contact", "company", "deal", "idempotency_key")
    list_select_related = ("contact", "company", "deal")
    search_fields = ("idempotency_key", "body")
    readonly_fields = [f.name for f in m.Note._meta.fields]
    ordering = ("-created_at",)


@admin.register(m.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "subject", "due_date", "priority", "status", "owner")
    list_filter = ("account", "status", "priority", "owner")
    list_select_related = ("owner", "contact", "company", "deal")
    search_fields = ("idempotency_key", "subject", "body")
    readonly_fields = ("idempotency_key", "activity", "contact", "company", "deal", "created_at")
    ordering = ("-created_at",)


@admin.register(m.DeletedRecord)
class DeletedRecordAdmin(admin.ModelAdmin):
    """Tombstones the sync reads as deletes: a history, never edited by hand."""

    list_display = ("deleted_at", "account", "object_type", "record_id")
    list_filter = ("account", "object_type")
    search_fields = ("record_id",)
    ordering = ("-deleted_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
