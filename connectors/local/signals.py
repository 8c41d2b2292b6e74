"""The local CRM's change events: the same neutral `CrmEvent`s a webhook would deliver.

Contract: `crm_event` is sent with `sender=<Company|Contact|Deal class>` and `event=CrmEvent`,
after the transaction commits, for

- `<object>.created` when a record is created through `save()`;
- `<object>.property_changed`, one per changed neutral property, with `property` and the new
  neutral `value` (owner as its id; dates and timestamps as date/datetime objects);
- `<object>.activity_logged` for each record a new non-AI activity is linked to, `value` the
  activity kind.

Every event's `account_id` is the local account ("portal") of the record.

Never sent for: `ai_*` properties (AI-owned outputs, so the AI's writes cannot re-trigger
SOPs), AI-generated activities, `bulk_create`/`update()` writes, or inside `events_suppressed()`
(the sample loader). Event ids are deterministic, so a replay of one change has one id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from connectors.base import CrmEvent, RecordRef

if TYPE_CHECKING:
    from connectors.local.models import Activity, CrmRecordModel

logger = logging.getLogger(__name__)

crm_event = Signal()

_suppressed: ContextVar[bool] = ContextVar("localcrm_events_suppressed", default=False)


@contextmanager
def events_suppressed() -> Iterator[None]:
    """Within this block, local CRM writes fire no events (bulk loads, AI writes)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


_by_salesops: ContextVar[bool] = ContextVar("localcrm_writes_by_salesops", default=False)


@contextmanager
def writes_by_salesops() -> Iterator[None]:
    """Changes made within this block are salesops' own write-back: events say origin=salesops."""
    token = _by_salesops.set(True)
    try:
        yield
    finally:
        _by_salesops.reset(token)


def events_enabled() -> bool:
    """False inside `events_suppressed()`."""
    return not _suppressed.get()


def is_ai_owned(prop: str) -> bool:
    """ai_* properties are written only by the AI and never announced as changes."""
    return prop.startswith("ai_")


def record_saved(record: CrmRecordModel, *, created: bool, changed: dict[str, Any]) -> None:
    """Queue the created / property_changed events for one save of a record."""
    if not events_enabled():
        return
    ref = RecordRef(record.object_type, record.pk)
    stamp = record.updated_at or timezone.now()
    if created:
        _send(type(record), _event(ref, "created", stamp, key="", account=record.account))
        return
    for prop, value in changed.items():
        if is_ai_owned(prop) or prop == "created_at":
            continue
        # updated_at is unique per save, so (record, property, updated_at) names one change.
        key = f"{prop}:{stamp.isoformat()}"
        event = _event(
            ref,
            "property_changed",
            stamp,
            key=key,
            prop=prop,
            value=_neutral(value),
            account=record.account,
        )
        _send(type(record), event)


def activity_created(activity: Activity) -> None:
    """Queue one activity_logged event per record a new human activity is linked to."""
    if activity.ai_generated or not events_enabled():
        return
    for record in activity.linked_records():
        ref = RecordRef(record.object_type, record.pk)
        event = _event(
            ref, "activity_logged", activity.timestamp, key=activity.pk, account=activity.account
        )
        _send(type(record), replace(event, value=activity.kind))


def _event(
    ref: RecordRef,
    suffix: str,
    occurred_at: datetime,
    *,
    key: str,
    prop: str | None = None,
    value: Any = None,
    account: str = "",
) -> CrmEvent:
    name = f"{ref.object_type}.{suffix}"
    event_id = f"local:{name}:{ref.id}" + (f":{key}" if key else "")
    return CrmEvent(
        event_id=event_id,
        name=name,
        record=ref,
        occurred_at=occurred_at,
        property=prop,
        value=value,
        source="local",
        origin="salesops" if _by_salesops.get() else "",
        account_id=account,
    )


def _neutral(value: Any) -> Any:
    # Empty strings are how the local tables say "unknown"; the neutral model says None.
    return None if value == "" else value


def _send(sender: type, event: CrmEvent) -> None:
    # On commit, so a receiver that enqueues a run (or reads the record) sees committed rows.
    transaction.on_commit(partial(_deliver, sender, event))


def _deliver(sender: type, event: CrmEvent) -> None:
    # A failing receiver must not turn a committed CRM write into an error for the writer.
    for receiver, result in crm_event.send_robust(sender=sender, event=event):
        if isinstance(result, Exception):
            logger.error(
                "crm_event receiver %r failed for %s",
                receiver,
                event.event_id,
                exc_info=(type(result), result, result.__traceback__),
            )
