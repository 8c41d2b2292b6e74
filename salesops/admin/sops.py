"""Admin for SOPs, their versions (diff, publish, try in shadow) and shared fragments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms import CheckboxSelectMultiple, ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from connectors.base import CRMError
from salesops.admin.eval_gate import eval_publish_gate
from salesops.admin.forms import (
    FragmentForm,
    SopForm,
    SopVersionTryForm,
    pretty_json,
    with_user,
)
from salesops.models import Fragment, Sop, SopVersion
from salesops.services.sops import sop_spec_get, sop_version_publish
from salesops.services.trials import sop_version_compare
from salesops.specs import diff_sop, diff_summary
from salesops.specs.model import SpecError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _SopCounts(TypedDict):
    """What SopAdmin.get_queryset annotates on each row."""

    version_count: int


def _version_url(version: SopVersion, view: str = "change") -> str:
    return reverse(f"admin:salesops_sopversion_{view}", args=[version.pk])


@admin.register(Sop)
class SopAdmin(admin.ModelAdmin):
    form = SopForm
    list_display = ("name", "title", "object_type", "published", "version_count", "enabled")
    list_filter = ("object_type", "enabled")
    search_fields = ("name", "title")
    list_select_related = ("published_version",)
    change_readonly = ("name", "title", "object_type", "description", "published", "history")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sop]:
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    def get_readonly_fields(self, request: HttpRequest, obj: Sop | None = None) -> tuple:
        return self.change_readonly if obj else ()

    def get_fieldsets(self, request: HttpRequest, obj: Sop | None = None) -> list:
        if obj is None:
            return [
                (
                    None,
                    {"fields": ("name", "text", "publish", "publish_fewer_evals", "connections")},
                )
            ]
        return [
            (None, {"fields": ("name", "title", "object_type", "description", "published")}),
            ("CRM connections", {"fields": ("connections",)}),
            ("Text of the latest version", {"fields": ("text", "publish", "publish_fewer_evals")}),
            ("Version history", {"fields": ("history",)}),
        ]

    def get_form(
        self, request: HttpRequest, obj: Sop | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        return with_user(super().get_form(request, obj, change=change, **kwargs), request.user)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "connections":
            # A handful of connections: checkboxes read better than a two-pane picker.
            kwargs["widget"] = CheckboxSelectMultiple
            kwargs["help_text"] = "Run only on the checked connections; none checked: all."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Sop, form: SopForm, change: bool) -> None:
        # sop_version_create already stored everything during validation (see forms.py).
        version = form.version
        if version is None:
            return
        state = "published" if version.published else "draft"
        if form.created:
            self.message_user(request, f"Saved {version} ({state}).", messages.SUCCESS)
        else:
            self.message_user(request, f"No change: the text equals {version} ({state}).")

    @admin.display(description="published version", ordering="published_version__number")
    def published(self, obj: Sop) -> str:
        version = obj.published_version
        if version is None:
            return "none (draft only)"
        return format_html('<a href="{}">v{}</a>', _version_url(version), version.number)

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj: WithAnnotations[Sop, _SopCounts]) -> int:
        return obj.version_count

    @admin.display(description="versions")
    def history(self, obj: Sop) -> str:
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">v{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td><a href="{}">try in shadow</a></td></tr>',
            (
                (
                    _version_url(v),
                    v.number,
                    "published (active)"
                    if v.pk == obj.published_version_id
                    else ("published earlier" if v.published else "draft"),
                    v.source,
                    v.author or "",
                    v.created_at.strftime("%Y-%m-%d %H:%M"),
                    _version_url(v, "try"),
                )
                for v in obj.versions.select_related("author").order_by("-number")
            ),
        )
        changelist = reverse("admin:salesops_sopversion_changelist") + f"?sop__id__exact={obj.pk}"
        return format_html(
            "<table><tr><th>version</th><th>state</th><th>source</th><th>author</th>"
            '<th>created</th><th></th></tr>{}</table><p><a href="{}">All versions</a></p>',
            rows,
            changelist,
        )


@admin.register(SopVersion)
class SopVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "sop", "number", "state", "source", "author", "created_at")
    list_filter = ("sop", "published", "source")
    search_fields = ("sop__name", "sop__title")
    list_select_related = ("sop", "author")
    actions = ("publish_selected",)
    fields = (
        "sop",
        "number",
        "state",
        "source",
        "author",
        "created_at",
        "content_hash",
        "try_link",
        "changes",
        "diff",
        "text_block",
        "fragments",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from editing the SOP

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # immutable

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # runs point at versions; the audit trail needs them

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("salesops.publish_sopversion")  # the API's rule too

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.try_view)
        return [
            path("<path:object_id>/try/", view, name="salesops_sopversion_try"),
            *super().get_urls(),
        ]

    @admin.action(description="Publish selected version", permissions=["publish"])
    def publish_selected(
        self, request: HttpRequest, queryset: QuerySet[SopVersion]
    ) -> HttpResponse | None:
        versions = list(queryset.select_related("sop"))
        if len({v.sop_id for v in versions}) != len(versions):
            self.message_user(request, "Select at most one version per SOP.", messages.ERROR)
            return None
        # Fewer eval cases passed than the published version: ask first (admin/eval_gate.py).
        gate = eval_publish_gate(self, request, versions)
        if gate.response is not None:
            return gate.response
        for version in versions:
            try:
                sop_version_publish(version=version)
            except SpecError as exc:
                self.message_user(request, f"{version} not published: {exc}", messages.ERROR)
                continue
            gate.confirmed(version)
            self.message_user(request, f"Published {version}.", messages.SUCCESS)
        return None

    def try_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Run this version and the published one on one record, in shadow, side by side."""
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404("no such SOP version")
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        if request.method == "POST" and not request.user.has_perm("salesops.add_run"):
            raise PermissionDenied  # a try starts runs (and may spend model tokens): as the API
        form = SopVersionTryForm(request.POST if request.method == "POST" else None)
        columns = []
        if request.method == "POST" and form.is_valid():
            try:
                runs = sop_version_compare(
                    version=version, record_id=form.cleaned_data["record_id"], user=request.user
                )
            except (ValueError, CRMError) as exc:
                form.add_error("record_id", str(exc))
            else:
                published_id = version.sop.published_version_id
                columns = [
                    {
                        "label": label,
                        "title": "Published" if run.sop_version_id == published_id else "Draft",
                        "run": run,
                        "output": pretty_json(run.output),
                        "checks": run.steps.filter(kind="check").order_by("seq"),
                    }
                    for label, run in runs.items()
                ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Try {version} in shadow",
            "version": version,
            "form": form,
            "columns": columns,
        }
        return TemplateResponse(request, "admin/salesops/sopversion/try.html", context)

    def _previous(self, obj: SopVersion) -> SopVersion | None:
        return obj.sop.versions.filter(number__lt=obj.number).order_by("-number").first()

    @admin.display(description="state")
    def state(self, obj: SopVersion) -> str:
        if obj.sop.published_version_id == obj.pk:
            return "published (active)"
        return "published earlier" if obj.published else "draft"

    @admin.display(description="shadow run")
    def try_link(self, obj: SopVersion) -> str:
        return format_html('<a href="{}">Try in shadow on a record</a>', _version_url(obj, "try"))

    @admin.display(description="text")
    def text_block(self, obj: SopVersion) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.text)

    @admin.display(description="diff to the previous version")
    def diff(self, obj: SopVersion) -> str:
        previous = self._previous(obj)
        if previous is None:
            return "first version"
        text = diff_sop(previous.text, obj.text, old_label=str(previous), new_label=str(obj))
        return format_html('<pre class="sop-diff">{}</pre>', text or "(no text change)")

    @admin.display(description="what changed")
    def changes(self, obj: SopVersion) -> str:
        previous = self._previous(obj)
        if previous is None:
            return "first version"
        try:
            lines = diff_summary(sop_spec_get(previous), sop_spec_get(obj))
        except SpecError as exc:
            return f"summary unavailable: {exc}"
        if not lines:
            return "no change to the front matter"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((x,) for x in lines))
        )


