"""Query filters of the run and escalation lists, documented in the schema as query params."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from salesops.models import Escalation, Run

PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit", OpenApiTypes.INT, description="items per page, 1 to 500 (default 50)"
    ),
    OpenApiParameter("offset", OpenApiTypes.INT, description="items to skip (default 0)"),
]


class CommonFilter(serializers.Serializer):
    """Filters both lists share; an unknown SOP or connection simply matches nothing."""

    sop = serializers.SlugField(required=False, help_text="SOP name")
    connection = serializers.SlugField(required=False, help_text="connection slug")
    record_id = serializers.CharField(max_length=64, required=False, help_text="CRM record id")
    created_after = serializers.DateTimeField(
        required=False, help_text="created at or after (ISO 8601)"
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="created before (ISO 8601)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"created_before": "must be after created_after"})
        return attrs


class RunFilter(CommonFilter):
    """Filters of the run list (created = queued)."""

    state = serializers.ChoiceField(choices=Run.State.choices, required=False)


class EscalationFilter(CommonFilter):
    """Filters of the escalation list."""

    status = serializers.ChoiceField(choices=Escalation.Status.choices, required=False)


def runs_filter(runs: QuerySet[Run], values: dict[str, Any]) -> QuerySet[Run]:
    """`runs` narrowed by validated RunFilter values."""
    lookups = {
        "state": "state",
        "sop": "sop__name",
        "connection": "connection__slug",
        "record_id": "record_id",
        "created_after": "queued_at__gte",
        "created_before": "queued_at__lt",
    }
    return runs.filter(**{lookups[k]: v for k, v in values.items() if k in lookups})


def escalations_filter(
    escalations: QuerySet[Escalation], values: dict[str, Any]
) -> QuerySet[Escalation]:
    """`escalations` narrowed by validated EscalationFilter values."""
    lookups = {
        "status": "status",
        "sop": "run__sop__name",
        "connection": "run__connection__slug",
        "record_id": "run__record_id",
        "created_after": "created_at__gte",
        "created_before": "created_at__lt",
    }
    return escalations.filter(**{lookups[k]: v for k, v in values.items() if k in lookups})
