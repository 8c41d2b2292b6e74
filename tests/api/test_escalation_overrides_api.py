"""The REST API approves over failed checks only by name with a reason, like the admin."""

from __future__ import annotations

import copy

import pytest

from salesops.models import Escalation, Run

pytestmark = pytest.mark.django_db


def tier_a_with_50(escalation: Escalation) -> dict:
    edited = copy.deepcopy(escalation.run.output)
    edited.update(tier="A", score=50, disqualification_reason=None, next_action="call_within_24h")
    return edited


def test_the_api_takes_overrides_and_answers_400_with_each_problem(
    api_manager, escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    url = f"/api/escalations/{escalation.pk}/approve/"
    edited = tier_a_with_50(escalation)
    refused = api_manager.post(url, {"edited_output": edited}, format="json")
    assert refused.status_code == 400
    assert any(p.startswith("tier-a-score:") for p in refused.json()["errors"]["checks"])
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api_manager.post(
            url,
            {"edited_output": edited, "overrides": {"tier-a-score": "confirmed by the VP"}},
            format="json",
        )
    assert accepted.status_code == 200
    assert accepted.json()["overrides"] == {"tier-a-score": "confirmed by the VP"}
    escalation.run.refresh_from_db()
    assert escalation.run.state == Run.State.WRITTEN
