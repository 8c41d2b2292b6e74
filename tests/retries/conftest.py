"""Fixtures for CRM retries: a stormy CRM, and time passing for runs waiting on a retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from salesops.models import Run
from salesops.services.connections import connections_reset
from salesops.services.sweeper import runs_sweep
from tests.retries.stormy_crm import StormyConnector


@pytest.fixture
def stormy_crm(settings) -> Iterator[type[StormyConnector]]:
    """The local CRM behind a scripted storm, with 3 retries allowed per piece of work."""
    settings.SALESOPS = {
        **settings.SALESOPS,
        "CONNECTORS": {"local": "tests.retries.stormy_crm.StormyConnector"},
        "CRM_MAX_RETRIES": 3,
        "RATE_LIMIT_MAX_WAIT": 5,
    }
    connections_reset()
    StormyConnector.calm()
    yield StormyConnector
    StormyConnector.calm()
    connections_reset()


def retries_due() -> int:
    """Let time pass until every `retrying` run is due; returns how many were waiting."""
    return Run.objects.filter(state=Run.State.RETRYING).update(retry_at=timezone.now())


def sweep_until_settled(rounds: int = 20) -> int:
    """Sweep (tasks run inline) until no run waits on a retry; returns the retries handed out."""
    handed = 0
    for _ in range(rounds):
        if not retries_due():
            return handed
        handed += runs_sweep().retried
    raise AssertionError("runs still retrying after every round")
