"""django-q2 entry points: a primary key in, one service call. Enqueued by dotted path."""

from __future__ import annotations

from salesops.services import escalations, events, runs, schedules


def run_execute(run_id: int) -> str:
    return runs.run_execute(run_id=run_id).state


def escalation_write(escalation_id: int) -> str:
    return escalations.escalation_write(escalation_id=escalation_id).state


def schedule_tick() -> int:
    return schedules.schedule_tick()


def mirror_sync() -> int:
    return schedules.mirror_sync()


def webhook_event_route(webhook_event_id: int) -> int:
    return len(events.webhook_event_route(webhook_event_id=webhook_event_id))
