"""Connects the local CRM's change events to the event path every CRM's webhooks take."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from django.dispatch import receiver

from connectors.local.signals import crm_event
from connectors.vocabulary import value_to_neutral
from salesops.models import Connection
from salesops.services.connections import connection_for_account
from salesops.services.events import events_accept

logger = logging.getLogger(__name__)


@receiver(crm_event, dispatch_uid="salesops-local-crm-event")
def on_local_crm_event(sender: Any, event: Any, **kwargs: Any) -> None:
    """Store a local CRM change and queue its routing, as a webhook delivery would be.

    The signal arrives after the CRM writer's commit; routing (SOP matching, run creation) runs
    in a worker, never inside the writer's request.
    """
    try:
        connection = connection_for_account(Connection.Kind.LOCAL, event.account_id or "local")
    except Connection.DoesNotExist:
        # A local account no connection reads: nothing of salesops runs on it.
        logger.info(
            "local CRM account %r has no connection; event %s not stored",
            event.account_id,
            event.event_id,
        )
        return
    if connection.mapping and event.property is not None:
        # The local tables hold the account's own values; SOPs see the neutral ones, as a
        # webhook's events (mapped by the connector's parser) would carry.
        field = f"{event.record.object_type}.{event.property}"
        event = replace(event, value=value_to_neutral(field, event.value, connection.mapping))
    events_accept(connection=connection, events=[event])
