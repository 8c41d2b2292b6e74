"""The review queue: open escalations first, a decision form, and bulk approve / reject."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from salesops.admin.escalation_edit import edit_approve_view
from salesops.admin.forms import (
    EscalationDecisionForm,
    RejectSelectedForm,
    json_block,
    with_user,
)
from salesops.admin.runs import LabelledChangeList, record_html
from salesops.models import Escalation
from salesops.services.escalations import EscalationError, escalation_approve, escalation_reject
from salesops.services.record_labels import record_label
from salesops.templatetags.salesops_review import run_result_html, write_preview_html

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices  # a TypedDict of the stubs


class StatusFilter(admin.SimpleListFilter):
    """Status, with the open queue as the default view."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Escalation.Status.choices, ("all", "All")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or Escalation.Status.OPEN
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist: Any) -> Iterator[_ListFilterChoices]:
        current = self.value() or Escalation.Status.OPEN
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    form = EscalationDecisionForm
    list_display = (
        "id",
        "sop",
        "connection",
        "record",
        "short_reason",
        "status",
        "created_at",
        "decided_by",
    )
    list_filter = (StatusFilter, "run__sop", "run__connection")
    search_fields = ("run__record_id", "reason")
    list_select_related = ("run__sop", "run__connection", "decided_by")
    actions = ("approve_selected", "reject_selected")
    readonly_fields = (
        "run_link",
        "sop",
        "record",
        "reason",
        "failed_checks",
        "output_json",
        "result_readable",
        "writes_preview",
        "status",
        "superseded_link",
        "decided_by",
        "decided_at",
        "decision_note",
        "overrides_list",
        "edited_json",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Escalation | None = None) -> list:
        review = ("run_link", "sop", "record", "reason", "failed_checks", "result_readable")
        if obj is not None and obj.status == Escalation.Status.OPEN:
            edit_url = reverse("admin:salesops_escalation_edit", args=[obj.pk])
            return [
                ("Why this run needs a human", {"fields": review}),
                ("What approval would write", {"fields": ("writes_preview",)}),
                (
                    "Decision",
                    {
                        "description": format_html(
                            '<a class="button" href="{}">Edit and approve</a> edits the result '
                            "field by field; every check runs again before anything is saved. "
                            "Below: approve as is, reject, or edit the JSON.",
                            edit_url,
                        ),
                        "fields": (
                            "decision",
                            "edited_result",
                            "override",
                            "override_reason",
                            "note",
                        ),
                    },
                ),
            ]
        return [
            ("Why this run needed a human", {"fields": review}),
            (
                "Decision",
                {
                    "fields": (
                        "status",
                        *(("superseded_link",) if obj and obj.superseded_by_id else ()),
                        "decided_by",
                        "decided_at",
                        "decision_note",
                        "overrides_list",
                        "edited_json",
                    )
                },
            ),
        ]

    def get_form(
        self,
        request: HttpRequest,
        obj: Escalation | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[ModelForm[Any]]:
        return with_user(super().get_form(request, obj, change=change, **kwargs), request.user)

    def get_urls(self) -> list[URLPattern]:
        edit = path(
            "<path:object_id>/edit/",
            self.admin_site.admin_view(lambda r, object_id: edit_approve_view(self, r, object_id)),
            name="salesops_escalation_edit",
        )
        return [edit, *super().get_urls()]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LabelledChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs escalate themselves

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # part of the audit trail

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # One decision per escalation: "save and continue" has nothing to continue to.
        context = {**(extra_context or {}), "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != Escalation.Status.OPEN:
            return False  # decided: shown read-only
        # The change form is the decision form: changing is deciding (the API's rule too).
        return super().has_change_permission(request, obj) and self.has_decide_permission(request)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("salesops.decide_escalation")

    def save_model(
        self, request: HttpRequest, obj: Escalation, form: EscalationDecisionForm, change: bool
    ) -> None:
        # The decision service already ran during validation (see forms.py).
        self.message_user(
            request, f"Escalation {obj.pk}: {form.instance.status}.", messages.SUCCESS
        )

    @admin.action(description="Approve selected", permissions=["decide"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Escalation]) -> None:
        self._decide_each(
            request, queryset, lambda e: escalation_approve(escalation=e, user=request.user)
        )

    @admin.action(description="Reject selected…", permissions=["decide"])
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Escalation]
    ) -> HttpResponse | None:
        form = RejectSelectedForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide_each(
                request,
                queryset,
                lambda e: escalation_reject(escalation=e, user=request.user, reason=reason),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Reject escalations",
            "form": form,
            "queryset": queryset.select_related("run__sop"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/salesops/escalation/reject_selected.html", context)

    def _decide_each(
        self, request: HttpRequest, queryset: QuerySet[Escalation], decide: Any
    ) -> None:
        done, failed = 0, []
        for escalation in queryset.select_related("run"):
            try:
                decide(escalation)
            except EscalationError as exc:
                failed.append(f"{escalation.pk}: {exc}")
                continue
            done += 1
        if done:
            self.message_user(request, f"Decided {done} escalation(s).", messages.SUCCESS)
        for line in failed:
            self.message_user(request, f"Escalation {line}", messages.ERROR)

    @admin.display(description="SOP", ordering="run__sop__name")
    def sop(self, obj: Escalation) -> str:
        return f"{obj.run.sop.name} v{obj.run.sop_version.number}"

    @admin.display(description="connection", ordering="run__connection__slug")
    def connection(self, obj: Escalation) -> str:
        return obj.run.connection.slug

    @admin.display(description="record", ordering="run__record_id")
    def record(self, obj: Escalation) -> str:
        run = obj.run
        if hasattr(obj, "record_label"):  # set for a changelist page by LabelledChangeList
            return record_html(obj.record_label, run)
        return record_html(record_label(run.connection, run.object_type, run.record_id), run)

    @admin.display(description="reason")
    def short_reason(self, obj: Escalation) -> str:
        return Truncator(obj.reason).chars(90)

    @admin.display(description="run")
    def run_link(self, obj: Escalation) -> str:
        url = reverse("admin:salesops_run_change", args=[obj.run_id])
        return format_html('<a href="{}">Run {} (audit timeline)</a>', url, obj.run_id)

    @admin.display(description="superseded by")
    def superseded_link(self, obj: Escalation) -> str:
        if obj.superseded_by_id is None:
            return "-"
        url = reverse("admin:salesops_run_change", args=[obj.superseded_by_id])
        return format_html('<a href="{}">Run {}, a newer result</a>', url, obj.superseded_by_id)

    @admin.display(description="checks that stopped the write")
    def failed_checks(self, obj: Escalation) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (c.get("id", ""), c.get("kind", ""), c.get("status", ""), c.get("message", ""))
                for c in obj.checks
            ),
        )
        return format_html(
            "<table><tr><th>check</th><th>kind</th><th>status</th><th>message</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="the run's result")
    def output_json(self, obj: Escalation) -> str:
        return json_block(obj.run.output)

    @admin.display(description="the run's result")
    def result_readable(self, obj: Escalation) -> str:
        return run_result_html(obj.run)

    @admin.display(description="writes")
    def writes_preview(self, obj: Escalation) -> str:
        return write_preview_html(obj.run)

    @admin.display(description="checks approved over")
    def overrides_list(self, obj: Escalation) -> str:
        if not obj.overrides:
            return "-"
        return format_html_join("", "<div><code>{}</code>: {}</div>", sorted(obj.overrides.items()))

    @admin.display(description="edited result")
    def edited_json(self, obj: Escalation) -> str:
        if obj.edited_output is None:
            return "-"
        return run_result_html(obj.run, obj.edited_output)
