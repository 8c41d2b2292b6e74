"""Django admin for salesops: configured, not coded; every write goes through a service."""

from salesops.admin import batches, connections, escalations, events, forms, runs, sops, sync

__all__ = ["batches", "connections", "escalations", "events", "forms", "runs", "sops", "sync"]
