"""Read-only list of CRM connections: slug, kind, account, enabled and usage, never credentials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.base import ApiView
from salesops.api.serializers import ConnectionOutput
from salesops.models import Connection


class ConnectionListApi(ApiView):
    """Every connection with today's usage."""

    permission_model = Connection

    @extend_schema(
        responses=ConnectionOutput(many=True),
        summary="List connections",
        operation_id="connections_list",
    )
    def get(self, request: Request) -> Response:
        connections = Connection.objects.order_by("slug")
        return Response(ConnectionOutput(connections, many=True).data)
