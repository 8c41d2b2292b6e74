"""Connects the local CRM's change events to the event path every CRM's webhooks take."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from connectors.local.signals import crm_event
from salesops.models import Connection
from salesops.services.connections import connection_for_account
from salesops.services.events import events_accept


@receiver(crm_event, dispatch_uid="salesops-local-crm-event")
def on_local_crm_event(sender: Any, event: Any, **kwargs: Any) -> None:
    """Store a local CRM change and queue its routing, as a webhook delivery would be.

    The signal arrives after the CRM writer's commit; routing (SOP matching, run creation) runs
    in a worker, never inside the writer's request.
    """
    connection = connection_for_account(Connection.Kind.LOCAL, event.account_id or "local")
    events_accept(connection=connection, events=[event])
