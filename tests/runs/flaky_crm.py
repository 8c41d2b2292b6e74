"""A local CRM whose task writes fail until told otherwise: a CRM outage mid write-back."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.base import Action, ActionResult, RetriableCRMError, TaskAction
from connectors.local.connector import LocalConnector


class FlakyTasksConnector(LocalConnector):
    """Notes and properties go through; tasks fail while `down` is true."""

    down = True

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        if FlakyTasksConnector.down and any(isinstance(a, TaskAction) for a in actions):
            raise RetriableCRMError("503 Service Unavailable", retry_after=30)
        return super().apply(actions)
