"""Inbound CRM webhooks: verify, store, answer fast; routing happens in the queue."""
