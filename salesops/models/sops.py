"""SOPs and their immutable versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Sop(models.Model):
    """A standard operating procedure, identified by its stable `name`."""

    name = models.SlugField(max_length=63, unique=True)
    title = models.CharField(max_length=200)
    object_type = models.CharField(max_length=20)
    description = models.TextField(blank=True)
    # The version runs resolve at start. Null until a version is published.
    published_version = models.ForeignKey(
        "SopVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    # The connections this SOP runs on; none selected means every connection.
    connections: models.ManyToManyField = models.ManyToManyField(
        "Connection",
        blank=True,
        related_name="sops",
        help_text="Run only on these CRM connections; leave empty for all.",
    )
    # Hash of the library file's text as `load_sops` last read it ("" if never or before tracking):
    # a file makes a new version only when it differs, so admin edits are never replaced silently.
    library_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SOP"

    def __str__(self) -> str:
        return self.title


class SopVersion(models.Model):
    """One immutable version of an SOP's text (and the fragments it included at the time)."""

    sop = models.ForeignKey(Sop, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    fragments = models.JSONField(default=dict, blank=True)  # name -> fragment text
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=200, blank=True)  # "library", "admin", "api"
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sop", "-number"]
        # Publishing changes what every new run does: apart from editing (admin and API).
        permissions = [("publish_sopversion", "Can publish an SOP version")]
        constraints = [
            models.UniqueConstraint(fields=["sop", "number"], name="sopversion_unique_number"),
            models.UniqueConstraint(fields=["sop", "content_hash"], name="sopversion_unique_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.sop.name} v{self.number}"


class Fragment(models.Model):
    """A shared block of prose several SOPs include; editing it upgrades every includer."""

    name = models.SlugField(max_length=63, unique=True)
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    # Hash of the library file's text as `load_sops` last read it; see Sop.library_hash.
    library_hash = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
