"""Run, escalation and try-in-shadow pages show the result as the SOP's fields, records by
name, and what approval would write."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesops.models import Escalation, Run, SopVersion
from tests import helpers

pytestmark = pytest.mark.django_db


def page(client: Client, name: str, pk: int) -> str:
    response = client.get(reverse(f"admin:salesops_{name}_change", args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", ["escalation", "run"])
def test_the_result_reads_as_fields_with_the_raw_json_collapsed(
    as_manager: Client, deal_escalation: Escalation, name: str
):
    pk = deal_escalation.pk if name == "escalation" else deal_escalation.run_id
    body = page(as_manager, name, pk)
    assert '<div class="so-tile-value so-tone-bad">red</div>' in body  # health, prominent
    assert 'data-field="risks"' in body and "<code>close_date_changes</code>" in body
    assert '<details class="so-raw"><summary>Raw JSON</summary>' in body
    assert "Veridian Health - Enterprise rollout" in body  # the record by name


@pytest.mark.parametrize("name", ["escalation", "run"])
def test_an_open_escalation_shows_what_approval_would_write(
    as_manager: Client, deal_escalation: Escalation, name: str
):
    pk = deal_escalation.pk if name == "escalation" else deal_escalation.run_id
    body = page(as_manager, name, pk)
    assert "What approval would write" in body
    for kind in ("set_property", "note", "task"):
        assert f'data-write="{kind}"' in body
    assert "Health: RED" in body and "[AI] Deal at risk" in body


def test_a_written_run_shows_no_approval_preview(as_manager: Client, library, sample_crm):
    run = helpers.run_now("deal-review", "d-001", key="review-d-001")
    assert run.state == Run.State.WRITTEN
    body = page(as_manager, "run", run.pk)
    assert "What approval would write" not in body and "would have written" not in body
    assert '<div class="so-tile-value so-tone-good">green</div>' in body
    # The writes made read as the CRM got them: properties as values, the note as text.
    assert "<div><code>ai_health</code> = green</div>" in body
    note = run.writes.get(kind="note").payload["body"]
    assert note.splitlines()[1] in body and '"body":' not in body


def test_a_shadow_run_shows_what_it_would_have_written(as_manager: Client, library, sample_crm):
    run = helpers.run_now("deal-review", "d-001", key="shadow-d-001", shadow=True)
    body = page(as_manager, "run", run.pk)
    assert "What this run would have written" in body and 'data-write="note"' in body


def test_the_changelists_name_records(as_manager: Client, deal_escalation: Escalation):
    for name in ("escalation", "run"):
        response = as_manager.get(reverse(f"admin:salesops_{name}_changelist"))
        assert "Veridian Health - Enterprise rollout" in response.content.decode()


def test_the_try_page_renders_the_result_as_fields(as_manager: Client, library, sample_crm):
    version = SopVersion.objects.get(sop__name="deal-review", number=1)
    url = reverse("admin:salesops_sopversion_try", args=[version.pk])
    response = as_manager.post(url, {"record_id": "d-002"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "so-headline" in body and 'data-field="risks"' in body and "Raw JSON" in body
