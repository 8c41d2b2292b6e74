"""REST API views: parse input, call one service or selector, serialize the result.

Every refusal is a 4xx with {"error": ..., "detail": ...}; SpecError and other DRF errors are
shaped by salesops.api.errors.exception_handler. Bodies are JSON within connectors.inputs bounds
(salesops.api.parsers); access follows the admin's model permissions (salesops.api.permissions).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors.base import CRMError
from salesops.api.parsers import BoundedJSONParser
from salesops.api.permissions import ModelPermissions, model_permission, permissions_require
from salesops.api.serializers import (
    EscalationOutput,
    RunDetailOutput,
    RunOutput,
    SopDetailOutput,
    SopOutput,
)
from salesops.models import Escalation, Run, Sop
from salesops.services.batches import records_missing, runs_start, sop_get
from salesops.services.escalations import EscalationError, escalation_approve, escalation_reject
from salesops.services.sops import sop_version_create


def error(code: int, message: str, detail: Any = None) -> Response:
    """The API's one error shape."""
    return Response({"error": message, "detail": detail}, status=code)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class ApiView(APIView):
    """Every endpoint: bounded JSON in, the admin's model permissions on `permission_model`."""

    parser_classes = [BoundedJSONParser]
    permission_classes = [ModelPermissions]
    permission_model: type[Model]
    write_action: str | None = None  # None: the method's (POST adds)
    explicit_permissions: tuple[str, ...] = ()


class SopListApi(ApiView):
    permission_model = Sop

    def get(self, request: Request) -> Response:
        sops = Sop.objects.select_related("published_version").order_by("name")
        return Response(SopOutput(sops, many=True).data)


class SopDetailApi(ApiView):
    permission_model = Sop

    def get(self, request: Request, name: str) -> Response:
        sop = get_object_or_404(Sop.objects.select_related("published_version"), name=name)
        return Response(SopDetailOutput(sop).data)


class SopVersionCreateApi(ApiView):
    # The admin's rule: editing an SOP is changing it; a new one needs add, publishing its own.
    permission_model = Sop
    write_action = "change"

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(trim_whitespace=False)
        publish = serializers.BooleanField(default=False)

    def post(self, request: Request, name: str) -> Response:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return error(400, "invalid input", data.errors)
        needed = [] if Sop.objects.filter(name=name).exists() else [model_permission(Sop, "add")]
        if data.validated_data["publish"]:
            needed.append("salesops.publish_sopversion")
        permissions_require(request=request, perms=needed)
        # SpecError -> 400 with every issue (salesops.api.errors).
        version, created = sop_version_create(
            sop_name=name,
            text=data.validated_data["text"],
            author=request.user,
            source="api",
            publish=data.validated_data["publish"],
        )
        body = {
            "sop": name,
            "number": version.number,
            "published": version.published,
            "created": created,
            "content_hash": version.content_hash,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RunListApi(ApiView):
    permission_model = Run

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=Run.State.choices, required=False)
        sop = serializers.SlugField(required=False)
        connection = serializers.SlugField(required=False)

    class InputSerializer(serializers.Serializer):
        sop = serializers.SlugField()
        record_id = serializers.CharField(max_length=64)
        dry_run = serializers.BooleanField(default=False)
        idempotency_key = serializers.CharField(max_length=100, required=False)

    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            return error(400, "invalid filter", filters.errors)
        runs = Run.objects.select_related(
            "sop", "sop_version", "escalation", "connection"
        ).order_by("-id")
        if "connection" in filters.validated_data:
            runs = runs.filter(connection__slug=filters.validated_data["connection"])
        if "state" in filters.validated_data:
            runs = runs.filter(state=filters.validated_data["state"])
        if "sop" in filters.validated_data:
            runs = runs.filter(sop__name=filters.validated_data["sop"])
        paginator = Pagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOutput(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return error(400, "invalid input", data.errors)
        values = data.validated_data
        try:
            sop = sop_get(name=values["sop"])
        except ValueError as exc:
            return error(400, "unknown SOP", str(exc))
        try:
            missing = records_missing(sop=sop, record_ids=[values["record_id"]])
        except CRMError as exc:
            return error(503, "CRM unavailable", str(exc))
        if missing:
            return error(
                400,
                "record not found",
                f"no {sop.object_type} with id {values['record_id']!r} in the CRM",
            )
        batch = f"api:{values['idempotency_key']}" if "idempotency_key" in values else None
        try:
            runs, _ = runs_start(
                sop=sop,
                record_ids=[values["record_id"]],
                batch=batch,
                shadow=values["dry_run"],
                user=request.user,
            )
        except ValueError as exc:
            return error(409, "cannot start the run", str(exc))
        run = Run.objects.select_related("sop", "sop_version").get(pk=runs[0].pk)
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailApi(ApiView):
    permission_model = Run

    def get(self, request: Request, run_id: int) -> Response:
        run = get_object_or_404(Run.objects.select_related("sop", "sop_version"), pk=run_id)
        return Response(RunDetailOutput(run).data)


class EscalationListApi(ApiView):
    permission_model = Escalation

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Escalation.Status.choices, required=False)
        connection = serializers.SlugField(required=False)

    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            return error(400, "invalid filter", filters.errors)
        escalations = Escalation.objects.select_related("run__sop", "run__connection", "decided_by")
        if "connection" in filters.validated_data:
            escalations = escalations.filter(
                run__connection__slug=filters.validated_data["connection"]
            )
        if "status" in filters.validated_data:
            escalations = escalations.filter(status=filters.validated_data["status"])
        paginator = Pagination()
        page = paginator.paginate_queryset(escalations, request, view=self)
        return paginator.get_paginated_response(EscalationOutput(page, many=True).data)


