"""Publishing a version that passes fewer eval cases than the published one asks first.

Called from SopVersionAdmin.publish_selected (admin/sops.py): the first POST shows the figures
and asks; the confirmed POST publishes, and `EvalGate.confirmed` records who published over
the failing evals, when, and the figures. Kept apart from admin/evals.py, which imports
admin/sops.py, so that sops.py can import this without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from salesops.models import SopVersion
from salesops.services.evals import (
    EvalComparison,
    evals_publish_check,
    evals_publish_override_record,
)

CONFIRM = "confirm_evals"


@dataclass
class EvalGate:
    """The gate's answer for one publish: a confirmation page to show, or go ahead."""

    response: HttpResponse | None = None
    regressions: dict[int, EvalComparison] = field(default_factory=dict)  # by version pk
    user: Any = None

    def confirmed(self, version: SopVersion) -> None:
        """Record a publish over failing evals, once `version` is published (else nothing)."""
        comparison = self.regressions.get(version.pk)
        if comparison is not None:
            evals_publish_override_record(comparison, self.user)


def eval_publish_gate(
    model_admin: Any, request: HttpRequest, versions: list[SopVersion]
) -> EvalGate:
    """Compare each version's evals with its SOP's published version; ask for confirmation
    when one passes fewer cases and the POST has not confirmed it yet."""
    regressions = {}
    for version in versions:
        comparison = evals_publish_check(version)
        if comparison is not None and comparison.regressed:
            regressions[version.pk] = comparison
    gate = EvalGate(regressions=regressions, user=request.user)
    if regressions and request.POST.get(CONFIRM) != "yes":
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": "Publish a version that passes fewer eval cases?",
            "versions": versions,
            "comparisons": list(regressions.values()),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "confirm_field": CONFIRM,
        }
        gate.response = TemplateResponse(
            request, "admin/salesops/evals/publish_confirm.html", context
        )
    return gate
