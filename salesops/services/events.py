"""The event router: store each CRM event once, then start the runs whose triggers match."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.base import CrmEvent
from salesops.models import CrmRecordMirror, Run, Sop, WebhookEvent
from salesops.services.runs import run_create
from salesops.services.sops import sop_spec_get
from salesops.specs.model import ExpressionError

logger = logging.getLogger(__name__)


def event_ingest(*, event: CrmEvent) -> WebhookEvent | None:
    """Store the event unless seen before (at-least-once delivery); None for a duplicate."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                source=event.source,
                event_id=event.event_id,
                name=event.name,
                object_type=event.record.object_type,
                record_id=event.record.id,
                payload={
                    "property": event.property,
                    "value": _plain(event.value),
                    "origin": event.origin,
                },
                occurred_at=event.occurred_at,
            )
    except IntegrityError:
        return None


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
    event_view = {"name": webhook_event.name, **webhook_event.payload}
    activation = {"event": event_view, **_record_view(webhook_event)}
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


def _record_view(webhook_event: WebhookEvent) -> dict:
    """`record` for an event trigger's `where`: the mirrored record, when we have it."""
    from salesops.services.schedules import mirror_document

    now = timezone.now()
    mirror = CrmRecordMirror.objects.filter(
        connector=webhook_event.source,
        object_type=webhook_event.object_type,
        record_id=webhook_event.record_id,
    ).first()
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
    stored = event_ingest(event=event)
    if stored is None:
        return []
    return event_route(webhook_event=stored)


def webhook_event_route(*, webhook_event_id: int) -> list[Run]:
    """Route a stored event once: a second delivery of the task finds it processed."""
    event = WebhookEvent.objects.get(pk=webhook_event_id)
    if event.processed_at is not None:
        return []
    return event_route(webhook_event=event)
