"""Fixtures for the connector tests: captured local CRM events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The conformance suite's asserts live outside the test files; rewrite them for clear diffs.
pytest.register_assert_rewrite("connectors.testing")

from connectors.base import CrmEvent  # noqa: E402
from connectors.local.signals import crm_event  # noqa: E402


@pytest.fixture
def sent_events() -> Iterator[list[CrmEvent]]:
    """Events the local CRM sends, with salesops' own receivers unplugged for the test."""
    sent: list[CrmEvent] = []

    def receiver(sender: type, event: CrmEvent, **kwargs: object) -> None:
        sent.append(event)

    # Isolated from whatever salesops connects, so these tests see only the CRM's behaviour.
    saved = crm_event.receivers
    crm_event.receivers = []
    crm_event.sender_receivers_cache.clear()
    crm_event.connect(receiver, weak=False)
    try:
        yield sent
    finally:
        crm_event.receivers = saved
        crm_event.sender_receivers_cache.clear()
