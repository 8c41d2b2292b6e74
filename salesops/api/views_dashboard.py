"""The dashboard figures (the admin dashboard's, from `services.dashboards`) for integrations."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.base import ApiView
from salesops.api.errors import api_error
from salesops.api.schema import ErrorOutput
from salesops.models import Connection, Run, Sop
from salesops.services.dashboards import FilterError, dashboard_figures

MAX_DAYS = 366


class DashboardQuery(serializers.Serializer):
    """Which runs: an SOP (and version), a connection, a period (default: the last 30 days)."""

    sop = serializers.SlugField(required=False)
    version = serializers.IntegerField(required=False, min_value=1)
    connection = serializers.SlugField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    top = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)


def _plain(value: Any) -> Any:
    """Figures as JSON: decimals as numbers, times as ISO 8601, dataclasses as objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class DashboardApi(ApiView):
    """GET /api/dashboard/: runs, outcomes, decisions, checks, cost, latency, queue, syncs."""

    permission_model = Run

    @extend_schema(
        parameters=[DashboardQuery],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the dashboard's figures"),
            400: OpenApiResponse(ErrorOutput, description="a filter that cannot apply"),
        },
        summary="Dashboard figures",
        operation_id="dashboard_read",
    )
    def get(self, request: Request) -> Response:
        query = DashboardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        until = values.get("until") or timezone.now()
        since = values.get("since") or until - timedelta(days=30)
        if until - since > timedelta(days=MAX_DAYS):
            return api_error(
                400, f"the period is at most {MAX_DAYS} days", {"since": ["too early"]}
            )
        sop = connection = None
        if "sop" in values:
            sop = Sop.objects.filter(name=values["sop"]).first()
            if sop is None:
                return api_error(400, f"no SOP {values['sop']!r}", {"sop": ["unknown SOP"]})
        if "connection" in values:
            connection = Connection.objects.filter(slug=values["connection"]).first()
            if connection is None:
                message = f"no connection {values['connection']!r}"
                return api_error(400, message, {"connection": ["unknown connection"]})
        try:
            figures = dashboard_figures(
                sop,
                values.get("version"),
                since=since,
                until=until,
                connection=connection,
                top=values["top"],
            )
        except FilterError as exc:
            return api_error(400, str(exc), {"filters": [str(exc)]})
        return Response(_plain(figures))
