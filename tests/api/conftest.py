"""API personas (manager, rep, outsider as API clients) and an open escalation."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors.base import RecordRef
from salesops.models import Escalation, Run, Sop
from salesops.services.runs import run_create, run_execute

LIKELY_ESCALATIONS = ("c-009", "c-010", "c-019", "c-024", "c-025", "c-031", "c-049")


@pytest.fixture
def api_manager(manager) -> APIClient:
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.fixture
def api_rep(rep) -> APIClient:
    client = APIClient()
    client.force_authenticate(rep)
    return client


@pytest.fixture
def api_outsider() -> APIClient:
    return APIClient()


@pytest.fixture
def escalation(library, sample_crm) -> Escalation:
    """An open escalation of a real lead-qualification run on the sample CRM."""
    from connectors.local import models as crm

    sop = Sop.objects.get(name="lead-qualification")
    ids = [*LIKELY_ESCALATIONS, *crm.Contact.objects.order_by("id").values_list("id", flat=True)]
    for record_id in ids:
        run, _ = run_create(
            sop=sop,
            ref=RecordRef("contact", record_id),
            trigger="manual",
            event_key=f"esc-{record_id}",
            enqueue=False,
        )
        run = run_execute(run_id=run.pk)
        if run.state == Run.State.ESCALATED:
            return run.escalation
    raise AssertionError("no sample contact escalates")
