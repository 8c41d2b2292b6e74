"""Evals per SOP: cases (a record snapshot plus the expected verdict), runs and their results."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Verdict(models.TextChoices):
    """How a run of the engine on a case ends, as the run pipeline would end it."""

    WRITTEN = "written", "written"  # every check passed: the result would be written
    # A check failed or an escalation rule fired: a human reviews it.
    ESCALATED = "escalated", "escalated"
    # Written is wrong: escalated, failed or skipped all pass (a rejected escalation says no more).
    NOT_WRITTEN = "not_written", "not written"
    FAILED = "failed", "failed"  # the engine produced no result
    SKIPPED = "skipped", "skipped"  # the SOP's applies_when is false for the record


class EvalCase(models.Model):
    """One regression case of an SOP: the record document a run read, and what should happen."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        ESCALATION = "escalation"
        LIBRARY = "library"  # loaded from sop_library/evals/<sop>/

    sop = models.ForeignKey("Sop", on_delete=models.CASCADE, related_name="eval_cases")
    name = models.SlugField(max_length=120)
    description = models.TextField(blank=True)
    # The record document the engine reads (Run.input), and the time it was read: documents
    # carry durations ("days_to_close") and SOP expressions read `now`, so a case replays there.
    record = models.JSONField(help_text="The record document, as a run records it (Run.input).")
    as_of = models.DateTimeField(help_text="The time the snapshot was taken; the case runs then.")
    expected_verdict = models.CharField(max_length=12, choices=Verdict.choices)
    expected_fields = models.JSONField(
        default=dict, blank=True, help_text='Result fields that must match, e.g. {"tier": "A"}.'
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    escalation = models.ForeignKey(
        "Escalation", null=True, blank=True, on_delete=models.SET_NULL, related_name="eval_cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # a stored eval run older than this is stale

    class Meta:
        ordering = ["sop", "name"]
        verbose_name = "eval case"
        constraints = [models.UniqueConstraint(fields=["sop", "name"], name="evalcase_unique_name")]

    def __str__(self) -> str:
        return f"{self.sop.name}/{self.name}"


class EvalRun(models.Model):
    """Every case of an SOP run once against one version with one engine."""

    sop_version = models.ForeignKey("SopVersion", on_delete=models.CASCADE, related_name="evals")
    engine = models.CharField(max_length=20)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = "eval run"

    def __str__(self) -> str:
        return f"Evals of {self.sop_version} ({self.engine}): {self.passed}/{self.total}"

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def pass_rate(self) -> float | None:
        """Share of cases passed, 0..1 (None when the SOP has no case)."""
        return self.passed / self.total if self.total else None


class EvalResult(models.Model):
    """One case's outcome in one eval run, with what differed from the expectation."""

    eval_run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    # Kept (with its name) when the case is deleted later: the run's figures must not change.
    case = models.ForeignKey(
        EvalCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    case_name = models.CharField(max_length=120)
    passed = models.BooleanField()
    expected_verdict = models.CharField(max_length=12, choices=Verdict.choices)
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    reason = models.TextField(blank=True)  # why the run escalated, failed or was skipped
    differences = models.JSONField(default=list, blank=True)  # ["tier: expected 'A', got 'B'"]
    output = models.JSONField(null=True, blank=True)
    latency_ms = models.FloatField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)

    class Meta:
        ordering = ["eval_run", "case_name"]

    def __str__(self) -> str:
        return f"{self.case_name}: {'pass' if self.passed else 'FAIL'}"


class EvalPublishOverride(models.Model):
    """A version published although it passed fewer cases than the one it replaced."""

    sop_version = models.ForeignKey(
        "SopVersion", on_delete=models.CASCADE, related_name="publish_overrides"
    )
    replaced_version = models.ForeignKey(
        "SopVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    draft_run = models.ForeignKey(EvalRun, null=True, on_delete=models.SET_NULL, related_name="+")
    published_run = models.ForeignKey(
        EvalRun, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    draft_passed = models.PositiveIntegerField()
    published_passed = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-confirmed_at"]
        verbose_name = "publish over failing evals"
        verbose_name_plural = "publishes over failing evals"

    def __str__(self) -> str:
        return (
            f"{self.sop_version} published with {self.draft_passed}/{self.total} cases "
            f"(was {self.published_passed}/{self.total})"
        )
