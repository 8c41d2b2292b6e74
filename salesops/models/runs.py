"""Runs and their audit trail: steps, escalations and write-backs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Run(models.Model):
    """One execution of an SOP version on one CRM record, from queue to write-back."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        VERIFIED = "verified"  # passed every check; shadow runs stop here
        WRITING = "writing"
        # A retriable CRM error (429, 5xx, timeout) stopped its read or write: the sweeper
        # hands it back to a worker once `retry_at` has passed (services/run_state.py).
        RETRYING = "retrying"
        WRITTEN = "written"
        ESCALATED = "escalated"
        FAILED = "failed"
        SKIPPED = "skipped"

    class Trigger(models.TextChoices):
        EVENT = "event"
        SCHEDULE = "schedule"
        MANUAL = "manual"
        APPROVAL = "approval"

    TERMINAL = (State.WRITTEN, State.ESCALATED, State.FAILED, State.SKIPPED)

    sop = models.ForeignKey("Sop", on_delete=models.PROTECT, related_name="runs")
    sop_version = models.ForeignKey("SopVersion", on_delete=models.PROTECT, related_name="runs")
    connection = models.ForeignKey("Connection", on_delete=models.PROTECT, related_name="runs")
    object_type = models.CharField(max_length=20)
    record_id = models.CharField(max_length=64)
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    # One run per (SOP, record, triggering event): the second enqueue of the same event is a no-op.
    idempotency_key = models.CharField(max_length=200, unique=True)
    shadow = models.BooleanField(default=False, help_text="Full run, no write-back.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    engine = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=60, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Retriable CRM errors retried so far (at most SALESOPS_CRM_MAX_RETRIES), and when the
    # next try is due while the run is `retrying`.
    crm_retries = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True)  # the record document the engine saw
    output = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)  # why it failed, escalated or was skipped
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "queued_at"]),
            models.Index(fields=["state", "retry_at"]),
            models.Index(fields=["connection", "object_type", "record_id"]),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} {self.sop_id}:{self.object_type}:{self.record_id} [{self.state}]"

    @property
    def duration_ms(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds() * 1000
        return None


class RunStep(models.Model):
    """One audited step, in order: a model call, a tool call, a check, a write."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=12, default="ok")
    message = models.TextField(blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runstep_unique_seq")]
        # The dashboard's "checks that fail most": the few blocking check steps among millions.
        indexes = [
            models.Index(
                fields=["run", "name"],
                name="runstep_blocking",
                condition=models.Q(kind="check", status__in=["failed", "error", "escalate"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.kind} {self.name} [{self.status}]"


class Escalation(models.Model):
    """A run that needs a human: failed checks or an escalation condition."""

    class Status(models.TextChoices):
        OPEN = "open"
        APPROVED = "approved"
        REJECTED = "rejected"
        SUPERSEDED = "superseded"  # a newer run of the SOP on the record escalated or wrote

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="escalation")
    reason = models.TextField()
    checks = models.JSONField(default=list)  # the failing / escalating check outcomes
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    edited_output = models.JSONField(null=True, blank=True)
    # Failed checks the reviewer approved over, by check id, with the reason they gave.
    overrides = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # The newer run of the same SOP on the same record whose result replaced this one.
    superseded_by = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at"]
        # Deciding writes to the CRM: a permission of its own, beyond "change" (admin and API).
        permissions = [("decide_escalation", "Can approve or reject an escalation")]

    def __str__(self) -> str:
        return f"Escalation of run {self.run_id} [{self.status}]"


class WriteBack(models.Model):
    """One CRM write of a run, recorded before the call and updated after."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="writes")
    seq = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)  # note | task | set_property
    # Sent to the CRM with the write; the CRM side dedupes on it (see services/writeback.py).
    idempotency_key = models.CharField(max_length=200, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.CharField(max_length=10, blank=True)  # created | exists | updated
    external_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="writeback_unique_seq")]

    def __str__(self) -> str:
        return f"{self.kind} for run {self.run_id} [{self.status}]"
