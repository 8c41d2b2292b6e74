"""Local accounts ("portals"), value mapping, snapshot webhooks and check()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.base import PropertyUpdate, RecordRef, WebhookRequest
from connectors.inputs import InputRejected
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.local.sample import sample_data_load

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sop_library" / "sample_data" / "crm.json"
WON = {"deal.stage": {"Won": "closedwon"}}


def request(body: dict) -> WebhookRequest:
    return WebhookRequest(
        "POST", "http://testserver/webhooks/local/", {}, json.dumps(body).encode()
    )


def test_two_accounts_hold_the_sample_side_by_side():
    default = sample_data_load(SAMPLE)
    acme = sample_data_load(SAMPLE, account="acme")

    assert acme == default
    assert m.Contact.objects.filter(pk="c-001", account="local").exists()  # ids unchanged
    deal = m.Deal.objects.get(pk="acme-d-001")
    assert deal.account == "acme" and deal.company_id.startswith("acme-")
    assert all(c.startswith("acme-") for c in deal.contacts.values_list("pk", flat=True))
    assert set(m.Activity.objects.filter(account="acme").values_list("deal_id", flat=True)) - {
        None
    } <= set(m.Deal.objects.filter(account="acme").values_list("pk", flat=True))
    ours = LocalConnector(account="acme")
    assert ours.get_many("contact", ["c-001"]) == []
    assert [r.id for r in ours.get_many("contact", ["acme-c-001"])] == ["acme-c-001"]
    assert sample_data_load(SAMPLE, account="acme")["contacts"] == 0  # idempotent per account


def test_an_activity_takes_its_records_account():
    contact = m.Contact.objects.create(id="x-1", account="acme", first_name="A")
    activity = m.Activity.objects.create(kind="call", contact=contact)
    assert activity.account == "acme"


def test_reads_and_writes_map_values_through_the_mapping():
    m.Deal.objects.create(id="d-1", name="Big", stage="Won")
    mapped = LocalConnector(mapping=WON)

    (deal,) = mapped.get_many("deal", ["d-1"])
    assert deal.properties["stage"] == "closedwon"
    assert LocalConnector().get_many("deal", ["d-1"])[0].properties["stage"] == "Won"

    m.Deal.objects.filter(pk="d-1").update(stage="contractsent")
    (result,) = mapped.apply(
        [PropertyUpdate(RecordRef("deal", "d-1"), {"stage": "closedwon"}, "k")]
    )
    assert result.status == "updated"
    assert m.Deal.objects.get(pk="d-1").stage == "Won"


def test_check_names_stored_values_the_mapping_does_not_cover():
    m.Deal.objects.create(id="d-1", name="A", stage="Won")
    m.Deal.objects.create(id="d-2", name="B", stage="Weird stage")

    lines = {(line.topic, line.status): line for line in LocalConnector(mapping=WON).check().lines}

    warning = lines[("values", "warning")]
    assert "'Weird stage'" in warning.message and "'Won'" not in warning.message
    assert not LocalConnector(mapping=WON).check().blocking


def test_check_reports_the_account_a_missing_secret_and_that_provision_does_nothing():
    report = LocalConnector(account="acme").check(provision=True)
    assert report.account_id == "acme"
    topics = {line.topic: line for line in report.lines}
    assert topics["webhook"].status == "warning"
    assert "nothing to provision" in topics["provision"].message
    assert "webhook" not in {ln.topic for ln in LocalConnector(webhook_secret="s").check().lines}


def snapshot(**overrides) -> dict:
    return {
        "event_id": "e-1",
        "name": "deal.snapshot",
        "object_type": "deal",
        "id": "d-1",
        "occurred_at": "2025-03-04T12:00:00Z",
        "properties": {"stage": "Won", "amount": 10.5, "name": "Big"},
        **overrides,
    }


def test_a_snapshot_event_carries_the_records_neutral_fields_and_account():
    connector = LocalConnector(account="acme", mapping=WON)
    (event,) = connector.parse_webhook(request({"account": "acme", "events": [snapshot()]}))
    assert event.snapshot == {"stage": "closedwon", "amount": 10.5, "name": "Big"}
    assert (event.name, event.property, event.account_id) == ("deal.snapshot", None, "acme")


def test_a_property_change_value_is_mapped_too():
    item = snapshot(name="deal.property_changed", property="stage", value="Won")
    del item["properties"]
    (event,) = LocalConnector(mapping=WON).parse_webhook(request({"events": [item]}))
    assert (event.value, event.account_id) == ("closedwon", "")


def test_it_refuses_a_delivery_for_another_account():
    with pytest.raises(ValueError, match="for account 'acme', this connection is 'local'"):
        LocalConnector().parse_webhook(request({"account": "acme", "events": [snapshot()]}))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"events": [snapshot(properties={"colour": "red"})]}, "not deal properties: 'colour'"),
        ({"events": [snapshot(properties={"name": ["a"]})]}, "nested 5 deep; the limit is 4"),
        (
            {"events": [snapshot(name="deal.property_changed", property="x", value=[1])]},
            "unknown keys properties",
        ),
        ({"events": [snapshot(properties=None)]}, "properties: required"),
        ({"events": [snapshot(value={"x": 1})]}, "unknown keys value"),
        ({"events": [], "extra": 1}, "unknown top-level keys extra"),
        ({"events": [], "account": 7}, "account: must be a string"),
    ],
)
def test_it_explains_a_bad_snapshot_or_envelope(body, message):
    with pytest.raises(ValueError, match=message):
        LocalConnector().parse_webhook(request(body))


def test_a_body_nested_deeper_than_a_snapshot_is_refused_before_parsing():
    deep = {"events": [snapshot(properties={"name": {"a": {"b": 1}}})]}
    with pytest.raises(InputRejected):
        LocalConnector().parse_webhook(request(deep))
