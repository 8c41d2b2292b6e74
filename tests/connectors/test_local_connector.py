"""What the local connector does beyond the shared contract."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.base import (
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordNotFound,
    RecordRef,
    TaskAction,
    WebhookRequest,
)
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.local.webhook import webhook_sign

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def connector() -> LocalConnector:
    return LocalConnector(webhook_secret="s3cret", clock=lambda: NOW)


@pytest.fixture
def deal() -> m.Deal:
    m.Owner.objects.create(id="u-1", name="Riley")
    ada = m.Contact.objects.create(id="c-1", first_name="Ada", owner_id="u-1")
    deal = m.Deal.objects.create(id="d-1", name="Expansion", owner_id="u-1")
    deal.contacts.add(ada)
    return deal


def test_it_includes_a_contacts_deal_activities_in_its_timeline(connector, deal):
    m.Activity.objects.create(
        id="a-1", kind="call", timestamp=NOW - timedelta(days=2), contact_id="c-1"
    )
    m.Activity.objects.create(
        id="a-2", kind="meeting", timestamp=NOW - timedelta(days=1), deal=deal
    )

    assert [a.id for a in connector.activities(RecordRef("contact", "c-1"))] == ["a-2", "a-1"]
    assert [a.id for a in connector.activities(RecordRef("deal", "d-1"))] == ["a-2"]


def test_it_raises_record_not_found_for_activities_of_a_missing_record(connector):
    with pytest.raises(RecordNotFound):
        connector.activities(RecordRef("deal", "d-404"))


def test_it_assigns_a_task_to_the_records_owner_by_default(connector, deal):
    connector.apply([TaskAction(RecordRef("deal", "d-1"), "Call", "", date(2025, 3, 5), "k")])

    task = m.Task.objects.get()
    assert (task.owner_id, task.deal_id, task.priority) == ("u-1", "d-1", "MEDIUM")
    assert task.activity.timestamp == NOW and task.activity.ai_generated


def test_it_keeps_the_good_actions_when_one_fails(connector, deal):
    actions = [
        NoteAction(RecordRef("deal", "d-1"), "ok", "k-1"),
        NoteAction(RecordRef("deal", "d-404"), "gone", "k-2"),
    ]
    results = connector.apply(actions)

    assert [(r.status, r.retriable) for r in results] == [("created", False), ("failed", False)]
    assert "d-404 does not exist" in results[1].error
    assert m.Note.objects.get().body == "ok"  # the failed action's savepoint only
    assert m.Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"created_at": "2025-01-01T00:00:00+00:00"}, "read-only"),
        ({"amount": "lots"}, "expected double"),
        ({"owner": "u-404"}, "unknown owner"),
        ({"close_date": "next week"}, "not ISO-8601"),
        ({"close_date_changes": None}, "cannot be empty"),
    ],
)
def test_it_fails_bad_property_values_for_good(connector, deal, props, message):
    (result,) = connector.apply([PropertyUpdate(RecordRef("deal", "d-1"), props, "k")])
    assert (result.status, result.retriable) == ("failed", False)
    assert message in result.error


def test_it_fails_a_task_with_a_bad_due_date_without_raising(connector, deal):
    action = TaskAction(RecordRef("deal", "d-1"), "Call", "", "soon", "k")  # type: ignore[arg-type]
    (result,) = connector.apply([action])
    assert (result.status, result.retriable) == ("failed", False)
    assert not m.Task.objects.exists()


def test_it_converts_property_values_to_column_types(connector, deal):
    connector.apply(
        [
            PropertyUpdate(
                RecordRef("deal", "d-1"),
                {"close_date": "2025-04-01", "amount": 5, "next_step": None},
                "k",
            )
        ]
    )
    (record,) = connector.get_many("deal", ["d-1"])
    assert record.properties["close_date"] == date(2025, 4, 1)
    assert record.properties["amount"] == 5.0 and isinstance(record.properties["amount"], float)
    assert record.properties["next_step"] is None


def test_it_reads_many_records_in_a_fixed_number_of_queries(
    connector, deal, django_assert_num_queries
):
    for i in range(5):
        m.Contact.objects.create(id=f"c-x{i}", first_name="X").deals.add(deal)
    ids = [f"c-x{i}" for i in range(5)]
    with django_assert_num_queries(2):  # the contacts, then their deals in one go
        records = connector.get_many("contact", ids)
    assert [r.associations["deals"] for r in records] == [["d-1"]] * 5


def test_it_rejects_an_unknown_object_type(connector):
    with pytest.raises(PermanentCRMError, match="unknown object type"):
        connector.get_many("lead", ["x"])


def webhook(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", "http://testserver/webhooks/local/", headers, body)


def test_it_reads_the_signature_header_in_any_case(connector):
    body = b'{"events": []}'
    now = int(NOW.timestamp())  # the connector's clock
    assert connector.verify_webhook(
        webhook(body, {"x-salesops-signature": webhook_sign(body, "s3cret", timestamp=now)})
    )
    assert not connector.verify_webhook(webhook(body, {}))
    assert not connector.verify_webhook(
        webhook(body, {"X-Salesops-Signature": webhook_sign(body, "x", timestamp=now)})
    )


def test_it_refuses_every_webhook_without_a_secret():
    body = b'{"events": []}'
    request = webhook(body, {"X-Salesops-Signature": webhook_sign(body, "")})
    assert LocalConnector().verify_webhook(request) is False


def test_it_keeps_the_senders_event_id(connector):
    body = (
        b'{"events": [{"event_id": "e-77", "name": "deal.activity_logged", "object_type": "deal",'
        b' "id": "d-1", "value": "call", "occurred_at": "2025-03-04T12:00:00Z"}]}'
    )
    (event,) = connector.parse_webhook(webhook(body, {}))
    assert (event.event_id, event.value, event.occurred_at) == ("e-77", "call", NOW)


@pytest.mark.parametrize(
    ("change", "drop", "message"),
    [
        ({}, ("event_id", "id"), r"events\[0\]: missing event_id, id"),
        ({"name": "lead.created", "object_type": "lead"}, (), "unknown event 'lead.created'"),
        ({"object_type": "deal"}, (), "does not match name"),
        ({"name": "deal.property_changed", "object_type": "deal"}, (), "property: required"),
        ({"occurred_at": "yesterday"}, (), "not an ISO-8601 timestamp"),
        ({"occurred_at": "2025-03-04T12:00:00"}, (), "needs a UTC offset"),
        ({"extra": 1}, (), "unknown keys extra"),
        ({"id": 7}, (), r"events\[0\]\.id: must be a string"),
        ({"value": [1]}, (), r"events\[0\]\.value: must be a string, number"),
    ],
)
def test_it_explains_a_malformed_event(connector, change, drop, message):
    item = {"event_id": "e", "name": "contact.created", "object_type": "contact", "id": "c-1"}
    item |= {"occurred_at": "2025-03-04T12:00:00Z", **change}
    body = json.dumps({"events": [{k: v for k, v in item.items() if k not in drop}]})

    with pytest.raises(ValueError, match=message):
        connector.parse_webhook(webhook(body.encode(), {}))
