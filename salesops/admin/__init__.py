"""Django admin for salesops: configured, not coded; every write goes through a service."""

from salesops.admin import batches, escalations, events, forms, runs, sops

__all__ = ["batches", "escalations", "events", "forms", "runs", "sops"]
