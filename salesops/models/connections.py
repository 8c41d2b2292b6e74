"""CRM connections: which CRM account salesops talks to, with what credentials and mapping."""

from __future__ import annotations

from django.db import models


class Connection(models.Model):
    """One CRM account (a HubSpot portal, a Salesforce org, a local CRM account).

    Several connections of one kind coexist. Credentials are stored encrypted
    (services/credentials.py) and never shown back; `mapping` translates the CRM's field names
    and values to the neutral ones (connectors/vocabulary.py).
    """

    class Kind(models.TextChoices):
        LOCAL = "local"
        HUBSPOT = "hubspot"
        SALESFORCE = "salesforce"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, blank=True)
    # HubSpot portal id, Salesforce organization id, local account; events must match it.
    account_id = models.CharField(max_length=64, blank=True)
    credentials = models.TextField(blank=True, editable=False)  # a MultiFernet token
    mapping = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # Created or updated from environment variables at start-up (services/connections.py).
    from_env = models.BooleanField(default=False, editable=False)
    # Usage, as the connector and the rate limiter see it.
    calls_date = models.DateField(null=True, blank=True, editable=False)
    calls_today = models.PositiveIntegerField(default=0, editable=False)
    last_429_at = models.DateTimeField(null=True, blank=True, editable=False)
    daily_limit = models.PositiveIntegerField(null=True, blank=True, editable=False)
    daily_remaining = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class SyncState(models.Model):
    """Where the sync of one object type of one connection stands: its saved cursor."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="syncs")
    object_type = models.CharField(max_length=20)
    cursor = models.TextField(blank=True)  # opaque, owned by the connector
    backfill = models.BooleanField(default=False)  # the cursor belongs to a backfill pass
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)  # the last pass that caught up
    last_page_at = models.DateTimeField(null=True, blank=True)
    records_synced = models.PositiveBigIntegerField(default=0)
    records_deleted = models.PositiveBigIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["connection", "object_type"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "object_type"], name="syncstate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.connection}:{self.object_type}"
