"""Output serializers shared by several endpoints; input serializers live in their views."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesops.models import Connection, Escalation, Run


class SopVersionOutput(serializers.Serializer):
    """One version of an SOP (its text is in the version detail)."""

    number = serializers.IntegerField()
    published = serializers.BooleanField()
    # DRF's metaclass moves declared fields off the class, so this never shadows Field.source
    # at runtime; the stubs see it as an attribute override.
    source = serializers.CharField()  # type: ignore[assignment]
    content_hash = serializers.CharField()
    created_at = serializers.DateTimeField()


class SopOutput(serializers.Serializer):
    """An SOP in a list: its name and the number of its published version (null: none)."""

    name = serializers.CharField()
    title = serializers.CharField()
    object_type = serializers.CharField()
    enabled = serializers.BooleanField()
    published_version = serializers.IntegerField(
        source="published_version.number", default=None, allow_null=True
    )


class SopDetailOutput(SopOutput):
    """An SOP with its published text and every version."""

    description = serializers.CharField()
    published_text = serializers.CharField(
        source="published_version.text", default=None, allow_null=True
    )
    versions = SopVersionOutput(many=True)


class RunStepOutput(serializers.Serializer):
    """One step of a run's audit trail: a tool call, a check, a write."""

    seq = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cache_read_tokens = serializers.IntegerField()
    cache_write_tokens = serializers.IntegerField()
    latency_ms = serializers.FloatField()


class RunOutput(serializers.Serializer):
    """A run in a list: what ran on which record, and how it ended."""

    id = serializers.IntegerField()
    sop = serializers.CharField(source="sop.name")
    sop_version = serializers.IntegerField(source="sop_version.number")
    connection = serializers.CharField(source="connection.slug")
    object_type = serializers.CharField()
    record_id = serializers.CharField()
    trigger = serializers.CharField()
    shadow = serializers.BooleanField()
    state = serializers.CharField()
    engine = serializers.CharField()
    reason = serializers.CharField()
    output = serializers.JSONField(allow_null=True)
    queued_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    escalation = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="its escalation"))
    def get_escalation(self, run: Run) -> int | None:
        escalation = getattr(run, "escalation", None)
        return escalation.pk if escalation else None


class RunDetailOutput(RunOutput):
    """A run with the record it saw, its usage and every step."""

    input = serializers.JSONField(allow_null=True)
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=10, decimal_places=6)
    steps = serializers.SerializerMethodField()

    @extend_schema_field(RunStepOutput(many=True))
    def get_steps(self, run: Run) -> list[dict[str, Any]]:
        # many=True builds a ListSerializer (its data is a list); the stubs type the call as
        # returning RunStepOutput, whose data is a dict.
        steps = RunStepOutput(run.steps.order_by("seq"), many=True).data
        return cast(list[dict[str, Any]], steps)


class EscalationOutput(serializers.Serializer):
    """A run waiting for (or decided by) a person, with the checks that stopped it."""

    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    sop = serializers.CharField(source="run.sop.name")
    connection = serializers.CharField(source="run.connection.slug")
    record_id = serializers.CharField(source="run.record_id")
    reason = serializers.CharField()
    checks = serializers.JSONField()
    status = serializers.ChoiceField(choices=Escalation.Status.choices)
    output = serializers.JSONField(source="run.output", allow_null=True)
    edited_output = serializers.JSONField(allow_null=True)
    overrides = serializers.JSONField()
    decided_by = serializers.CharField(
        source="decided_by.get_username", default=None, allow_null=True
    )
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class UsageOutput(serializers.Serializer):
    """A connection's CRM API usage today."""

    calls_today = serializers.IntegerField()
    last_429_at = serializers.DateTimeField(allow_null=True)
    daily_limit = serializers.IntegerField(allow_null=True)
    daily_remaining = serializers.IntegerField(allow_null=True)


class ConnectionOutput(serializers.Serializer):
    """A connection as the API shows it: never its credentials (not even whether set)."""

    slug = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    account_id = serializers.CharField()
    enabled = serializers.BooleanField()
    from_env = serializers.BooleanField()
    usage = serializers.SerializerMethodField()

    @extend_schema_field(UsageOutput)
    def get_usage(self, connection: Connection) -> dict[str, Any]:
        today = connection.calls_date == timezone.now().date()
        return {
            "calls_today": connection.calls_today if today else 0,
            "last_429_at": connection.last_429_at,
            "daily_limit": connection.daily_limit,
            "daily_remaining": connection.daily_remaining,
        }


class SopVersionDetailOutput(SopVersionOutput):
    """One version of an SOP with its full text and author."""

    sop = serializers.CharField(source="sop.name")
    text = serializers.CharField()
    author = serializers.CharField(source="author.get_username", default=None, allow_null=True)


class SopVersionCreatedOutput(serializers.Serializer):
    """The version a POST of SOP text made (or found: the same text is not a new version)."""

    sop = serializers.CharField()
    number = serializers.IntegerField()
    published = serializers.BooleanField()
    created = serializers.BooleanField()
    content_hash = serializers.CharField()


class RunBatchOutput(serializers.Serializer):
    """The runs one batch start made or found again, and how many are new."""

    runs = RunOutput(many=True)
    created = serializers.IntegerField()