class EscalationDecisionApi(ApiView):
    """Shared lookup and error mapping of the approve and reject endpoints."""

    # As in the admin: a decision changes the escalation and needs the decide permission.
    permission_model = Escalation
    write_action = "change"
    explicit_permissions = ("salesops.decide_escalation",)

    def decide(self, request: Request, escalation_id: int, serializer: Any, call: Any) -> Response:
        escalation = get_object_or_404(
            Escalation.objects.select_related("run__sop", "run__sop_version"), pk=escalation_id
        )
        data = serializer(data=request.data)
        if not data.is_valid():
            return error(400, "invalid input", data.errors)
        if escalation.status != Escalation.Status.OPEN:
            return error(
                409, "already decided", f"escalation {escalation.pk} is {escalation.status}"
            )
        try:
            escalation = call(escalation, data.validated_data)
        except EscalationError as exc:
            return error(400, "decision refused", exc.problems)
        return Response(EscalationOutput(escalation).data)


class EscalationApproveApi(EscalationDecisionApi):
    class InputSerializer(serializers.Serializer):
        edited_output = serializers.JSONField(required=False, allow_null=True)
        # check id -> why the reviewer approves over it; the run records "overridden by ...".
        overrides = serializers.DictField(
            child=serializers.CharField(max_length=2000), required=False, default=dict
        )
        note = serializers.CharField(required=False, allow_blank=True, default="")

    def post(self, request: Request, escalation_id: int) -> Response:
        return self.decide(
            request,
            escalation_id,
            self.InputSerializer,
            lambda e, v: escalation_approve(
                escalation=e,
                user=request.user,
                edited_output=v.get("edited_output"),
                overrides=v["overrides"],
                note=v["note"],
            ),
        )


class EscalationRejectApi(EscalationDecisionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()

    def post(self, request: Request, escalation_id: int) -> Response:
        return self.decide(
            request,
            escalation_id,
            self.InputSerializer,
            lambda e, v: escalation_reject(escalation=e, user=request.user, reason=v["reason"]),
        )
