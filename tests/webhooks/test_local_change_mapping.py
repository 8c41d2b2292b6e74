"""A local account's changes reach the router in neutral values, through its connection."""

from __future__ import annotations

import pytest

from connectors.local import models as crm
from connectors.local.sample import sample_data_load
from salesops.models import Connection, WebhookEvent
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

SAMPLE = ROOT / "sop_library" / "sample_data" / "crm.json"


def _stage_set(deal_id: str, stage: str, capture) -> None:
    with capture(execute=True):
        deal = crm.Deal.objects.get(pk=deal_id)
        deal.stage = stage
        deal.save()


def test_a_local_accounts_own_stage_value_is_stored_as_the_neutral_one(
    django_capture_on_commit_callbacks,
):
    sample_data_load(SAMPLE, account="acme")
    acme = Connection.objects.create(
        kind="local",
        slug="acme",
        account_id="acme",
        mapping={"deal.stage": {"Won": "closedwon"}},
    )
    _stage_set("acme-d-001", "Won", django_capture_on_commit_callbacks)
    changes = WebhookEvent.objects.filter(
        connection=acme, record_id="acme-d-001", name="deal.property_changed"
    )
    stage = {e.payload["property"]: e.payload["value"] for e in changes}["stage"]
    assert stage == "closedwon"


def test_a_local_account_without_a_connection_stores_nothing(django_capture_on_commit_callbacks):
    sample_data_load(SAMPLE, account="orphan")
    _stage_set("orphan-d-001", "closedlost", django_capture_on_commit_callbacks)
    assert not WebhookEvent.objects.filter(record_id="orphan-d-001").exists()
