"""The API root (what there is and how to sign in) and the JSON 404 for unknown API paths."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from salesops.api.base import ApiView

ENDPOINTS = {
    "sops": "api:sop-list",
    "runs": "api:run-list",
    "run_batches": "api:run-batch",
    "escalations": "api:escalation-list",
    "connections": "api:connection-list",
    "dashboard": "api:dashboard",
    "schema": "api:schema",
    "docs": "api:docs",
    "redoc": "api:redoc",
}


class RootOutput(serializers.Serializer):
    """Links to every collection and the docs, and how to authenticate."""

    endpoints = serializers.DictField(child=serializers.URLField())
    authentication = serializers.CharField()


class ApiRootApi(ApiView):
    """GET /api/: the endpoints, open to anyone (it names nothing private)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses=RootOutput, summary="API root", operation_id="api_root")
    def get(self, request: Request) -> Response:
        links = {name: reverse(url, request=request) for name, url in ENDPOINTS.items()}
        body = {
            "endpoints": links,
            "authentication": "a browser session, or 'Authorization: Token <token>' for "
            "service accounts (manage.py api_token USERNAME)",
        }
        return Response(RootOutput(body).data)


class NotFoundApi(ApiView):
    """Any other path under /api/: a 404 in the API's error shape, whatever the method."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    parser_classes: list[Any] = []
    schema = None  # type: ignore[assignment]  # not an endpoint

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(f"no API endpoint at {request.path}; see /api/")
