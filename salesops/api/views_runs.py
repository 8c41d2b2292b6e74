"""Runs: list with filters, read one with its steps, start one or a batch (the run service)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.base import ApiView, Pagination
from salesops.api.errors import api_error
from salesops.api.filters import PAGE_PARAMETERS, RunFilter, runs_filter
from salesops.api.schema import ErrorOutput, paginated
from salesops.api.serializers import RunBatchOutput, RunDetailOutput, RunOutput
from salesops.models import Connection, Run
from salesops.services.batches import records_missing, runs_start, sop_get
from salesops.services.connections import connection_default, sop_connections

MAX_BATCH = 100

START_ERRORS = {
    409: OpenApiResponse(ErrorOutput, description="the SOP has no published version"),
    503: OpenApiResponse(ErrorOutput, description="the CRM did not answer; retry later"),
}


class RunStartInput(serializers.Serializer):
    """Start a manual run of an SOP's published version on one CRM record."""

    sop = serializers.SlugField(help_text="SOP name")
    record_id = serializers.CharField(max_length=64)
    connection = serializers.SlugField(
        required=False, help_text="connection slug (default: SALESOPS_CONNECTION)"
    )
    dry_run = serializers.BooleanField(default=False, help_text="a shadow run: no write-back")
    idempotency_key = serializers.CharField(
        max_length=100,
        required=False,
        help_text="the same key (per account) returns the same run instead of a new one",
    )


class RunBatchInput(RunStartInput):
    """Start one run per record id (at most 100), one idempotency key for the batch."""

    record_id = None  # type: ignore[assignment]
    record_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=MAX_BATCH
    )


def _start(request: Request, values: dict[str, Any], record_ids: list[str]) -> Any:
    """Runs for `record_ids`, or an error Response (unknown SOP, connection or record)."""
    field = "record_ids" if "record_ids" in values else "record_id"
    try:
        sop = sop_get(name=values["sop"])
    except ValueError as exc:
        return api_error(400, "unknown SOP", {"sop": [str(exc)]})
    if "connection" in values:
        connection = Connection.objects.filter(slug=values["connection"]).first()
        if connection is None or not sop_connections(sop).filter(pk=connection.pk).exists():
            message = f"{sop.name} does not run on an enabled connection {values['connection']!r}"
            return api_error(400, "unknown connection", {"connection": [message]})
    else:
        connection = connection_default()
    missing = records_missing(sop=sop, record_ids=record_ids, connection=connection)
    if missing:  # CRMError -> 503 (salesops.api.errors)
        message = f"no {sop.object_type} with id {', '.join(map(repr, missing[:10]))} in the CRM"
        return api_error(400, "record not found", {field: [message]})
    key = values.get("idempotency_key")
    # Keys are per account: two integrations choosing "1" do not share a run.
    batch = f"api:{request.user.pk}:{key}" if key else None
    try:
        runs, created = runs_start(
            sop=sop,
            record_ids=record_ids,
            batch=batch,
            shadow=values["dry_run"],
            user=request.user,
            connection=connection,
        )
    except ValueError as exc:
        return api_error(409, f"cannot start the run: {exc}")
    found = Run.objects.select_related("sop", "sop_version", "connection").filter(
        pk__in=[run.pk for run in runs]
    )
    return sorted(found, key=lambda run: record_ids.index(run.record_id)), created


class RunListApi(ApiView):
    """Runs, newest first, filtered and paged (GET); start a run (POST)."""

    permission_model = Run

    @extend_schema(
        parameters=[RunFilter, *PAGE_PARAMETERS],
        responses=paginated(RunOutput),
        summary="List runs",
        operation_id="runs_list",
    )
    def get(self, request: Request) -> Response:
        filters = RunFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        runs = Run.objects.select_related("sop", "sop_version", "escalation", "connection")
        runs = runs_filter(runs, filters.validated_data).order_by("-id")
        paginator = Pagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOutput(page, many=True).data)

    @extend_schema(
        request=RunStartInput,
        responses={202: RunOutput, **START_ERRORS},
        summary="Start a run",
        operation_id="runs_start",
        description="Queued for a worker (202); the same idempotency key returns the same run.",
    )
    def post(self, request: Request) -> Response:
        data = RunStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        started = _start(request, data.validated_data, [data.validated_data["record_id"]])
        if isinstance(started, Response):
            return started
        runs, _ = started
        return Response(RunOutput(runs[0]).data, status=status.HTTP_202_ACCEPTED)


class RunBatchApi(ApiView):
    """Start one run per record of a list."""

    permission_model = Run

    @extend_schema(
        request=RunBatchInput,
        responses={202: RunBatchOutput, **START_ERRORS},
        summary="Start runs on several records",
        operation_id="runs_start_batch",
    )
    def post(self, request: Request) -> Response:
        data = RunBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        record_ids = list(dict.fromkeys(data.validated_data["record_ids"]))
        started = _start(request, data.validated_data, record_ids)
        if isinstance(started, Response):
            return started
        runs, created = started
        body = {"runs": runs, "created": created}
        return Response(RunBatchOutput(body).data, status=status.HTTP_202_ACCEPTED)


class RunDetailApi(ApiView):
    """One run with the record it saw and its steps."""

    permission_model = Run

    @extend_schema(responses=RunDetailOutput, summary="Read a run", operation_id="runs_read")
    def get(self, request: Request, run_id: int) -> Response:
        run = get_object_or_404(
            Run.objects.select_related("sop", "sop_version", "connection", "escalation"),
            pk=run_id,
        )
        return Response(RunDetailOutput(run).data)
