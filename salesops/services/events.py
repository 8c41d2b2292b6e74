"""The event router: store each CRM event once, then start the runs whose triggers match."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.base import CrmEvent
from salesops.models import CrmRecordMirror, Run, Sop, WebhookEvent
from salesops.services.runs import run_create
from salesops.services.sops import sop_spec_get
from salesops.specs.model import ExpressionError

logger = logging.getLogger(__name__)


def event_ingest(*, events: Sequence[CrmEvent]) -> list[WebhookEvent]:
    """Store a checked delivery whole, in one transaction; returns the rows that are new.

    An event seen before (at-least-once delivery) is skipped. Any other database error rolls
    the whole delivery back and propagates: an event is stored or refused, never lost.
    """
    with transaction.atomic():
        seen = set(
            WebhookEvent.objects.filter(event_id__in={e.event_id for e in events}).values_list(
                "source", "event_id"
            )
        )
        fresh: dict[tuple[str, str], CrmEvent] = {}
        for event in events:
            key = (event.source, event.event_id)
            if key not in seen:
                fresh.setdefault(key, event)
        try:
            with transaction.atomic():  # one INSERT for the whole delivery, the common case
                return WebhookEvent.objects.bulk_create(_event_row(e) for e in fresh.values())
        except IntegrityError:
            pass  # a concurrent delivery stored some of them first: one savepoint per event
        stored: list[WebhookEvent] = []
        for event in fresh.values():
            try:
                with transaction.atomic():
                    stored.append(_event_row(event, save=True))
            except IntegrityError:
                twin = WebhookEvent.objects.filter(source=event.source, event_id=event.event_id)
                if not twin.exists():
                    raise  # a value the database refused, not a duplicate
        return stored


def _event_row(event: CrmEvent, *, save: bool = False) -> WebhookEvent:
    row = WebhookEvent(
        source=event.source,
        event_id=event.event_id,
        name=event.name,
        object_type=event.record.object_type,
        record_id=event.record.id,
        payload={"property": event.property, "value": _plain(event.value), "origin": event.origin},
        occurred_at=event.occurred_at,
    )
    if save:
        row.save(force_insert=True)
    return row


def _plain(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def event_route(*, webhook_event: WebhookEvent) -> list[Run]:
    """Create a run for every published SOP with a trigger matching this event."""
    from connectors.base import RecordRef

    ref = RecordRef(webhook_event.object_type, webhook_event.record_id)
    created_runs = []
    sops = Sop.objects.filter(
        enabled=True, object_type=webhook_event.object_type, published_version__isnull=False
    ).select_related("published_version__sop")
    if webhook_event.payload.get("origin") == "salesops":
        # Our own write-back echoed by the CRM: recorded for the audit trail, never re-run.
        WebhookEvent.objects.filter(pk=webhook_event.pk).update(processed_at=timezone.now())
        return []
    mirror = CrmRecordMirror.objects.filter(
        connector=webhook_event.source,
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
    event_view = {"name": webhook_event.name, **webhook_event.payload}
    activation = {"event": event_view, **_record_view(mirror)}
    for sop in sops:
        assert sop.published_version is not None  # filtered on published_version__isnull=False
        spec = sop_spec_get(sop.published_version)
        if not any(_matches(trigger, activation, sop.name) for trigger in spec.triggers):
            continue
        run, created = run_create(
            sop=sop,
            ref=ref,
            trigger=Run.Trigger.EVENT,
            event_key=f"event:{webhook_event.source}:{webhook_event.event_id}",
            connector=webhook_event.source,
        )
        if created:
            created_runs.append(run)
    WebhookEvent.objects.filter(pk=webhook_event.pk).update(
        processed_at=timezone.now(), runs_created=len(created_runs)
    )
    return created_runs


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


def event_receive(*, event: CrmEvent) -> list[Run]:
    """Ingest then route one event; a duplicate starts nothing."""
    stored = event_ingest(events=[event])
    if not stored:
        return []
    return event_route(webhook_event=stored[0])


def webhook_event_route(*, webhook_event_id: int) -> list[Run]:
    """Route a stored event once: a second delivery of the task finds it processed."""
    event = WebhookEvent.objects.get(pk=webhook_event_id)
    if event.processed_at is not None:
        return []
    return event_route(webhook_event=event)
