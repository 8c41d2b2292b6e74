"""The note a run writes to the CRM links back to that run's admin page, absolutely."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve

from connectors.local import models as crm
from salesops.models import WriteBack
from tests.helpers import run_now

pytestmark = pytest.mark.django_db

LINK = re.compile(r"^Run: (\S+)$", re.MULTILINE)


def _note_link(run_pk: int) -> str:
    note = WriteBack.objects.get(run_id=run_pk, kind="note", status=WriteBack.Status.DONE)
    # What the CRM user reads: the note as the local CRM stored it.
    stored = crm.Note.objects.get(idempotency_key=note.idempotency_key)
    found = LINK.findall(stored.body)
    assert len(found) == 1, stored.body
    return found[0]


def test_the_note_links_the_run_on_the_configured_base_url(
    library, sample_crm, settings, client, manager
) -> None:
    settings.SALESOPS_BASE_URL = "https://salesops.example.com"
    run = run_now("lead-qualification", "c-001")
    assert run.state == "written", run.reason
    link = _note_link(run.pk)
    assert link == f"https://salesops.example.com/admin/salesops/run/{run.pk}/change/"
    # The path is the run's admin page, and a manager who follows it sees that run.
    path = link.removeprefix(settings.SALESOPS_BASE_URL)
    assert resolve(path).url_name == "salesops_run_change"
    client.force_login(manager)
    page = client.get(path)
    assert page.status_code == 200 and b"c-001" in page.content


def test_by_default_the_link_points_at_make_runs_server(library, sample_crm, settings) -> None:
    assert settings.SALESOPS_BASE_URL == "http://127.0.0.1:8000"  # SALESOPS_BASE_URL unset
    run = run_now("lead-qualification", "c-001", key="default")
    assert _note_link(run.pk) == f"http://127.0.0.1:8000/admin/salesops/run/{run.pk}/change/"
