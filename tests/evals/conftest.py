"""Eval fixtures: decided escalations and written runs of real lead-qualification runs."""

from __future__ import annotations

import pytest
from django.test import Client

from salesops.models import Escalation, EvalCase, Run, Verdict
from tests import helpers

# Sample contacts at enterprise companies: lead qualification sends them to review.
LIKELY_ESCALATIONS = ("c-009", "c-010", "c-019", "c-024", "c-025", "c-031", "c-049")


def contact_ids() -> list[str]:
    from connectors.local import models as crm

    return list(crm.Contact.objects.order_by("id").values_list("id", flat=True))


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def escalation(library, sample_crm) -> Escalation:
    """An open escalation of a real lead-qualification run on the sample CRM."""
    for record_id in (*LIKELY_ESCALATIONS, *contact_ids()):
        run = helpers.run_now("lead-qualification", record_id, key=f"esc-{record_id}")
        if run.state == Run.State.ESCALATED:
            return run.escalation
    raise AssertionError("no sample contact escalates")


@pytest.fixture
def written_run(library, sample_crm) -> Run:
    """A lead-qualification run that passed every check and was written."""
    for record_id in contact_ids():
        run = helpers.run_now("lead-qualification", record_id, key=f"ok-{record_id}")
        if run.state == Run.State.WRITTEN:
            return run
    raise AssertionError("no sample contact qualifies cleanly")


@pytest.fixture
def written_case(written_run: Run, manager) -> EvalCase:
    """A case from a clean run: written, with its tier."""
    return EvalCase.objects.create(
        sop=written_run.sop,
        name=f"clean-{written_run.record_id}",
        record=written_run.input,
        as_of=written_run.started_at,
        expected_verdict=Verdict.WRITTEN,
        expected_fields={"tier": written_run.output["tier"]},
        created_by=manager,
    )
