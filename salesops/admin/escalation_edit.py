"""Edit then approve: an escalated result edited field by field, checked, then approved.

"Check" verifies the edit and previews its writes without deciding anything; "Approve" goes
through `escalation_approve`, which re-runs every check of the SOP on the edited result and
saves and writes nothing unless they pass (or the reviewer overrides named checks with a reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from salesops.admin.forms import EditApproveForm
from salesops.admin.runs import record_html
from salesops.models import Escalation
from salesops.services.escalations import EscalationError, escalation_approve, escalation_review
from salesops.services.record_labels import record_label
from salesops.templatetags.salesops_review import run_result_html, write_preview_html
from salesops.verify.decisions import DecisionError
from salesops.verify.report import VerificationReport

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

CHECK, APPROVE = "_check", "_approve"


def edit_approve_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """GET: the form; POST `_check`: verify and preview only; POST `_approve`: approve."""
    escalation = model_admin.get_object(request, unquote(object_id))
    if escalation is None:
        raise Http404(f"no escalation {object_id}")
    run = escalation.run
    change_url = reverse("admin:salesops_escalation_change", args=[escalation.pk])
    if escalation.status != Escalation.Status.OPEN:
        messages.warning(
            request, f"Escalation {escalation.pk} is {escalation.status}: nothing to edit."
        )
        return HttpResponseRedirect(change_url)
    if not model_admin.has_change_permission(request, escalation):
        raise PermissionDenied
    form = EditApproveForm(
        request.POST if request.method == "POST" else None, escalation=escalation
    )
    report: VerificationReport | None = None
    preview = ""
    if request.method == "POST" and form.is_valid():
        edited = form.result()
        if APPROVE in request.POST:
            try:
                escalation_approve(
                    escalation=escalation,
                    user=request.user,
                    edited_output=edited,
                    overrides=form.overrides(),
                    note=str(form.cleaned_data.get("note") or "").strip(),
                )
            except EscalationError as exc:
                form.add_error(None, exc.problems)
            else:
                messages.success(
                    request, f"Escalation {escalation.pk}: approved with your edit; writing it."
                )
                return HttpResponseRedirect(reverse("admin:salesops_escalation_changelist"))
        report = _report(escalation, edited, form.overrides(), request.user)
        preview = write_preview_html(escalation.run, edited)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Edit and approve escalation {escalation.pk}",
        "original": escalation,
        "form": form,
        "report": report,
        "preview": preview,
        "result": run_result_html(escalation.run),
        "record": record_html(record_label(run.connection, run.object_type, run.record_id), run),
        "change_url": change_url,
        "check_name": CHECK,
        "approve_name": APPROVE,
    }
    return TemplateResponse(request, "admin/salesops/escalation/edit_approve.html", context)


def _report(
    escalation: Escalation, edited: dict[str, Any], overrides: dict[str, str], user: Any
) -> VerificationReport:
    """Every check on the edit, as the approval would run them (overrides shown as such)."""
    try:
        return escalation_review(
            escalation=escalation, output=edited, overrides=overrides or None, user=user
        )
    except DecisionError:
        # An override the approval refuses (e.g. on the schema): show the plain verdicts.
        return escalation_review(escalation=escalation, output=edited)
