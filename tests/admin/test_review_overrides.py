"""A reviewer's approval goes through the same checks as any run: an edited result is verified
in full, a failed check is approved over only by name with a reason, and the audit trail says
who overrode or accepted what (never "passed")."""

from __future__ import annotations

import copy
import json

import pytest
from django.test import Client
from django.urls import reverse

from connectors.local import models as crm
from salesops.models import Escalation, Run, WriteBack
from salesops.services.escalations import EscalationError, escalation_approve

pytestmark = pytest.mark.django_db


def decide(client: Client, escalation: Escalation, **data):
    return client.post(reverse("admin:salesops_escalation_change", args=[escalation.pk]), data)


def tier_a_with_50(escalation: Escalation) -> dict:
    """A plausible bad edit: tier A with a score of 50 (the SOP needs 80+ for tier A)."""
    edited = copy.deepcopy(escalation.run.output)
    edited.update(tier="A", score=50, disqualification_reason=None, next_action="call_within_24h")
    return edited


def check_steps(run: Run, check_id: str) -> list[tuple[str, str]]:
    steps = run.steps.filter(kind="check", name=check_id).order_by("seq")
    return [(s.status, s.message) for s in steps]


def test_an_edit_that_breaks_an_acceptance_check_is_refused_and_nothing_is_written(
    as_manager: Client, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    edited = tier_a_with_50(escalation)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(as_manager, escalation, decision="edit", edited_result=json.dumps(edited))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["edited_result"]
    assert any(e.startswith("tier-a-score:") for e in errors)
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN
    assert not WriteBack.objects.filter(run=escalation.run).exists()
    contact = crm.Contact.objects.get(pk=escalation.run.record_id)
    assert contact.ai_score != 50


def test_approving_over_a_failed_check_needs_its_name_and_a_reason(escalation: Escalation, manager):
    edited = tier_a_with_50(escalation)
    with pytest.raises(EscalationError, match="tier-a-score"):
        escalation_approve(escalation=escalation, user=manager, edited_output=edited)
    with pytest.raises(EscalationError, match="needs a reason"):
        escalation_approve(
            escalation=escalation,
            user=manager,
            edited_output=edited,
            overrides={"tier-a-score": "  "},
        )
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_an_override_is_written_and_the_timeline_says_who_overrode_it_and_why(
    as_manager: Client,
    escalation: Escalation,
    manager,
    sync_queue,
    django_capture_on_commit_callbacks,
):
    edited = tier_a_with_50(escalation)
    reason = "score model undercounts this account; VP confirmed budget on the phone"
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            as_manager,
            escalation,
            decision="edit",
            edited_result=json.dumps(edited),
            override=["tier-a-score"],
            override_reason=reason,
        )
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.overrides == {"tier-a-score": reason}
    run = escalation.run
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN
    assert f"overridden by {manager.get_username()}: {reason}" in run.reason
    steps = check_steps(run, "tier-a-score")
    # Verified at run time (passed, on the engine's result), then overridden on the edit:
    # the last word on the check is the override, and it names the reviewer and the reason.
    assert steps[-1][0] == "overridden"
    assert f"overridden by {manager.get_username()}: {reason}" in steps[-1][1]
    assert crm.Contact.objects.get(pk=run.record_id).ai_score == 50


def test_an_override_of_a_check_that_did_not_fail_is_refused(escalation: Escalation, manager):
    with pytest.raises(EscalationError, match="tier-b-score: did not fail"):
        escalation_approve(
            escalation=escalation, user=manager, overrides={"tier-b-score": "just because"}
        )


def test_the_schema_cannot_be_overridden(escalation: Escalation, manager):
    edited = copy.deepcopy(escalation.run.output)
    edited["tier"] = "Z"
    with pytest.raises(EscalationError, match="cannot be overridden"):
        escalation_approve(
            escalation=escalation,
            user=manager,
            edited_output=edited,
            overrides={"schema": "I know better"},
        )


def test_a_plain_approve_records_who_accepted_which_escalation_condition(
    escalation: Escalation, manager, sync_queue, django_capture_on_commit_callbacks
):
    met = [c["id"] for c in escalation.checks if c["status"] == "escalate"]
    assert met, "the fixture escalates on a condition"
    with django_capture_on_commit_callbacks(execute=True):
        escalation_approve(escalation=escalation, user=manager, note="known account")
    run = escalation.run
    run.refresh_from_db()
    assert run.state == Run.State.WRITTEN
    for check_id in met:
        status, message = check_steps(run, check_id)[-1]
        assert status == "accepted"
        assert message.startswith(f"accepted by {manager.get_username()}")
    assert "accepted by" in run.reason
