"""Admin personas (manager, rep, outsider as logged-in clients) and review-queue data."""

from __future__ import annotations

import pytest
from django.test import Client

from salesops.models import Escalation, Run
from tests import helpers

# Sample contacts at enterprise companies: lead qualification sends them to review.
LIKELY_ESCALATIONS = ("c-009", "c-010", "c-019", "c-024", "c-025", "c-031", "c-049")


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def as_rep(client: Client, rep) -> Client:
    client.force_login(rep)
    return client


@pytest.fixture
def outsider(client: Client) -> Client:
    """Nobody logged in."""
    return client


def run_now(sop_name: str, record_id: str, *, key: str = "admin-test") -> Run:
    """Create and execute a run inline (no queue)."""
    return helpers.run_now(sop_name, record_id, key=key)


@pytest.fixture
def escalation(library, sample_crm) -> Escalation:
    """An open escalation of a real lead-qualification run on the sample CRM."""
    from connectors.local import models as crm

    ids = [*LIKELY_ESCALATIONS, *crm.Contact.objects.order_by("id").values_list("id", flat=True)]
    for record_id in ids:
        run = run_now("lead-qualification", record_id, key=f"esc-{record_id}")
        if run.state == Run.State.ESCALATED:
            return run.escalation
    raise AssertionError("no sample contact escalates")


@pytest.fixture
def written_run(library, sample_crm) -> Run:
    """A lead-qualification run that passed every check and was written."""
    from connectors.local import models as crm

    for record_id in crm.Contact.objects.order_by("id").values_list("id", flat=True):
        run = run_now("lead-qualification", record_id, key=f"ok-{record_id}")
        if run.state == Run.State.WRITTEN:
            return run
    raise AssertionError("no sample contact qualifies cleanly")
