"""One error shape for the API: {"detail": "what went wrong", "errors": {field: [messages]}}.

`errors` is always there (empty when no field is to blame); nested fields are named by path
("overrides.tier-a-score", "record_ids.0"). Every refusal keeps its 4xx status and DRF's
headers (Retry-After on a 429, WWW-Authenticate on a 401).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from connectors.base import CRMError
from connectors.inputs import InputRejected
from salesops.services.escalations import EscalationError
from salesops.specs.model import SpecError

NON_FIELD = "non_field_errors"


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The body of every error response."""
    return {"detail": detail, "errors": errors or {}}


def api_error(
    code: int, detail: str, errors: dict[str, list[str]] | None = None, **headers: str
) -> Response:
    """An error response in the API's one shape."""
    return Response(error_body(detail, errors), status=code, headers=headers or None)


def field_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure flattened to {"a.b": ["message", ...]}."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in field_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        flat = {}
        for index, item in enumerate(data):
            if not item:
                continue
            name = f"{prefix}.{index}" if prefix else str(index)
            for field, messages in field_errors(item, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    messages = data if isinstance(data, list) else [data]
    return {prefix or NON_FIELD: [str(message) for message in messages]}


def _summary(errors: dict[str, list[str]]) -> str:
    first = next(iter(errors.items()), None)
    if first is None:
        return "invalid input"
    field, messages = first
    where = "" if field == NON_FIELD else f"{field}: "
    return f"invalid input ({where}{messages[0]})"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every known refusal in the one shape; anything else is a bug and is left to raise."""
    if isinstance(exc, SpecError):
        return api_error(400, "invalid SOP", {"text": [str(issue) for issue in exc.issues]})
    if isinstance(exc, InputRejected):  # out of bounds: 400, or 413 for too large
        return api_error(exc.status, exc.reason)
    if isinstance(exc, EscalationError):
        return api_error(400, f"decision refused: {exc}", {"checks": list(exc.problems)})
    if isinstance(exc, CRMError):
        return api_error(503, f"CRM unavailable: {exc}", None, **{"Retry-After": "30"})
    if isinstance(exc, ValueError):
        return api_error(400, str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        response.data = error_body(_summary(errors), errors)
    else:
        response.data = error_body(str(getattr(exc, "detail", exc)))
    return response
