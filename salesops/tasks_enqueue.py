"""Enqueue helpers used by the HTTP edges, so views never name task paths themselves."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task


def webhook_event_route_enqueue(webhook_event_id: int) -> None:
    """Route a stored webhook event in the background, after the row is committed."""
    transaction.on_commit(
        lambda: async_task(
            "salesops.tasks.webhook_event_route",
            webhook_event_id,
            task_name=f"event-{webhook_event_id}",
        )
    )
