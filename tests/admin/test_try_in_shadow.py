"""A draft version can be tried on a record next to the published one, writing nothing."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from connectors.local import models as crm
from salesops.models import Run, Sop
from salesops.services.sops import sop_version_create

pytestmark = pytest.mark.django_db


def draft(sop: Sop):
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    version, _ = sop_version_create(sop_name=sop.name, text=text, publish=False)
    return version


def test_it_shows_the_draft_and_the_published_results_side_by_side(
    as_manager: Client, library, sample_crm
):
    sop = Sop.objects.get(name="lead-qualification")
    version = draft(sop)
    notes = crm.Note.objects.count()
    response = as_manager.post(
        reverse("admin:salesops_sopversion_try", args=[version.pk]), {"record_id": "c-001"}
    )
    assert response.status_code == 200
    columns = response.context["columns"]
    assert [c["label"] for c in columns] == ["draft", "published"]
    assert [c["run"].sop_version.number for c in columns] == [2, 1]
    body = html.unescape(response.content.decode())
    for column in columns:
        run = column["run"]
        assert run.shadow and run.state in (Run.State.VERIFIED, Run.State.ESCALATED)
        assert f'id="try-{column["label"]}"' in body
        assert column["checks"], "each side lists its checks"
        for step in column["checks"]:
            assert step.name in body
    assert '"score":' in body  # the pretty output JSON
    assert crm.Note.objects.count() == notes


def test_it_shows_an_unknown_record_as_a_form_error(as_manager: Client, library, sample_crm):
    sop = Sop.objects.get(name="lead-qualification")
    response = as_manager.post(
        reverse("admin:salesops_sopversion_try", args=[sop.published_version_id]),
        {"record_id": "c-nope"},
    )
    assert response.status_code == 200
    assert "c-nope" in response.context["form"].errors["record_id"][0]
    assert not Run.objects.filter(record_id="c-nope").exists()


def test_it_asks_for_a_record_id(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    response = as_manager.post(
        reverse("admin:salesops_sopversion_try", args=[sop.published_version_id]), {}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["record_id"]


def test_it_answers_404_for_an_unknown_version(as_manager: Client, db):
    response = as_manager.get(reverse("admin:salesops_sopversion_try", args=[999]))
    assert response.status_code == 404
