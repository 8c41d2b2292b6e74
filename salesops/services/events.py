"""The event router: store each CRM event once, then start the runs whose triggers match.

Every CRM's events take one path: a webhook delivery or a local CRM change is stored with one
INSERT (`event_ingest`) and routed by one queued task per delivery (`webhook_events_route`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from django.db import connections as db_connections
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from connectors.base import CrmEvent
from salesops.models import Connection, CrmRecordMirror, Run, Sop, WebhookEvent
from salesops.services.events_insert import event_payload, events_insert
from salesops.services.runs import run_create
from salesops.services.sops import sop_spec_get
from salesops.specs.model import ExpressionError
from salesops.tasks_enqueue import webhook_events_route_enqueue

logger = logging.getLogger(__name__)


def event_ingest(*, connection: Connection, events: Sequence[CrmEvent]) -> list[WebhookEvent]:
    """Store a checked delivery with one INSERT; returns the rows that are new, in order.

    An event seen before (at-least-once delivery) is skipped by the unique key, and only the
    rows this INSERT wrote come back. Any other database error refuses the whole delivery and
    propagates: an event is stored or refused, never lost.
    """
    fresh, new_ids = _ingest(connection, events)
    using = router.db_for_write(WebhookEvent)
    stored = []
    for event in fresh:
        pk = new_ids.get(event.event_id)
        if pk is not None:
            row = _event_row(connection, event)
            row.pk = pk
            row._state.adding, row._state.db = False, using
            stored.append(row)
    return stored


def _ingest(
    connection: Connection, events: Sequence[CrmEvent]
) -> tuple[list[CrmEvent], dict[str, int]]:
    """The delivery's events, first of each id, in order; and {event_id: pk} of those new."""
    first: dict[str, CrmEvent] = {}
    for event in events:
        first.setdefault(event.event_id, event)
    fresh = list(first.values())
    if not fresh:
        return [], {}
    using = router.db_for_write(WebhookEvent)
    # One statement is atomic on its own; a savepoint only keeps an enclosing transaction
    # usable after a refused value (PostgreSQL aborts the whole transaction otherwise).
    guard = transaction.atomic(using=using) if db_connections[using].in_atomic_block else None
    with guard or contextlib.nullcontext():
        return fresh, dict(events_insert(connection, fresh, using))


def _event_row(connection: Connection, event: CrmEvent) -> WebhookEvent:
    return WebhookEvent(
        connection=connection,
        event_id=event.event_id,
        name=event.name,
        object_type=event.record.object_type,
        record_id=event.record.id,
        payload=event_payload(event),
        occurred_at=event.occurred_at,
    )


def event_route(*, webhook_event: WebhookEvent) -> list[Run]:
    """Create a run for every published SOP with a trigger matching this event (a snapshot
    is first diffed against the record mirror into the events it stands for)."""
    from connectors.base import RecordRef

    if webhook_event.payload.get("origin") == "salesops" and not _is_snapshot(webhook_event):
        # Our own write-back echoed by the CRM: recorded for the audit trail, never re-run.
        WebhookEvent.objects.filter(pk=webhook_event.pk).update(processed_at=timezone.now())
        return []
    connection = webhook_event.connection
    mirror = CrmRecordMirror.objects.filter(
        connection=connection,
        object_type=webhook_event.object_type,
        record_id=webhook_event.record_id,
    ).first()
    stale = _stale_reason(webhook_event, mirror)
    if stale:
        # Events arrive late and out of order; the record has changed since this one, and that
        # later change arrives as its own event. Recorded, so the audit trail says why no run.
        WebhookEvent.objects.filter(pk=webhook_event.pk).update(
            processed_at=timezone.now(), skip_reason=stale
        )
        return []
    if _is_snapshot(webhook_event):
        return _snapshot_route(webhook_event, mirror)
    ref = RecordRef(webhook_event.object_type, webhook_event.record_id)
    created_runs = []
    event_view = {"name": webhook_event.name, **webhook_event.payload}
    activation = {"event": event_view, **_record_view(mirror)}
    for sop in _sops(webhook_event.object_type, connection):
        assert sop.published_version is not None  # filtered on published_version__isnull=False
        spec = sop_spec_get(sop.published_version)
        if not any(_matches(trigger, activation, sop.name) for trigger in spec.triggers):
            continue
        run, created = run_create(
            sop=sop,
            ref=ref,
            trigger=Run.Trigger.EVENT,
            event_key=f"event:{webhook_event.event_id}",
            connection=connection,
        )
        if created:
            created_runs.append(run)
    WebhookEvent.objects.filter(pk=webhook_event.pk).update(
        processed_at=timezone.now(), runs_created=len(created_runs)
    )
    return created_runs


def _sops(object_type: str, connection: Connection) -> list[Sop]:
    return list(
        Sop.objects.filter(enabled=True, object_type=object_type, published_version__isnull=False)
        .filter(Q(connections__isnull=True) | Q(connections=connection))
        .distinct()
        .select_related("published_version__sop")
    )


def _is_snapshot(webhook_event: WebhookEvent) -> bool:
    return webhook_event.name.endswith(".snapshot")


