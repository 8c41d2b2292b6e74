"""Admin for runs: a read-only audit view (steps, writes, input, output) and a retry action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from salesops.admin.forms import json_block
from salesops.models import Escalation, Run, RunStep, WriteBack
from salesops.services.record_labels import RecordLabel, record_label, record_labels
from salesops.services.runs import run_retry
from salesops.templatetags.salesops_review import run_result_html, write_preview_html

PRE = '<pre style="white-space: pre-wrap; margin: .3em 0; font-family: inherit">{}</pre>'


def record_html(label: RecordLabel | None, run: Run) -> str:
    """A run's record by name with its CRM link; its type:id until a label is known."""
    if label is None:
        return f"{run.object_type}:{run.record_id}"
    return render_to_string("admin/salesops/record_label.html", {"label": label})


class LabelledChangeList(ChangeList):
    """A changelist that names the records of the page's runs in one batch (no per-row query)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)  # fills the page's cache; the template reuses these rows
        runs = [getattr(row, "run", row) for row in rows]
        labels = record_labels(runs)
        for row, run in zip(rows, runs, strict=True):
            row.record_label = labels.get(run.pk)


class ReadOnlyInline(admin.TabularInline):
    template = "admin/salesops/readonly_tabular.html"
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RunStepInline(ReadOnlyInline):
    """The audit timeline: every model call, tool call, check and write, in order."""

    model = RunStep
    verbose_name_plural = "audit timeline"
    fields = ("seq", "kind", "name", "status", "message", "tokens", "latency")
    readonly_fields = fields
    ordering = ("seq",)

    @admin.display(description="tokens in/out (cache r/w)")
    def tokens(self, obj: RunStep) -> str:
        if not (obj.input_tokens or obj.output_tokens):
            return "-"
        return (
            f"{obj.input_tokens}/{obj.output_tokens} "
            f"({obj.cache_read_tokens}/{obj.cache_write_tokens})"
        )

    @admin.display(description="latency")
    def latency(self, obj: RunStep) -> str:
        return f"{obj.latency_ms:.0f} ms"


class WriteBackInline(ReadOnlyInline):
    model = WriteBack
    verbose_name_plural = "CRM writes"
    fields = ("seq", "kind", "status", "result", "external_id", "error", "payload_json")
    readonly_fields = fields

    @admin.display(description="what was sent")
    def payload_json(self, obj: WriteBack) -> str:
        payload = obj.payload if isinstance(obj.payload, dict) else {}
        if obj.kind == "set_property" and isinstance(payload.get("properties"), dict):
            return format_html_join(
                "", "<div><code>{}</code> = {}</div>", payload["properties"].items()
            )
        if obj.kind == "note" and isinstance(payload.get("body"), str):
            return format_html(PRE, payload["body"])
        if obj.kind == "task" and isinstance(payload.get("body"), str):
            return format_html(
                "<strong>{}</strong><div>owner {}, due {}, {}</div>" + PRE,
                payload.get("subject", ""),
                payload.get("owner_id") or "-",
                payload.get("due_date", "-"),
                payload.get("priority", ""),
                payload["body"],
            )
        return json_block(obj.payload)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "sop",
        "version",
        "connection",
        "record",
        "state",
        "engine",
        "trigger",
        "shadow",
        "queued_at",
        "duration",
    )
    list_filter = ("state", "engine", "sop", "connection", "trigger", "shadow")
    search_fields = ("record_id", "=idempotency_key")
    list_select_related = ("sop", "sop_version", "connection")
    date_hierarchy = "queued_at"
    actions = ("retry_failed",)
    inlines = (RunStepInline, WriteBackInline)
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "sop",
                    "sop_version",
                    "record",
                    "state",
                    "reason",
                    "escalation_link",
                    "trigger",
                    "shadow",
                    "created_by",
                )
            },
        ),
        (
            "Engine",
            {
                "fields": (
                    "engine",
                    "model",
                    "attempts",
                    "queued_at",
                    "started_at",
                    "finished_at",
                    "duration",
                    "usage",
                    "cost_usd",
                )
            },
        ),
        ("Result", {"fields": ("result_readable",)}),
        (
            "Input: the record document the engine saw",
            {"fields": ("input_json",), "classes": ("collapse",)},
        ),
    ]
    # Every field shown is read-only: a run is an audit record. (An entry may be a row of names.)
    readonly_fields = (
        *(
            name
            for _, options in fieldsets
            for entry in options["fields"]
            for name in ((entry,) if isinstance(entry, str) else entry)
        ),
        "writes_preview",
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LabelledChangeList

    def get_fieldsets(self, request: HttpRequest, obj: Run | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        title = _preview_title(obj) if obj is not None else ""
        if title:
            at = next(i for i, (name, _) in enumerate(fieldsets) if name == "Result") + 1
            fieldsets.insert(at, (title, {"fields": ("writes_preview",)}))
        return fieldsets

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs start from events, schedules, the API or the run_sop command

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an audit record

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("salesops.change_run")

    @admin.action(description="Retry failed runs", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        retried, skipped = [], []
        for run in queryset:
            try:
                run_retry(run=run)
            except ValueError:
                skipped.append(f"{run.pk} ({run.state})")
                continue
            retried.append(str(run.pk))
        if retried:
            self.message_user(request, f"Queued again: run {', '.join(retried)}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Not failed, left alone: run {', '.join(skipped)}.", messages.WARNING
            )

    @admin.display(description="version", ordering="sop_version__number")
    def version(self, obj: Run) -> str:
        return f"v{obj.sop_version.number}"

    @admin.display(description="record", ordering="record_id")
    def record(self, obj: Run) -> str:
        # Changelist rows carry a batch label (LabelledChangeList); a lone run looks its own up.
        if hasattr(obj, "record_label"):
            return record_html(obj.record_label, obj)
        return record_html(record_label(obj.connection, obj.object_type, obj.record_id), obj)

    @admin.display(description="duration")
    def duration(self, obj: Run) -> str:
        ms = obj.duration_ms
        return "-" if ms is None else f"{ms:.0f} ms"

    @admin.display(description="tokens")
    def usage(self, obj: Run) -> str:
        return (
            f"in {obj.input_tokens}, out {obj.output_tokens}, "
            f"cache read {obj.cache_read_tokens}, cache write {obj.cache_write_tokens}"
        )

    @admin.display(description="escalation")
    def escalation_link(self, obj: Run) -> str:
        escalation = getattr(obj, "escalation", None)
        if escalation is None:
            return "-"
        url = reverse("admin:salesops_escalation_change", args=[escalation.pk])
        return format_html(
            '<a href="{}">Escalation {} ({})</a>', url, escalation.pk, escalation.status
        )

    @admin.display(description="output")
    def output_json(self, obj: Run) -> str:
        return json_block(obj.output)

    @admin.display(description="result")
    def result_readable(self, obj: Run) -> str:
        return run_result_html(obj)

    @admin.display(description="writes")
    def writes_preview(self, obj: Run) -> str:
        return write_preview_html(obj)

    @admin.display(description="input")
    def input_json(self, obj: Run) -> str:
        return json_block(obj.input)


def _preview_title(run: Run) -> str:
    """The heading of the run page's write preview, or "" when the run has nothing to preview:
    written runs show their actual writes below, and failed ones may have none."""
    escalation = getattr(run, "escalation", None)
    if run.state == Run.State.ESCALATED and escalation is not None:
        open_ = escalation.status == Escalation.Status.OPEN
        return "What approval would write" if open_ else ""
    if run.shadow and run.state in (Run.State.VERIFIED, Run.State.ESCALATED):
        return "What this run would have written (shadow: nothing was written)"
    return ""