@admin.register(Fragment)
class FragmentAdmin(admin.ModelAdmin):
    form = FragmentForm
    list_display = ("name", "included_by", "updated_at")
    search_fields = ("name", "text")

    def get_readonly_fields(self, request: HttpRequest, obj: Fragment | None = None) -> tuple:
        return ("name", "included_by", "content_hash", "updated_at") if obj else ()

    def get_fields(self, request: HttpRequest, obj: Fragment | None = None) -> tuple:
        if obj is None:
            return ("name", "text")
        return ("name", "included_by", "text", "content_hash", "updated_at")

    def get_form(
        self, request: HttpRequest, obj: Fragment | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        return with_user(super().get_form(request, obj, change=change, **kwargs), request.user)

    def save_model(
        self, request: HttpRequest, obj: Fragment, form: FragmentForm, change: bool
    ) -> None:
        # fragment_update already stored the fragment and upgraded its includers (see forms.py).
        if form.upgraded:
            names = ", ".join(str(v) for v in form.upgraded)
            self.message_user(request, f"Upgraded and published: {names}.", messages.SUCCESS)
        else:
            self.message_user(request, "No published SOP version changed.")

    @admin.display(description="included by (published)")
    def included_by(self, obj: Fragment) -> str:
        sops = Sop.objects.filter(published_version__fragments__has_key=obj.name)
        return ", ".join(sop.name for sop in sops) or "-"