def snapshot_events(webhook_event: WebhookEvent, mirror: CrmRecordMirror | None) -> list[CrmEvent]:
    """The events a stored snapshot stands for: `<object>.created` when the record was never
    mirrored, else one `property_changed` per property whose value differs from the mirror.

    Their ids derive from the snapshot's event id, so routing a snapshot twice stores them once.
    """
    from connectors.base import RecordRef

    ref = RecordRef(webhook_event.object_type, webhook_event.record_id)
    snapshot: dict[str, Any] = webhook_event.payload.get("snapshot") or {}
    origin = webhook_event.payload.get("origin", "")
    base = {"record": ref, "occurred_at": webhook_event.occurred_at, "origin": origin}
    if mirror is None:
        event_id = _derived_id(webhook_event.event_id, "created")
        return [CrmEvent(event_id=event_id, name=f"{ref.object_type}.created", **base)]
    return [
        CrmEvent(
            event_id=_derived_id(webhook_event.event_id, prop),
            name=f"{ref.object_type}.property_changed",
            property=prop,
            value=value,
            **base,
        )
        for prop, value in sorted(snapshot.items())
        if mirror.properties.get(prop) != value
    ]


def _derived_id(event_id: str, suffix: str) -> str:
    derived = f"{event_id}:{suffix}"
    limit = WebhookEvent._meta.get_field("event_id").max_length or 200
    if len(derived) <= limit:
        return derived
    # Still deterministic and unique when the vendor's id leaves no room for the suffix.
    digest = hashlib.sha256(derived.encode()).hexdigest()[:32]
    return f"{event_id[: limit - 33]}:{digest}"


def _snapshot_route(webhook_event: WebhookEvent, mirror: CrmRecordMirror | None) -> list[Run]:
    """Store the snapshot's derived events, bring the mirror up to it, then route them."""
    connection = webhook_event.connection
    derived = snapshot_events(webhook_event, mirror)
    with transaction.atomic():
        stored = event_ingest(connection=connection, events=derived)
        _mirror_apply(webhook_event, mirror)
        skip = "" if derived else "snapshot: no property differs from the record mirror"
        WebhookEvent.objects.filter(pk=webhook_event.pk).update(
            processed_at=timezone.now(), skip_reason=skip
        )
    runs: list[Run] = []
    for row in stored:
        runs += event_route(webhook_event=row)
    WebhookEvent.objects.filter(pk=webhook_event.pk).update(runs_created=min(len(runs), 32767))
    return runs


def _mirror_apply(webhook_event: WebhookEvent, mirror: CrmRecordMirror | None) -> None:
    snapshot: dict[str, Any] = webhook_event.payload.get("snapshot") or {}
    if mirror is None:
        mirror, _ = CrmRecordMirror.objects.get_or_create(
            connection=webhook_event.connection,
            object_type=webhook_event.object_type,
            record_id=webhook_event.record_id,
        )
    mirror.properties = {**mirror.properties, **snapshot}
    stamp = webhook_event.occurred_at
    if mirror.last_modified is None or mirror.last_modified < stamp:
        mirror.last_modified = stamp
    mirror.deleted_at = None  # the CRM just described the record: it exists
    mirror.save(update_fields=["properties", "last_modified", "deleted_at", "synced_at"])


def _stale_reason(webhook_event: WebhookEvent, mirror: CrmRecordMirror | None) -> str:
    """Why the event is older than the record's mirrored state; "" when it is not (or unknown)."""
    if mirror is None or mirror.last_modified is None:
        return ""
    if webhook_event.occurred_at >= mirror.last_modified:
        return ""
    return (
        f"stale: occurred {webhook_event.occurred_at.isoformat()}, before the record's "
        f"last change {mirror.last_modified.isoformat()} (record mirror)"
    )


def _record_view(mirror: CrmRecordMirror | None) -> dict:
    """`record` for an event trigger's `where`: the mirrored record, when we have it."""
    from salesops.services.schedules import mirror_document

    now = timezone.now()
    view: dict[str, Any] = {"now": now.isoformat(), "today": now.date().isoformat()}
    if mirror is not None:
        view["record"] = mirror_document(mirror, now=now)
    return view


def _matches(trigger, activation: dict, sop_name: str) -> bool:
    event_view = activation["event"]
    if trigger.event != event_view["name"]:
        return False
    if trigger.property and trigger.property != event_view.get("property"):
        return False
    if trigger.where is None:
        return True
    try:
        return trigger.where.evaluate(activation) is True
    except ExpressionError as exc:
        logger.warning("trigger where of %s failed on %s: %s", sop_name, event_view, exc)
        return False


def event_receive(*, connection: Connection, event: CrmEvent) -> list[Run]:
    """Ingest then route one event at once, in this process (tools and tests; the CRM's
    changes and webhooks go through `events_accept` and the queue)."""
    stored = event_ingest(connection=connection, events=[event])
    if not stored:
        return []
    return event_route(webhook_event=stored[0])


def events_accept(*, connection: Connection, events: Sequence[CrmEvent]) -> list[int]:
    """Store a delivery and, once committed, route its new events with one queued task;
    returns the new rows' ids, in delivery order."""
    fresh, new_ids = _ingest(connection, events)
    ids = [new_ids[e.event_id] for e in fresh if e.event_id in new_ids]
    webhook_events_route_enqueue(ids)
    return ids


def webhook_events_route(*, webhook_event_ids: Sequence[int]) -> list[Run]:
    """Route one delivery's stored events in the order given; one routed already is skipped
    (a task may be delivered twice)."""
    order = {pk: i for i, pk in enumerate(webhook_event_ids)}
    pending = WebhookEvent.objects.filter(pk__in=order, processed_at__isnull=True)
    runs: list[Run] = []
    for event in sorted(pending.select_related("connection"), key=lambda e: order[e.pk]):
        runs += event_route(webhook_event=event)
    return runs


def webhook_event_route(*, webhook_event_id: int) -> list[Run]:
    """Route one stored event once (tasks enqueued before deliveries were routed whole)."""
    return webhook_events_route(webhook_event_ids=[webhook_event_id])
