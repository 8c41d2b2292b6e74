"""Connects the local CRM's change events to the event router (the webhook path for `local`)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from connectors.local.signals import crm_event
from salesops.services.events import event_receive


@receiver(crm_event, dispatch_uid="salesops-local-crm-event")
def on_local_crm_event(sender: Any, event: Any, **kwargs: Any) -> None:
    event_receive(event=event)
