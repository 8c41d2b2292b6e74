"""Edit then approve: a form from the output schema; every check re-runs before anything is
saved, failures show inline, bad input gives form errors and never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesops.models import Escalation, Run
from salesops.services.escalations import escalation_reject

pytestmark = pytest.mark.django_db


def edit_url(escalation: Escalation) -> str:
    return reverse("admin:salesops_escalation_edit", args=[escalation.pk])


def initial(client: Client, escalation: Escalation) -> dict[str, Any]:
    """The form as the page fills it in, ready to post back."""
    form = client.get(edit_url(escalation)).context["form"]
    return {name: form[name].value() for name in form.result_fields}


def submit(client: Client, escalation: Escalation, button: str = "_approve", **changes: Any):
    data = {**initial(client, escalation), **changes, button: "1"}
    return client.post(edit_url(escalation), {k: v for k, v in data.items() if v is not None})


def test_the_form_follows_the_output_schema(as_manager: Client, deal_escalation: Escalation):
    response = as_manager.get(edit_url(deal_escalation))
    assert "Veridian Health - Enterprise rollout" in response.content.decode()
    form = response.context["form"]
    output = deal_escalation.run.output
    assert isinstance(output, dict)
    assert form.result_fields == ["health", "risks", "next_steps", "forecast_category", "summary"]
    assert [c[0] for c in form.fields["health"].choices] == ["green", "amber", "red"]
    assert json.loads(form["risks"].value()) == output["risks"]
    assert form["next_steps"].value().splitlines() == output["next_steps"]
    assert form.fields["summary"].max_length == 600


def test_a_passing_edit_is_saved_and_written(
    as_manager: Client, deal_escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            as_manager,
            deal_escalation,
            summary="Manager: budget frozen until the new CFO starts.",
            next_steps="Meet the new CFO before the renewal.\nReset the close date.",
        )
    assert response.status_code == 302, response.context["form"].errors
    deal_escalation.refresh_from_db()
    assert deal_escalation.status == Escalation.Status.APPROVED
    edited = deal_escalation.edited_output
    assert isinstance(edited, dict)
    assert edited["next_steps"] == [
        "Meet the new CFO before the renewal.",
        "Reset the close date.",
    ]
    run = Run.objects.get(pk=deal_escalation.run_id)
    assert run.state == Run.State.WRITTEN
    note = run.writes.get(kind="note").payload["body"]
    assert "Manager: budget frozen until the new CFO starts." in note


def test_a_failing_edit_shows_the_failed_checks_and_saves_nothing(
    as_manager: Client, deal_escalation: Escalation
):
    response = submit(as_manager, deal_escalation, health="green")
    assert response.status_code == 200
    body = response.content.decode()
    assert "nothing was saved" in body and "green-has-no-high-risk" in body
    checks = {o.id: o.status for o in response.context["report"].outcomes}
    assert checks["green-has-no-high-risk"] == "failed"
    deal_escalation.refresh_from_db()
    assert deal_escalation.status == Escalation.Status.OPEN
    assert deal_escalation.edited_output is None
    assert not Run.objects.get(pk=deal_escalation.run_id).writes.exists()


def test_a_failed_check_can_be_overridden_by_name_with_a_reason(
    as_manager: Client, deal_escalation: Escalation, sync_queue, django_capture_on_commit_callbacks
):
    without_reason = submit(
        as_manager, deal_escalation, forecast_category="commit", override="red-is-not-commit"
    )
    assert "override_reason" in without_reason.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            as_manager,
            deal_escalation,
            forecast_category="commit",
            override="red-is-not-commit",
            override_reason="signed PO in hand",
        )
    assert response.status_code == 302
    deal_escalation.refresh_from_db()
    assert deal_escalation.status == Escalation.Status.APPROVED
    assert deal_escalation.overrides == {"red-is-not-commit": "signed PO in hand"}


def test_check_only_verifies_and_previews_without_deciding(
    as_manager: Client, deal_escalation: Escalation
):
    response = submit(as_manager, deal_escalation, "_check", summary="A shorter summary.")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="edit-checks"' in body and 'data-write="note"' in body
    assert "A shorter summary." in body
    deal_escalation.refresh_from_db()
    assert (
        deal_escalation.status == Escalation.Status.OPEN and deal_escalation.edited_output is None
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("risks", "[{not json", "Not valid JSON"),
        ("risks", '[{"type": "single_threaded", "severity": "huge"}]', "is not one of"),
        ("health", "purple", "Select a valid choice"),
        ("next_steps", "\n".join(f"step {i}" for i in range(6)), "at most 5"),
        ("summary", "x" * 601, "at most 600 characters"),
    ],
)
def test_bad_input_gives_inline_errors(
    as_manager: Client, deal_escalation: Escalation, field: str, value: str, message: str
):
    response = submit(as_manager, deal_escalation, **{field: value})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message.lower() in errors.lower()
    deal_escalation.refresh_from_db()
    assert deal_escalation.status == Escalation.Status.OPEN


def test_a_score_outside_its_bounds_is_refused(as_manager: Client, lead_escalation: Escalation):
    response = submit(as_manager, lead_escalation, score="150")
    assert "score" in response.context["form"].errors


def test_only_reviewers_of_open_escalations_may_edit(
    client: Client, viewer, deal_escalation: Escalation, manager
):
    client.force_login(viewer)
    assert client.get(edit_url(deal_escalation)).status_code == 403
    client.force_login(manager)
    escalation_reject(escalation=deal_escalation, user=manager, reason="stale")
    response = client.get(edit_url(deal_escalation))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:salesops_escalation_change", args=[deal_escalation.pk]
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.dictionaries(
        st.sampled_from(["health", "risks", "next_steps", "forecast_category", "summary"]),
        st.text(max_size=40) | st.sampled_from(["[]", "null", "{}", "[1]", '[{"evidence": 1}]']),
    ),
    button=st.sampled_from(["_approve", "_check"]),
)
def test_any_input_answers_without_a_500(
    as_manager: Client, deal_escalation: Escalation, data: dict[str, str], button: str
):
    response = as_manager.post(edit_url(deal_escalation), {**data, button: "1"})
    assert response.status_code in (200, 302)
