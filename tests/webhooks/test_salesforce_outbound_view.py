"""Salesforce Outbound Messages to `/webhooks/salesforce/<slug>/<secret>/`: stored once per
notification and acknowledged, every bad message refused whole with a SOAP fault and a 4xx,
and the snapshots routed against the record mirror into the runs their triggers start.

The connection's connector is the real `SalesforceConnector`, signed in (JWT bearer) to the
Salesforce emulator, which knows our integration user (own write-back)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest

from connectors.salesforce.outbound import ACK, MAX_BYTES
from salesops.models import Connection, CrmRecordMirror, WebhookEvent
from salesops.services.connections import connection_credentials_set, connections_reset
from salesops.services.events import webhook_events_route
from tests.connectors.test_salesforce_outbound import BILLION_LAUGHS, message, notification
from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator

pytestmark = pytest.mark.django_db

BASE = "https://salesops.example.com"
SECRET = "Zq8-outbound-secret-4f1c2e9a7b"
ENDPOINT = f"/webhooks/salesforce/sf-eu/{SECRET}/"


@pytest.fixture(scope="module")
def salesforce() -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def eu(settings: Any, salesforce: SalesforceEmulator) -> Iterator[Connection]:
    settings.SALESOPS_BASE_URL = BASE
    connections_reset()
    connection = Connection.objects.create(kind="salesforce", slug="sf-eu", account_id=ORG_ID)
    connection_credentials_set(
        connection,
        {
            "login_url": salesforce.base_url,
            "consumer_key": salesforce.consumer_key,
            "username": salesforce.username,
            "private_key": salesforce.private_key_pem,
            "ca_cert": salesforce.ca_path,
            "outbound_secret": SECRET,
        },
    )
    yield connection
    connections_reset()


def post(client: Any, body: bytes, path: str = ENDPOINT, **meta: Any) -> Any:
    return client.post(path, data=body, content_type="text/xml; charset=utf-8", **meta)


def fault(response: Any) -> str:
    """The faultstring of a SOAP fault answer (and that it is one)."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = SafeET.fromstring(response.content)
    assert root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None
    return root.findtext(".//faultstring") or ""


def test_a_message_is_acked_and_stored_once_per_notification(client, eu):
    body = message(notification(1, FirstName="Ada"), notification(2, LastName="Lovelace"))
    response = post(client, body)
    assert response.status_code == 200, response.content
    assert response.content == ACK and response["Content-Type"] == "text/xml; charset=utf-8"
    rows = {e.event_id: e for e in WebhookEvent.objects.filter(connection=eu)}
    assert set(rows) == {"04l5g0000000001AAA", "04l5g0000000002AAA"}
    first = rows["04l5g0000000001AAA"]
    assert (first.name, first.object_type, first.record_id) == (
        "contact.snapshot",
        "contact",
        "0035g0000000001AAA",
    )
    assert first.payload["snapshot"] == {"first_name": "Ada"}


def test_a_redelivery_is_acked_and_stores_nothing_new(client, eu):
    body = message(notification(1, FirstName="Ada"))
    assert post(client, body).status_code == 200
    again = post(client, body)
    assert (again.status_code, again.content) == (200, ACK)
    assert WebhookEvent.objects.filter(connection=eu).count() == 1


def test_a_15_character_org_id_is_the_connections_18_character_one(client, eu):
    assert post(client, message(notification(1), org=ORG_ID[:15])).status_code == 200
    assert WebhookEvent.objects.get(connection=eu).record_id == "0035g0000000001AAA"


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/salesforce/sf-eu/wrong-secret-0000000000000/",
        f"/webhooks/salesforce/sf-eu/{SECRET[:-1]}/",
        "/webhooks/salesforce/sf-eu/",  # the generic URL: no secret at all
        "/webhooks/salesforce/",
    ],
)
def test_a_wrong_or_missing_secret_is_a_403_fault_and_stores_nothing(client, eu, path, caplog):
    caplog.set_level(logging.INFO)
    response = post(client, message(notification(1)), path=path)
    assert response.status_code == 403
    assert "secret" in fault(response)
    assert not WebhookEvent.objects.exists()
    assert SECRET[:-1] not in caplog.text  # the path is never logged


def test_another_org_is_a_403_fault_and_stores_nothing(client, eu):
    response = post(client, message(notification(1), org="00D5g000004SLsg"))
    assert response.status_code == 403
    assert "00D5g000004SLsg" in fault(response)
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<soapenv:Envelope", "malformed XML"),
        (message(notification(1, FirstName="&lol4;"), prolog=BILLION_LAUGHS), "refused XML"),
        (
            message(
                notification(1, FirstName="&x;"),
                prolog='<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            ),
            "refused XML",
        ),
        (b'{"events": []}', "malformed XML"),
        (message("<Notification><Id>04l5g0000000001AAA</Id></Notification>"), "no sObject"),
    ],
    ids=["truncated", "billion-laughs", "xxe", "json", "no-sobject"],
)
def test_a_malformed_or_hostile_message_is_a_400_fault_and_stores_nothing(client, eu, body, reason):
    response = post(client, body)
    assert response.status_code == 400, response.content
    assert reason in fault(response)
    assert not WebhookEvent.objects.exists()


def test_101_notifications_are_a_413_fault(client, eu):
    body = message(*(notification(n) for n in range(101)))
    response = post(client, body)
    assert response.status_code == 413 and "101 notifications" in fault(response)
    assert not WebhookEvent.objects.exists()


