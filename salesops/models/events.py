"""Inbound CRM events and the mirror of CRM records that schedules select from."""

from __future__ import annotations

from django.db import models


class WebhookEvent(models.Model):
    """A deduplicated inbound CRM event, stored before anything else happens to it."""

    connection = models.ForeignKey("Connection", on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=200)
    name = models.CharField(max_length=60)
    object_type = models.CharField(max_length=20)
    record_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    runs_created = models.PositiveSmallIntegerField(default=0)
    # Why routing started no run although it could have (e.g. "stale: ..."); "" when routed.
    skip_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event_id"], name="webhookevent_unique_per_connection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.name} {self.object_type}:{self.record_id}"


class CrmRecordMirror(models.Model):
    """The last known neutral properties of a CRM record; schedule `where` selectors read it."""

    connection = models.ForeignKey("Connection", on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=20)
    record_id = models.CharField(max_length=64)
    properties = models.JSONField(default=dict)
    last_modified = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)
    # A tombstone: the record was deleted or merged away in the CRM; schedules skip it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "record_id"],
                name="mirror_unique_per_connection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.object_type}:{self.record_id}"
