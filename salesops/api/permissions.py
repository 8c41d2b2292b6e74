"""API permissions: Django's model permissions as the admin applies them, plus explicit ones.

A view names its model; reads need `view_<model>`, writes `add_<model>` (or the view's
`write_action`), and the view may name explicit permissions too (`decide_escalation`,
`publish_sopversion`). As in the admin, only active staff get that far.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

READ_METHODS = ("GET", "HEAD", "OPTIONS")
WRITE_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def model_permission(model: type[Model], action: str) -> str:
    """'salesops.view_run' and the like: the name Django's auth backends check."""
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def permissions_missing(*, user: Any, perms: tuple[str, ...] | list[str]) -> list[str]:
    return [perm for perm in perms if not user.has_perm(perm)]


def permissions_require(*, request: Request, perms: tuple[str, ...] | list[str]) -> None:
    """Raise a 403 naming what `request.user` lacks, for checks that depend on the input."""
    missing = permissions_missing(user=request.user, perms=perms)
    if missing:
        raise PermissionDenied(f"this needs the permission {', '.join(missing)}")


class ModelPermissions(BasePermission):
    """Active staff holding the model permission of the method and the view's explicit ones."""

    message = "the API is for staff members with permissions; ask an administrator"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_active and user.is_staff):
            return False
        if request.method in READ_METHODS:
            needed = [model_permission(view.permission_model, "view")]
        else:
            # An unknown method needs "change" here and then meets DRF's 405.
            method_action = WRITE_ACTIONS.get(request.method or "", "change")
            action = getattr(view, "write_action", None) or method_action
            needed = [model_permission(view.permission_model, action)]
            needed += getattr(view, "explicit_permissions", ())
        missing = permissions_missing(user=user, perms=needed)
        if missing:
            # Read by DRF after a refusal: the 403 names what to ask an administrator for.
            self.message = f"this needs the permission {', '.join(missing)}"
            return False
        return True