def test_a_huge_body_is_a_413_fault_before_it_is_read(client, eu):
    response = post(client, b"<" * (MAX_BYTES + 1))
    assert response.status_code == 413 and "limit" in fault(response)
    declared = post(client, b"<x/>", CONTENT_LENGTH=str(50 * MAX_BYTES))
    assert declared.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_body_just_under_the_cap_is_read_and_acked(client, eu):
    # Past 1 MB (the JSON webhooks' cap) and under Django's own 2.5 MB read limit.
    body = message(notification(1, FirstName="Ada", Description="x" * (MAX_BYTES - 2_000)))
    assert 1_000_000 < len(body) <= MAX_BYTES
    assert (post(client, body).status_code, WebhookEvent.objects.count()) == (200, 1)


def test_an_unknown_or_disabled_connection_is_a_404_fault(client, eu):
    unknown = post(client, message(notification(1)), path=f"/webhooks/salesforce/nope/{SECRET}/")
    assert unknown.status_code == 404 and "'nope'" in fault(unknown)
    Connection.objects.filter(pk=eu.pk).update(enabled=False)
    response = post(client, message(notification(1)))
    assert response.status_code == 404 and "sf-eu" in fault(response)


def test_only_post_is_accepted(client, eu):
    response = client.get(ENDPOINT)
    assert response.status_code == 405 and "POST" in fault(response)


def routed(eu: Connection) -> dict[str, WebhookEvent]:
    """Route every stored event not routed yet (as the queued task does); rows by event id."""
    pending = WebhookEvent.objects.filter(connection=eu, processed_at__isnull=True).order_by("pk")
    webhook_events_route(webhook_event_ids=list(pending.values_list("pk", flat=True)))
    return {e.event_id: e for e in WebhookEvent.objects.filter(connection=eu)}


def test_snapshots_become_created_and_changed_events_that_start_runs(client, eu, library):
    person = notification(1, FirstName="Ada", LastName="Byron", Email="ada@example.com")
    deal = notification(
        5,
        "Opportunity",
        Name="Acme",
        StageName="Qualification",
        CloseDate="2026-12-31",
        SystemModstamp="2026-11-01T09:00:00.000Z",
    )
    assert post(client, message(person, deal)).status_code == 200
    rows = routed(eu)
    created = rows["04l5g0000000001AAA:created"]
    assert created.name == "contact.created" and created.runs_created == 1  # lead-qualification
    assert rows["04l5g0000000005AAA:created"].runs_created == 0  # no SOP on deal.created
    mirror = CrmRecordMirror.objects.get(connection=eu, record_id="0065g0000000005AAA")
    assert mirror.properties["stage"] == "qualifiedtobuy"

    moved = notification(
        6,
        "Opportunity",
        StageName="Negotiation/Review",
        CloseDate="2026-12-31",
        SystemModstamp="2026-11-02T09:00:00.000Z",
    ).replace("0065g0000000006AAA", "0065g0000000005AAA")
    assert post(client, message(moved)).status_code == 200
    rows = routed(eu)
    changed = rows["04l5g0000000006AAA:stage"]
    assert (changed.name, changed.payload["value"]) == ("deal.property_changed", "contractsent")
    assert changed.runs_created == 1  # deal-review: the stage moved
    assert "04l5g0000000006AAA:close_date" not in rows  # sent, but unchanged
    mirror.refresh_from_db()
    assert mirror.properties["stage"] == "contractsent"


def test_our_own_write_back_updates_the_mirror_and_starts_nothing(client, eu, salesforce, library):
    ours = salesforce.org().user_id
    body = message(notification(3, LastModifiedById=ours, FirstName="Grace"))
    assert post(client, body).status_code == 200
    snap = WebhookEvent.objects.get(connection=eu, event_id="04l5g0000000003AAA")
    assert snap.payload["origin"] == "salesops"
    rows = routed(eu)
    assert rows["04l5g0000000003AAA:created"].runs_created == 0
    assert CrmRecordMirror.objects.get(connection=eu).properties == {"first_name": "Grace"}


def test_a_message_the_emulator_builds_from_its_records_is_stored(client, eu, salesforce):
    org = salesforce.org()
    lead = org.insert("Lead", {"LastName": "Hopper", "Company": "Navy", "Status": "Working"})
    deal = org.insert(
        "Opportunity",
        {"Name": "Navy", "StageName": "Prospecting", "Amount": 900, "CloseDate": "2027-01-31"},
    )
    for sobject, record_id in (("Lead", lead), ("Opportunity", deal)):
        row = org.get(sobject, record_id)
        assert row is not None
        body = salesforce.outbound_message(sobject, [row])
        response = post(client, body)
        assert (response.status_code, response.content) == (200, ACK)
    rows = {e.record_id: e for e in WebhookEvent.objects.filter(connection=eu)}
    person, opportunity = rows[lead].payload["snapshot"], rows[deal].payload["snapshot"]
    assert (person["last_name"], person["lead_status"]) == ("Hopper", "IN_PROGRESS")
    assert (opportunity["stage"], opportunity["amount"]) == ("appointmentscheduled", 900.0)
    # The event carries the record's own change time, and who changed it.
    stored = org.get("Opportunity", deal)
    assert stored is not None and rows[deal].occurred_at == stored["SystemModstamp"]
    ours = stored["LastModifiedById"] == org.user_id  # inserted as the integration user
    assert rows[deal].payload["origin"] == ("salesops" if ours else "")
