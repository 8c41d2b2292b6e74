"""The HubSpot emulator, driven by the real hubspot-api-client over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteInput
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from tests.emulators.framework import FakeClock, RateLimited, ServerError
from tests.emulators.hubspot_api import HubSpotEmulator
from tests.emulators.hubspot_model import SECOND_PIPELINE_ID

TOKEN = "pat-na1-test"


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(second_pipeline=True) as emulator:
        yield emulator


def client(emu: HubSpotEmulator, token: str = TOKEN) -> HubSpot:
    return HubSpot(access_token=token, host=emu.base_url)


def error_body(exc: Exception) -> dict[str, Any]:
    return json.loads(exc.body)  # type: ignore[attr-defined]


def test_contact_crud_under_both_paths(emu: HubSpotEmulator) -> None:
    c = client(emu)
    created = c.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "new@x.io", "firstname": "Ada"})
    )
    assert created.id.isdigit() and created.properties["email"] == "new@x.io"
    before = created.properties["hs_lastmodifieddate"]
    emu.clock.advance(5)  # type: ignore[attr-defined]
    updated = c.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"hs_lead_status": "CONNECTED"})
    )
    assert updated.properties["hs_lead_status"] == "CONNECTED"
    assert updated.properties["hs_lastmodifieddate"] > before
    # The same record through the generic objects API and the 0-1 type id.
    again = c.crm.objects.basic_api.get_by_id("0-1", created.id, properties=["hs_lead_status"])
    assert again.properties["hs_lead_status"] == "CONNECTED"
    c.crm.contacts.basic_api.archive(created.id)
    with pytest.raises(ContactsApiException) as missing:
        c.crm.contacts.basic_api.get_by_id(created.id)
    assert (
        missing.value.status == 404 and error_body(missing.value)["category"] == "OBJECT_NOT_FOUND"
    )
    archived = c.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None
    listed = c.crm.contacts.basic_api.get_page(archived=True, limit=100)
    assert [r.id for r in listed.results] == [created.id]
    assert emu.calls["POST /crm/v3/objects/contacts"] == 1
    assert emu.calls["GET /crm/v3/objects/0-1/{objectId}"] == 1


def test_invalid_values_and_duplicate_email(emu: HubSpotEmulator) -> None:
    c = client(emu)
    with pytest.raises(ContactsApiException) as bad:
        c.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"hs_lead_status": "MAYBE", "nope": "1"})
        )
    body = error_body(bad.value)
    assert bad.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["status"] == "error" and body["correlationId"]
    assert "INVALID_OPTION" in body["message"] and "PROPERTY_DOESNT_EXIST" in body["message"]
    taken = emu.portal().live("contacts")[0].properties["email"]
    with pytest.raises(ContactsApiException) as dup:
        c.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": taken})
        )
    assert dup.value.status == 409 and error_body(dup.value)["category"] == "CONFLICT"


def test_list_pages_through_every_record_with_associations(emu: HubSpotEmulator) -> None:
    c = client(emu)
    seen, after, calls = [], None, 0
    while True:
        page = c.crm.deals.basic_api.get_page(
            limit=10, after=after, associations=["contacts", "companies"]
        )
        calls += 1
        seen += page.results
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == 27 and len({d.id for d in seen}) == 27 and calls == 3
    assert all(d.associations and "companies" in d.associations for d in seen)
    # Deals of the second pipeline carry numeric stage ids.
    second = [d for d in seen if d.properties["pipeline"] == SECOND_PIPELINE_ID]
    assert second and all(d.properties["dealstage"].isdigit() for d in second)


def test_batch_read_by_id_and_unique_property_answers_207(emu: HubSpotEmulator) -> None:
    c = client(emu)
    ids = [o.id for o in emu.portal().live("contacts")[:3]]
    got = c.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in [*ids, "999999"]],
            properties=["email"],
            properties_with_history=[],
        )
    )
    assert sorted(r.id for r in got.results) == sorted(ids)
    assert got.num_errors == 1 and got.errors[0].category == "OBJECT_NOT_FOUND"
    assert got.errors[0].context["ids"] == ["999999"]
    email = emu.portal().get("contacts", ids[0]).properties["email"]
    by_email = c.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": email}], id_property="email", properties=[], properties_with_history=[]
        )
    )
    assert [r.id for r in by_email.results] == [ids[0]]


def test_upsert_on_a_custom_unique_property_is_idempotent(emu: HubSpotEmulator) -> None:
    c = client(emu)
    c.crm.properties.groups_api.create(
        "notes", PropertyGroupCreate(name="salesops", label="Salesops")
    )
    c.crm.properties.core_api.create(
        "notes",
        PropertyCreate(
            name="salesops_key",
            label="Salesops key",
            type="string",
            field_type="text",
            group_name="salesops",
            has_unique_value=True,
        ),
    )
    batch = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            {
                "idProperty": "salesops_key",
                "id": "run-1:note",
                "properties": {"hs_note_body": "AI: hi"},
            },
            {"idProperty": "salesops_key", "id": "run-1:bad", "properties": {"hs_timestamp": "x"}},
        ]
    )
    with pytest.raises(
        Exception
    ) as whole:  # one invalid value fails the whole batch, as on HubSpot
        c.crm.objects.notes.batch_api.upsert(batch)
    assert whole.value.status == 400  # type: ignore[attr-defined]
    good = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[batch.inputs[0]])
    first = c.crm.objects.notes.batch_api.upsert(good)
    second = c.crm.objects.notes.batch_api.upsert(good)
    assert first.results[0].new is True and second.results[0].new is False
    assert first.results[0].id == second.results[0].id
    notes = [
        n for n in emu.portal().live("notes") if n.properties.get("salesops_key") == "run-1:note"
    ]
    assert len(notes) == 1


def test_batch_update_reports_missing_records_per_input(emu: HubSpotEmulator) -> None:
    c = client(emu)
    deal = emu.portal().live("deals")[0]
    answer = c.crm.deals.batch_api.update(
        {
            "inputs": [
                {"id": deal.id, "properties": {"hs_next_step": "Call CFO"}},
                {"id": "123", "properties": {"hs_next_step": "x"}},
            ]
        }
    )
    assert [r.id for r in answer.results] == [deal.id] and answer.num_errors == 1
    assert emu.portal().get("deals", deal.id).properties["hs_next_step"] == "Call CFO"
    assert emu.requests_to("POST /crm/v3/objects/deals/batch/update")[-1].status == 207


def search(c: HubSpot, **body: Any) -> Any:
    return c.crm.contacts.search_api.do_search(PublicObjectSearchRequest(**body))


def test_search_filters_sorts_and_paging(emu: HubSpotEmulator) -> None:
    c = client(emu)
    new = search(
        c,
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "hs_lead_status", "operator": "IN", "values": ["NEW", "OPEN"]},
                    {"propertyName": "phone", "operator": "HAS_PROPERTY"},
                ]
            }
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
        properties=["hs_lead_status", "phone"],
        limit=200,
    )
    stored = [
        o
        for o in emu.portal().live("contacts")
        if o.properties.get("hs_lead_status") in ("NEW", "OPEN") and o.properties.get("phone")
    ]
    assert new.total == len(stored) > 0
    stamps = [r.properties["hs_lastmodifieddate"] for r in new.results]
    assert stamps == sorted(stamps, reverse=True)
    pivot = emu.portal().live("contacts")[10]
    ms = int(pivot.updated_at.timestamp() * 1000)
    later = search(
        c,
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(ms)}
                ]
            }
        ],
        sorts=[
            {"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"},
            {"propertyName": "hs_object_id", "direction": "ASCENDING"},
        ],
        limit=5,
    )
    expected = sorted(
        (o.updated_at, int(o.id))
        for o in emu.portal().live("contacts")
        if o.updated_at > pivot.updated_at
    )
    assert later.total == len(expected)
    assert [int(r.id) for r in later.results] == [i for _, i in expected[:5]]
    assert later.paging.next.after == "5"
    ranged = search(
        c,
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "hs_object_id",
                        "operator": "BETWEEN",
                        "value": "1001",
                        "highValue": "1003",
                    }
                ]
            }
        ],
    )
    assert sorted(r.id for r in ranged.results) == ["1001", "1002", "1003"]


def test_search_past_ten_thousand_is_a_400(emu: HubSpotEmulator) -> None:
    c = client(emu)
    with pytest.raises(ContactsApiException) as capped:
        search(c, after="10000", limit=10)
    assert capped.value.status == 400 and error_body(capped.value)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ContactsApiException) as too_big:
        search(c, limit=201)
    assert too_big.value.status == 400


def test_search_lags_while_batch_read_does_not() -> None:
    with HubSpotEmulator(search_lag=3) as emu:
        c = client(emu)
        made = c.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "lag@x.io"})
        )
        query = {
            "filter_groups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": "lag@x.io"}]}
            ]
        }
        assert search(c, **query).total == 0
        read = c.crm.contacts.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[{"id": made.id}], properties=["email"], properties_with_history=[]
            )
        )
        assert read.results[0].properties["email"] == "lag@x.io"
        emu.clock.advance(3)  # type: ignore[attr-defined]
        assert search(c, **query).total == 1


def test_same_timestamp_ties(emu: HubSpotEmulator) -> None:
    store = emu.portal()
    with store.same_timestamp() as moment:
        made = [store.create("contacts", {"email": f"tie{i}@x.io"}) for i in range(5)]
    assert {o.properties["hs_lastmodifieddate"] for o in made} == {
        made[0].properties["hs_lastmodifieddate"]
    }
    assert all(o.updated_at == moment for o in made)
    after = store.create("contacts", {"email": "after@x.io"})
    assert after.updated_at > moment


def test_associations_v4_read_create_and_labels(emu: HubSpotEmulator) -> None:
    c = client(emu)
    labels = c.crm.associations.v4.schema.definitions_api.get_all("notes", "contacts")
    assert [(r.category, r.type_id) for r in labels.results] == [("HUBSPOT_DEFINED", 202)]
    task_deal = c.crm.associations.v4.schema.definitions_api.get_all("tasks", "0-3")
    assert [r.type_id for r in task_deal.results] == [216]
    primary = c.crm.associations.v4.schema.definitions_api.get_all("contacts", "companies")
    assert {r.type_id: r.label for r in primary.results} == {279: None, 1: "Primary"}
    deal = emu.portal().live("deals")[0]
    contact = next(iter(emu.portal().associated("deals", deal.id, "contacts")))
    note = c.crm.objects.notes.basic_api.create(
        NoteInput(
            properties={"hs_note_body": "AI note", "hs_timestamp": "2025-01-01T00:00:00Z"},
            associations=[
                {
                    "to": {"id": deal.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
                },
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                },
            ],
        )
    )
    read = c.crm.associations.v4.batch_api.get_page(
        "deals",
        "notes",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": deal.id}, {"id": "1"}]),
    )
    tos = {t.to_object_id: [a.type_id for a in t.association_types] for t in read.results[0].to}
    assert tos[note.id] == [213]  # seen from the deal: deal -> note
    assert (
        read.num_errors == 1
        and read.errors[0].sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"
    )
    made = c.crm.associations.v4.batch_api.create(
        "tasks",
        "contacts",
        {
            "inputs": [
                {
                    "from": {"id": emu.portal().live("tasks")[0].id},
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
                }
            ]
        },
    )
    assert made.results[0].to_object_id == contact
    assert emu.portal().associated("contacts", contact, "tasks")


def test_properties_list_create_and_409(emu: HubSpotEmulator) -> None:
    c = client(emu)
    props = {p.name: p for p in c.crm.properties.core_api.get_all("contacts").results}
    assert "NEW" in [o.value for o in props["hs_lead_status"].options]
    assert "salesqualifiedlead" in [o.value for o in props["lifecyclestage"].options]
    c.crm.properties.groups_api.create(
        "contacts", PropertyGroupCreate(name="salesops", label="Salesops")
    )
    spec = PropertyCreate(
        name="ai_score", label="AI score", type="number", field_type="number", group_name="salesops"
    )
    made = c.crm.properties.core_api.create("contacts", spec)
    assert made.name == "ai_score" and made.hubspot_defined is False
    with pytest.raises(PropertiesApiException) as dup:
        c.crm.properties.core_api.create("contacts", spec)
    assert dup.value.status == 409
    with pytest.raises(PropertiesApiException) as dup_group:
        c.crm.properties.groups_api.create(
            "contacts", PropertyGroupCreate(name="salesops", label="x")
        )
    assert dup_group.value.status == 409
    contact = emu.portal().live("contacts")[0]
    c.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"ai_score": 87})
    )
    assert emu.portal().get("contacts", contact.id).properties["ai_score"] == "87"


def test_pipelines_and_owners(emu: HubSpotEmulator) -> None:
    c = client(emu)
    pipes = {p.id: p for p in c.crm.pipelines.pipelines_api.get_all("deals").results}
    stages = {s.id: s for s in pipes["default"].stages}
    assert next(iter(stages)) == "appointmentscheduled"
    assert stages["closedwon"].metadata == {"isClosed": "true", "probability": "1.0"}
    assert stages["qualifiedtobuy"].metadata["isClosed"] == "false"
    numeric = pipes[SECOND_PIPELINE_ID].stages
    assert all(s.id.isdigit() for s in numeric) and numeric[-2].label == "Closed Won"
    owners = c.crm.owners.owners_api.get_page().results
    assert len(owners) == 4 and owners[0].email == "maya.chen@lumora.io"
    one = c.crm.owners.owners_api.get_by_id(int(owners[1].id))
    assert one.last_name == "Berger" or one.id == owners[1].id
    deal = emu.portal().live("deals")[0]
    assert deal.properties["hubspot_owner_id"] in {o.id for o in owners}


def test_auth_401_scopes_and_expiry(emu: HubSpotEmulator) -> None:
    with pytest.raises(ContactsApiException) as denied:
        client(emu, "wrong").crm.contacts.basic_api.get_page()
    assert (
        denied.value.status == 401
        and error_body(denied.value)["category"] == "INVALID_AUTHENTICATION"
    )
    info = client(emu).oauth.access_tokens_api.get(TOKEN)
    assert info.hub_id == 111 and "crm.objects.deals.write" in info.scopes
    emu.tokens["narrow"] = type(emu.tokens[TOKEN])(111, ("crm.objects.contacts.read",))
    with pytest.raises(Exception) as scope:
        client(emu, "narrow").crm.deals.basic_api.get_page()
    assert scope.value.status == 403 and error_body(scope.value)["category"] == "MISSING_SCOPES"  # type: ignore[attr-defined]
    access, _ = emu.oauth_token(111, lifetime=1800)
    client(emu, access).crm.contacts.basic_api.get_page(limit=1)
    emu.clock.advance(1801)  # type: ignore[attr-defined]
    with pytest.raises(ContactsApiException) as expired:
        client(emu, access).crm.contacts.basic_api.get_page(limit=1)
    assert error_body(expired.value)["category"] == "EXPIRED_AUTHENTICATION"


def test_burst_limit_429_headers_and_recovery() -> None:
    clock = FakeClock()
    with HubSpotEmulator(tier="professional", clock=clock) as emu:
        c = client(emu)
        for _ in range(190):
            c.crm.owners.owners_api.get_page()
        with pytest.raises(Exception) as limited:
            c.crm.owners.owners_api.get_page()
        exc = limited.value
        assert exc.status == 429  # type: ignore[attr-defined]
        assert exc.headers["X-HubSpot-RateLimit-Max"] == "190"  # type: ignore[attr-defined]
        assert exc.headers["X-HubSpot-RateLimit-Remaining"] == "0"  # type: ignore[attr-defined]
        assert exc.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"  # type: ignore[attr-defined]
        assert error_body(exc)["policyName"] == "TEN_SECONDLY_ROLLING"
        clock.advance(10)
        ok = c.crm.owners.owners_api.get_page_with_http_info()
        assert (
            int(ok[2]["X-HubSpot-RateLimit-Daily-Remaining"]) == 650_000 - 191
        )  # the refused call spent nothing
        # Search has its own 5/s limit and does not spend the burst window.
        for _ in range(5):
            search(c)
        with pytest.raises(ContactsApiException) as searched:
            search(c)
        assert (
            searched.value.status == 429 and error_body(searched.value)["policyName"] == "SECONDLY"
        )
        clock.advance(1)
        search(c)


def test_scripted_faults_in_hubspot_shape(emu: HubSpotEmulator) -> None:
    endpoint = "GET /crm/v3/objects/contacts"
    emu.fail(RateLimited(retry_after=1), ServerError(503), endpoint=endpoint)
    c = client(emu)
    # urllib3 (under the SDK) retries a GET answered 429 with Retry-After by itself.
    with pytest.raises(ContactsApiException) as failed:
        c.crm.contacts.basic_api.get_page()
    assert failed.value.status == 503 and error_body(failed.value)["category"] == "INTERNAL_ERROR"
    assert [r.status for r in emu.requests_to(endpoint)] == [429, 503]
    assert c.crm.contacts.basic_api.get_page().results


class _Sink(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Sink.received.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_signed_webhook_verifies_independently(emu: HubSpotEmulator) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = client(emu)
        contact = emu.portal().live("contacts")[0]
        c.crm.contacts.basic_api.update(
            contact.id, SimplePublicObjectInput(properties={"jobtitle": "CEO"})
        )
        events = emu.drain_events()
        assert [(e["subscriptionType"], e.get("propertyName")) for e in events] == [
            ("contact.propertyChange", "jobtitle")
        ]
        assert events[0]["changeSource"] == "INTEGRATION"
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/hubspot/1/?a=b"
        delivery = emu.webhook_deliver(url, events)
        assert delivery.status == 204
        _, raw_headers, body = _Sink.received[-1]
        headers = {k.lower(): v for k, v in raw_headers.items()}
        stamp = headers["x-hubspot-request-timestamp"]
        expected = base64.b64encode(
            hmac.new(
                emu.client_secret.encode(),
                b"POST" + url.encode() + body + stamp.encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        assert headers["x-hubspot-signature-v3"] == expected
        sent = json.loads(body)
        assert sent[0]["portalId"] == 111 and sent[0]["objectId"] == int(contact.id)
        assert sent[0]["propertyValue"] == "CEO" and sent[0]["appId"] == emu.app_id
        assert {"eventId", "subscriptionId", "occurredAt", "attemptNumber"} <= set(sent[0])
    finally:
        server.shutdown()
        server.server_close()


def test_two_portals_are_separate(emu: HubSpotEmulator) -> None:
    emu.add_portal(222, token="pat-222", seed=False)
    other = client(emu, "pat-222")
    assert other.crm.contacts.basic_api.get_page().results == []
    other.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "o@x.io"})
    )
    assert emu.portal(222).live("contacts")[0].properties["email"] == "o@x.io"
    assert emu.portal(111).find_unique("contacts", "email", "o@x.io") is None


def test_a_second_portals_ids_never_collide_with_the_firsts(emu: HubSpotEmulator) -> None:
    emu.add_portal(222, token="pat-222", seed=False)
    emu.add_portal(333, token="pat-333", seed=False, id_offset=7_000_000)
    first = client(emu).crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "a@x.io"})
    )
    second = client(emu, "pat-222").crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "b@x.io"})
    )
    third = client(emu, "pat-333").crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "c@x.io"})
    )
    assert len({first.id, second.id, third.id}) == 3
    assert (
        int(third.id) >= 7_000_000
        and {o.id for o in emu.portal(111).live("contacts")}
        & {
            second.id,
            third.id,
        }
        == set()
    )


def test_the_date_header_is_the_emulators_clock() -> None:
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    clock = FakeClock(datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC))
    with HubSpotEmulator(clock=clock, seed=False) as emu:
        api = client(emu).crm.contacts.basic_api
        first = api.get_page_with_http_info(limit=1)[2]
        clock.advance(3600)
        later = api.get_page_with_http_info(limit=1)[2]
    assert parsedate_to_datetime(first["Date"]) == datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
    assert parsedate_to_datetime(later["Date"]) == datetime(2031, 5, 4, 4, 2, 1, tzinfo=UTC)


def test_engagement_schemas_have_read_scopes_and_contacts_write_covers_them(
    emu: HubSpotEmulator,
) -> None:
    from tests.emulators.hubspot_api import ALL_SCOPES

    assert {"crm.schemas.notes.read", "crm.schemas.tasks.read"} <= set(ALL_SCOPES)
    # HubSpot has no crm.schemas.notes.write: a note property needs the contacts one.
    assert not any(s in ALL_SCOPES for s in ("crm.schemas.notes.write", "crm.schemas.tasks.write"))
    emu.add_portal(
        222,
        token="pat-222",
        seed=False,
        scopes=tuple(s for s in ALL_SCOPES if s != "crm.schemas.contacts.write"),
    )
    create = PropertyCreate(
        name="x_key", label="X", type="string", field_type="text", group_name="salesops"
    )
    client(emu).crm.properties.groups_api.create(
        "notes", PropertyGroupCreate(name="salesops", label="salesops")
    )
    with pytest.raises(PropertiesApiException) as refused:
        client(emu, "pat-222").crm.properties.core_api.create("notes", create)
    assert refused.value.status == 403
    assert "crm.schemas.contacts.write" in str(refused.value.body)
    assert client(emu).crm.properties.core_api.create("notes", create).name == "x_key"
