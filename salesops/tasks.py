"""django-q2 entry points: a primary key in, one service call. Enqueued by dotted path."""

from __future__ import annotations

from salesops.services import (
    agent_batch_items,
    agent_batches,
    escalations,
    events,
    runs,
    schedules,
    sweeper,
    sync,
)


def run_execute(run_id: int) -> str:
    return runs.run_execute(run_id=run_id).state


def escalation_write(escalation_id: int) -> str:
    return escalations.escalation_write(escalation_id=escalation_id).state


def runs_sweep() -> int:
    return sweeper.runs_sweep().total


def schedule_tick() -> int:
    return schedules.schedule_tick()


def sync_connection(connection_id: int) -> int:
    result = sync.connection_sync_scheduled(connection_id=connection_id)
    return result.records if result else 0


def syncs_enqueue() -> int:
    return sync.syncs_enqueue()


def webhook_event_route(webhook_event_id: int) -> int:
    return len(events.webhook_event_route(webhook_event_id=webhook_event_id))


def webhook_events_route(webhook_event_ids: list[int]) -> int:
    return len(events.webhook_events_route(webhook_event_ids=webhook_event_ids))


def agent_batches_poll() -> int:
    return agent_batches.batches_poll_open()


def agent_batch_item_complete(item_id: int) -> str | None:
    run = agent_batch_items.batch_item_complete(item_id=item_id)
    return run.state if run else None
