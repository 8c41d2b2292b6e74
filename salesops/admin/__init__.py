"""Django admin for salesops: configured, not coded; every write goes through a service."""

from django.contrib import admin
from rest_framework.authtoken.admin import TokenProxy  # type: ignore[attr-defined]

from salesops.admin import (
    batches,
    connections,
    dashboards,
    escalations,
    evals,
    events,
    forms,
    runs,
    sops,
    sync,
)

# API tokens are issued with `manage.py api_token` (hashed at rest): DRF's own token page
# would store a token nobody could use, so it is not offered.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)

__all__ = [
    "batches",
    "connections",
    "dashboards",
    "escalations",
    "evals",
    "events",
    "forms",
    "runs",
    "sops",
    "sync",
]
