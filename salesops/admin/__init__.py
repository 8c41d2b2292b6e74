"""Django admin for salesops: configured, not coded; every write goes through a service."""

from salesops.admin import escalations, events, forms, runs, sops

__all__ = ["escalations", "events", "forms", "runs", "sops"]
