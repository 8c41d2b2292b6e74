"""Review-page fixtures: a manager's client and escalated runs of the sample CRM's SOPs."""

from __future__ import annotations

import pytest
from django.test import Client

from salesops.models import Escalation, Run
from tests import helpers


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def deal_escalation(library, sample_crm) -> Escalation:
    """d-002, a red deal of 240,000 whose review waits for the manager (large-red-deal)."""
    run = helpers.run_now("deal-review", "d-002", key="review-d-002")
    assert run.state == Run.State.ESCALATED, run.reason
    return run.escalation


@pytest.fixture
def lead_escalation(library, sample_crm) -> Escalation:
    """An open escalation of a lead-qualification run (an enterprise contact)."""
    for record_id in ("c-009", "c-010", "c-019", "c-024", "c-025", "c-031", "c-049"):
        run = helpers.run_now("lead-qualification", record_id, key=f"review-{record_id}")
        if run.state == Run.State.ESCALATED:
            return run.escalation
    raise AssertionError("no sample contact escalates")
