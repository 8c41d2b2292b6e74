"""Admin for evals per SOP: cases, eval runs, publishes over failing evals; plus two hooks on
other admins, added here at import time so their modules stay untouched:

- EscalationAdmin gets the action "Make eval case" (decided escalations become cases);
- SopVersionAdmin gets a "Run evals" page (`<version>/evals/`), an action that leads to it,
  and a link to it on the version page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

# The admins this module extends must be registered first, whatever order __init__ imports in.
from salesops.admin import escalations as _escalations  # noqa: F401
from salesops.admin import sops as _sops  # noqa: F401
from salesops.models import (
    Escalation,
    EvalCase,
    EvalPublishOverride,
    EvalResult,
    EvalRun,
    SopVersion,
)
from salesops.services.evals import (
    DEFAULT_ENGINE,
    EvalCaseError,
    eval_case_from_escalation,
    evals_compare,
    evals_latest,
)


@admin.register(EvalCase)
class EvalCaseAdmin(admin.ModelAdmin):
    list_display = ("name", "sop", "expected_verdict", "expected_fields", "source", "created_at")
    list_filter = ("sop", "expected_verdict", "source")
    search_fields = ("name", "description")
    list_select_related = ("sop",)
    readonly_fields = ("source", "escalation", "created_by", "created_at", "updated_at")
    fields = (
        "sop",
        "name",
        "description",
        "expected_verdict",
        "expected_fields",
        "as_of",
        "record",
        *readonly_fields,
    )

    def save_model(self, request: HttpRequest, obj: EvalCase, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


class EvalResultInline(admin.TabularInline):
    model = EvalResult
    fields = ("case_name", "passed", "expected_verdict", "verdict", "differences", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EvalRun)
class EvalRunAdmin(admin.ModelAdmin):
    list_display = ("__str__", "sop_version", "engine", "passed", "total", "started_at")
    list_filter = ("sop_version__sop", "engine")
    list_select_related = ("sop_version__sop",)
    inlines = (EvalResultInline,)
    fields = ("sop_version", "engine", "passed", "total", "cost_usd", "created_by", "started_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # eval runs come from "Run evals" or `manage.py eval_sop`

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of what a version passed: never edited


@admin.register(EvalPublishOverride)
class EvalPublishOverrideAdmin(admin.ModelAdmin):
    list_display = ("sop_version", "draft_passed", "published_passed", "total", "confirmed_by")
    list_filter = ("sop_version__sop",)
    readonly_fields = (
        "sop_version",
        "replaced_version",
        "draft_passed",
        "published_passed",
        "total",
        "draft_run",
        "published_run",
        "confirmed_by",
        "confirmed_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by the publish confirmation only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an audit record


# --- "Make eval case" on escalations ------------------------------------------------------


@admin.action(description="Make eval case from selected decided escalations")
def make_eval_case(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Escalation]
) -> None:
    """One click: each decided escalation becomes a case of its SOP (see services/evals.py)."""
    if not request.user.has_perm("salesops.add_evalcase"):
        model_admin.message_user(request, "You may not add eval cases.", messages.ERROR)
        return
    made, refused = [], []
    for escalation in queryset.select_related("run__sop", "run__sop_version", "decided_by"):
        try:
            made.append(eval_case_from_escalation(escalation, request.user))
        except EvalCaseError as exc:
            refused.append(str(exc))
    if made:
        names = ", ".join(str(case) for case in made)
        model_admin.message_user(request, f"Eval case(s) made: {names}.", messages.SUCCESS)
    for why in refused:
        model_admin.message_user(request, f"No case made: {why}.", messages.WARNING)


# --- "Run evals" on SOP versions -----------------------------------------------------------


def engines() -> list[str]:
    """The engines a manager may pick, rules first (free and deterministic)."""
    names = list(settings.SALESOPS["ENGINES"])
    return sorted(names, key=lambda n: (n != DEFAULT_ENGINE, n))


def _rows(draft: EvalRun, published: EvalRun | None) -> list[dict[str, Any]]:
    """One row per case: its expectation, the draft's outcome and the published one's."""
    theirs = {r.case_name: r for r in published.results.all()} if published else {}
    return [
        {"case": r.case, "name": r.case_name, "draft": r, "published": theirs.get(r.case_name)}
        for r in draft.results.select_related("case").order_by("case_name")
    ]


def evals_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """Run every case of the SOP on this version (and the published one) with a chosen
    engine, and show both pass rates side by side."""
    version_admin = admin.site.get_model_admin(SopVersion)
    version = version_admin.get_object(request, object_id)
    if version is None:
        raise Http404("no such SOP version")
    if not version_admin.has_view_permission(request, version):
        raise PermissionDenied
    engine = request.POST.get("engine") or DEFAULT_ENGINE
    comparison = None
    if request.method == "POST":
        if not request.user.has_perm("salesops.add_evalrun"):
            raise PermissionDenied  # a model engine spends tokens: as starting runs does
        if engine not in engines():
            messages.error(request, f"Unknown engine {engine!r}.")
        else:
            comparison = evals_compare(version, engine, request.user)
    published = version.sop.published_version
    context = {
        **admin.site.each_context(request),
        "opts": SopVersion._meta,
        "title": f"Evals of {version}",
        "version": version,
        "published": published if published and published.pk != version.pk else None,
        "engines": engines(),
        "engine": engine,
        "comparison": comparison,
        "rows": _rows(comparison.draft, comparison.published) if comparison else [],
        "last": evals_latest(version, engine) if comparison is None else None,
        "case_count": EvalCase.objects.filter(sop_id=version.sop_id).count(),
        "cases_url": reverse("admin:salesops_evalcase_changelist")
        + f"?sop__id__exact={version.sop_id}",
    }
    return TemplateResponse(request, "admin/salesops/evals/run.html", context)


@admin.action(description="Run evals on the selected version")
def run_evals(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[SopVersion]
) -> HttpResponse | None:
    """Lead to the "Run evals" page of the one selected version."""
    if queryset.count() != 1:
        model_admin.message_user(request, "Select one version to run evals on.", messages.ERROR)
        return None
    return HttpResponseRedirect(reverse("admin:salesops_sopversion_evals", args=[queryset[0].pk]))


@admin.display(description="evals")
def evals_link(obj: SopVersion) -> str:
    """The version page's link to its "Run evals" page."""
    url = reverse("admin:salesops_sopversion_evals", args=[obj.pk])
    return format_html('<a href="{}">Run evals and compare with the published version</a>', url)


def _hook_sop_versions() -> None:
    # Any: the stubs type these options as class variables of str only; they take callables.
    version_admin: Any = admin.site.get_model_admin(SopVersion)
    version_admin.actions = (*version_admin.actions, run_evals)
    version_admin.fields = (*version_admin.fields, evals_link)
    version_admin.readonly_fields = (*version_admin.readonly_fields, evals_link)
    urls = version_admin.get_urls

    def get_urls() -> list[URLPattern]:
        view = admin.site.admin_view(evals_view)
        return [path("<path:object_id>/evals/", view, name="salesops_sopversion_evals"), *urls()]

    version_admin.get_urls = get_urls


def _hook_escalations() -> None:
    escalation_admin: Any = admin.site.get_model_admin(Escalation)
    escalation_admin.actions = (*(escalation_admin.actions or ()), make_eval_case)


_hook_sop_versions()
_hook_escalations()

__all__ = [
    "EvalCaseAdmin",
    "EvalPublishOverrideAdmin",
    "EvalRunAdmin",
    "make_eval_case",
    "run_evals",
]
