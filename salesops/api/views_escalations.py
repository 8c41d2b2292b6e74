"""The review queue: list and read escalations, approve (as is or edited) or reject them.

Decisions go through the admin's service (salesops.services.escalations): the result is
verified in full; a failed check blocks the approval unless overridden by id with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.base import ApiView, Pagination
from salesops.api.errors import api_error
from salesops.api.filters import PAGE_PARAMETERS, EscalationFilter, escalations_filter
from salesops.api.schema import ErrorOutput, paginated
from salesops.api.serializers import EscalationOutput
from salesops.models import Escalation
from salesops.services.escalations import escalation_approve, escalation_reject

RELATED = ("run__sop", "run__sop_version", "run__connection", "decided_by")
DECISION_ERRORS = {
    409: OpenApiResponse(ErrorOutput, description="already decided (or superseded)"),
}


class EscalationListApi(ApiView):
    """Escalations, newest first, filtered and paged."""

    permission_model = Escalation

    @extend_schema(
        parameters=[EscalationFilter, *PAGE_PARAMETERS],
        responses=paginated(EscalationOutput),
        summary="List escalations",
        operation_id="escalations_list",
    )
    def get(self, request: Request) -> Response:
        filters = EscalationFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        escalations = Escalation.objects.select_related(*RELATED)
        escalations = escalations_filter(escalations, filters.validated_data).order_by("-id")
        paginator = Pagination()
        page = paginator.paginate_queryset(escalations, request, view=self)
        return paginator.get_paginated_response(EscalationOutput(page, many=True).data)


class EscalationDetailApi(ApiView):
    """One escalation with its checks and result."""

    permission_model = Escalation

    @extend_schema(
        responses=EscalationOutput, summary="Read an escalation", operation_id="escalations_read"
    )
    def get(self, request: Request, escalation_id: int) -> Response:
        escalation = get_object_or_404(
            Escalation.objects.select_related(*RELATED), pk=escalation_id
        )
        return Response(EscalationOutput(escalation).data)


class ApproveInput(serializers.Serializer):
    """Approve as is, or with an edited result; failed checks only with a named override."""

    edited_output = serializers.JSONField(
        required=False, allow_null=True, help_text="the result to write instead of the run's"
    )
    overrides = serializers.DictField(
        child=serializers.CharField(max_length=2000),
        required=False,
        default=dict,
        help_text="check id -> why the reviewer approves over it",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RejectInput(serializers.Serializer):
    """Reject: nothing is written; the reason is kept for the SOP's author."""

    reason = serializers.CharField()


class EscalationDecisionApi(ApiView):
    """Shared lookup and refusals of the approve and reject endpoints."""

    # As in the admin: a decision changes the escalation and needs the decide permission.
    permission_model = Escalation
    write_action = "change"
    explicit_permissions = ("salesops.decide_escalation",)

    def decide(
        self,
        escalation_id: int,
        data: serializers.Serializer,
        call: Callable[[Escalation, dict[str, Any]], Escalation],
    ) -> Response:
        escalation = get_object_or_404(
            Escalation.objects.select_related("run__sop", "run__sop_version"), pk=escalation_id
        )
        data.is_valid(raise_exception=True)
        if escalation.status != Escalation.Status.OPEN:
            return api_error(
                409, f"already decided: escalation {escalation.pk} is {escalation.status}"
            )
        # EscalationError (a check failed, ...) -> 400 with each problem under errors.checks.
        escalation = call(escalation, data.validated_data)
        escalation = Escalation.objects.select_related(*RELATED).get(pk=escalation.pk)
        return Response(EscalationOutput(escalation).data)


class EscalationApproveApi(EscalationDecisionApi):
    """Approve for write-back (the write goes through the queue)."""

    @extend_schema(
        request=ApproveInput,
        responses={200: EscalationOutput, **DECISION_ERRORS},
        summary="Approve an escalation",
        operation_id="escalations_approve",
        description="A failed check answers 400 with each problem in errors.checks, unless "
        "overridden by id in `overrides`; the schema check cannot be overridden.",
    )
    def post(self, request: Request, escalation_id: int) -> Response:
        return self.decide(
            escalation_id,
            ApproveInput(data=request.data),
            lambda e, v: escalation_approve(
                escalation=e,
                user=request.user,
                edited_output=v.get("edited_output"),
                overrides=v["overrides"],
                note=v["note"],
            ),
        )


class EscalationRejectApi(EscalationDecisionApi):
    """Reject with a reason: nothing is written."""

    @extend_schema(
        request=RejectInput,
        responses={200: EscalationOutput, **DECISION_ERRORS},
        summary="Reject an escalation",
        operation_id="escalations_reject",
    )
    def post(self, request: Request, escalation_id: int) -> Response:
        return self.decide(
            escalation_id,
            RejectInput(data=request.data),
            lambda e, v: escalation_reject(escalation=e, user=request.user, reason=v["reason"]),
        )
