"""Message Batches API submissions: one AgentBatch per submission, one item per run."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AgentBatch(models.Model):
    """A Message Batch sent to the Anthropic API, polled until its results are processed."""

    class State(models.TextChoices):
        SUBMITTING = "submitting"  # rows written, API call not yet answered
        IN_PROGRESS = "in_progress"
        CANCELING = "canceling"
        ENDED = "ended"  # every result processed (runs written, escalated, failed or requeued)
        FAILED = "failed"  # the API refused the batch; its runs went back to the queue

    OPEN = (State.IN_PROGRESS, State.CANCELING)

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.SUBMITTING)
    model = models.CharField(max_length=60, blank=True)
    # The run time the requests were built with; verification and write-back use it too.
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    request_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"Batch {self.pk} {self.external_id or '-'} [{self.state}]"


class AgentBatchItem(models.Model):
    """One run's request in a batch, and what its result was."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        ERRORED = "errored"
        EXPIRED = "expired"
        CANCELED = "canceled"

    batch = models.ForeignKey(AgentBatch, on_delete=models.CASCADE, related_name="items")
    run = models.OneToOneField("Run", on_delete=models.CASCADE, related_name="agent_batch_item")
    custom_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    error = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)  # result recorded
    completed_at = models.DateTimeField(null=True, blank=True)  # handed to verification

    class Meta:
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "custom_id"], name="batchitem_unique_custom_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.custom_id} in batch {self.batch_id} [{self.status}]"
