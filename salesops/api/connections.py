"""Read-only list of CRM connections: slug, kind, account, enabled and usage, never credentials."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.serializers import ConnectionOutput
from salesops.api.views import ApiView
from salesops.models import Connection


class ConnectionListApi(ApiView):
    permission_model = Connection

    def get(self, request: Request) -> Response:
        connections = Connection.objects.order_by("slug")
        return Response(ConnectionOutput(connections, many=True).data)
