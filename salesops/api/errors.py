"""One error shape for the API: {"error": message, "detail": ...} with a 4xx status."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from connectors.inputs import InputRejected
from salesops.specs.model import SpecError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF errors keep their status; spec and value errors become 400s, never 500s."""
    if isinstance(exc, SpecError):
        return Response(
            {"error": "invalid SOP", "detail": [str(issue) for issue in exc.issues]}, status=400
        )
    if isinstance(exc, InputRejected):  # out of bounds: 400, or 413 for too large
        return Response({"error": exc.reason, "detail": None}, status=exc.status)
    if isinstance(exc, ValueError):
        return Response({"error": str(exc)}, status=400)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": str(getattr(exc, "detail", exc)), "detail": response.data}
    return response
