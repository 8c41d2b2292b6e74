"""The Salesforce emulator over real HTTPS: OAuth, REST routes with `requests`, and the
simple_salesforce library itself; limits, faults, replication, outbound message bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import jwt
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.api import SFType
from simple_salesforce.exceptions import SalesforceResourceNotFound

from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator
from tests.emulators.salesforce_auth import JWT_GRANT, key_pair
from tests.emulators.salesforce_values import parse_datetime

VENDOR_SAMPLE = Path("/work/shared/vendor/salesforce/outbound-messages/request-Salesforce.xml")


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(page_size=5) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def seeded() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(seed=True) as emulator:
        yield emulator


def http(emu: SalesforceEmulator, token: str | None = None) -> requests.Session:
    session = requests.Session()
    session.verify = emu.ca_path
    # REQUESTS_CA_BUNDLE in the environment would override session.verify.
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {token or emu.access_token()}"
    return session


def rest(emu: SalesforceEmulator, path: str) -> str:
    return f"{emu.base_url}/services/data/v61.0/{path}"


def assertion(
    emu: SalesforceEmulator, *, key: str | None = None, exp: int = 180, **claims: Any
) -> str:
    payload = {
        "iss": emu.consumer_key,
        "sub": emu.username,
        "aud": emu.base_url,
        "exp": int(emu.clock.time()) + exp,
        **claims,
    }
    return jwt.encode(payload, key or emu.private_key_pem, algorithm="RS256")


def token_call(emu: SalesforceEmulator, **form: str) -> requests.Response:
    return requests.post(f"{emu.base_url}/services/oauth2/token", data=form, verify=emu.ca_path)


def simple(emu: SalesforceEmulator, token: str | None = None) -> Salesforce:
    session = requests.Session()
    session.verify = emu.ca_path
    session.trust_env = False
    return Salesforce(
        instance_url=emu.base_url,
        session_id=token or emu.access_token(),
        session=session,
        version="61.0",
    )


# -- OAuth -------------------------------------------------------------------------------------
def test_jwt_bearer_grant_issues_a_working_token(emu: SalesforceEmulator) -> None:
    resp = token_call(emu, grant_type=JWT_GRANT, assertion=assertion(emu))
    assert resp.status_code == 200
    body = resp.json()
    store = emu.org()
    assert body["instance_url"] == emu.base_url and body["token_type"] == "Bearer"
    assert body["id"] == f"{emu.base_url}/id/{ORG_ID}/{store.user_id}"
    signed = hmac.new(
        emu.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == signed
    info = http(emu, body["access_token"]).get(f"{emu.base_url}/services/oauth2/userinfo").json()
    assert info["organization_id"] == ORG_ID and info["preferred_username"] == emu.username


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"key": key_pair()[0]}, "invalid_grant"),  # signed with a key the app does not trust
        ({"exp": -5}, "invalid_grant"),
        ({"aud": "https://evil.example"}, "invalid_grant"),
        ({"iss": "someone-else"}, "invalid_client_id"),
        ({"sub": "nobody@example.com"}, "invalid_grant"),
    ],
)
def test_jwt_bearer_refusals(emu: SalesforceEmulator, kwargs: dict[str, Any], error: str) -> None:
    resp = token_call(emu, grant_type=JWT_GRANT, assertion=assertion(emu, **kwargs))
    assert resp.status_code == 400
    assert resp.json()["error"] == error


def test_refresh_token_grant(emu: SalesforceEmulator) -> None:
    refresh = emu.refresh_token()
    good = token_call(
        emu,
        grant_type="refresh_token",
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token=refresh,
    )
    assert good.status_code == 200 and "refresh_token" not in good.json()
    assert http(emu, good.json()["access_token"]).get(rest(emu, "limits")).status_code == 200
    bad_secret = token_call(
        emu,
        grant_type="refresh_token",
        client_id=emu.client_id,
        client_secret="x",
        refresh_token=refresh,
    )
    assert bad_secret.json()["error"] == "invalid_client"
    unknown = token_call(
        emu,
        grant_type="refresh_token",
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token="5Aepnope",
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_expired_sessions_answer_401(emu: SalesforceEmulator) -> None:
    session = http(emu)
    assert session.get(rest(emu, "limits")).status_code == 200
    emu.expire_sessions()
    resp = session.get(rest(emu, "limits"))
    assert resp.status_code == 401
    assert resp.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert http(emu).get(rest(emu, "limits")).status_code == 200  # a new token works


# -- simple_salesforce -------------------------------------------------------------------------
def test_simple_salesforce_against_the_seeded_org(seeded: SalesforceEmulator) -> None:
    sf = simple(seeded)
    contacts, tasks = cast(SFType, sf.Contact), cast(SFType, sf.Task)
    rows = list(sf.query_all_iter("SELECT Id, Name, Account.Name FROM Contact ORDER BY Name"))
    assert len(rows) == len(seeded.org().rows("Contact")) > 0
    assert rows[0]["attributes"]["type"] == "Contact"
    contact = contacts.get(rows[0]["Id"])
    assert contact["Id"] == rows[0]["Id"] and contact["Name"] == rows[0]["Name"]
    with pytest.raises(SalesforceResourceNotFound):
        contacts.get("0035g00000ZZZZZAAA"[:15])
    assert tasks.upsert("Salesops_Key__c/abc", {"Subject": "Follow up"}) == 201
    assert tasks.upsert("Salesops_Key__c/abc", {"Subject": "Follow up 2"}) == 200
    task = tasks.get_by_custom_id("Salesops_Key__c", "abc")
    assert task["Subject"] == "Follow up 2"
    assert task["LastModifiedById"] == task["OwnerId"] == seeded.org().user_id
    made = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [{"attributes": {"type": "Account"}, "Name": "New Co"}],
        },
    )
    assert made is not None and made[0]["success"] is True and made[0]["id"].startswith("001")
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert sf.api_usage["api-usage"].used == seeded.org().api_used


def test_seed_maps_the_sample_crm(seeded: SalesforceEmulator) -> None:
    store = seeded.org()
    ids = store.sample_ids
    assert ids[("contact", "c-001")].startswith("00Q")  # lifecycle "lead" -> Lead
    opp = ids[("deal", "d-001")]
    row = store.get("Opportunity", opp)
    assert row is not None and row["StageName"] == "Value Proposition" and row["Probability"] == 60
    owner = store.get("User", row["OwnerId"])
    assert owner is not None and owner["Email"] == "maya.chen@lumora.io"
    roles = [r for r in store.rows("OpportunityContactRole") if r["OpportunityId"] == opp]
    assert {r["ContactId"] for r in roles} == {ids[("contact", "c-022")], ids[("contact", "c-023")]}
    history = [
        r
        for r in store.rows("OpportunityFieldHistory")
        if r["OpportunityId"] == ids[("deal", "d-002")]
    ]
    assert sum(r["Field"] == "CloseDate" for r in history) == 3
    assert any(
        r["Field"] == "StageName" and r["NewValue"] == "Id. Decision Makers" for r in history
    )
    # Seeded rows only (another test writes through the API to this module-wide org).
    tasks = [t for t in store.rows("Task") if t["Salesops_Key__c"] is None]
    events = store.rows("Event")
    assert {t["TaskSubtype"] for t in tasks} == {"Call", "Email", "Task"} and len(events) == 39
    assert all(t["LastModifiedById"] == store.ui_user_id for t in tasks)
    assert all(not (t["WhoId"] or "").startswith("00Q") or t["WhatId"] is None for t in tasks)


# -- REST: records -----------------------------------------------------------------------------
def test_record_crud_validation_and_history(emu: SalesforceEmulator) -> None:
    s = http(emu)
    acct = s.post(rest(emu, "sobjects/Account"), json={"Name": "Acme"}).json()["id"]
    made = s.post(
        rest(emu, "sobjects/Opportunity"),
        json={
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2025-06-30",
            "AccountId": acct,
        },
    )
    assert made.status_code == 201
    opp = made.json()["id"]
    first = s.get(rest(emu, f"sobjects/Opportunity/{opp}")).json()
    assert first["Probability"] == 10.0 and first["LastModifiedById"] == emu.org().user_id
    emu.clock.advance(61)  # type: ignore[attr-defined]
    assert (
        s.patch(
            rest(emu, f"sobjects/Opportunity/{opp}"), json={"StageName": "Closed Won"}
        ).status_code
        == 204
    )
    after = s.get(
        rest(emu, f"sobjects/Opportunity/{opp}"),
        params={"fields": "StageName,IsWon,SystemModstamp"},
    ).json()
    assert after["IsWon"] is True and set(after) == {
        "attributes",
        "StageName",
        "IsWon",
        "SystemModstamp",
    }
    assert parse_datetime(after["SystemModstamp"]) - parse_datetime(
        first["SystemModstamp"]
    ) == timedelta(seconds=61)
    hist = s.get(
        rest(emu, "query"),
        params={
            "q": "SELECT Field, OldValue, NewValue FROM OpportunityFieldHistory "
            f"WHERE OpportunityId = '{opp}' AND Field = 'StageName'"
        },
    ).json()["records"]
    assert [(h["OldValue"], h["NewValue"]) for h in hist] == [("Prospecting", "Closed Won")]

    def error(resp: requests.Response) -> tuple[int, str]:
        return resp.status_code, resp.json()[0]["errorCode"]

    assert error(s.post(rest(emu, "sobjects/Contact"), json={"FirstName": "x"})) == (
        400,
        "REQUIRED_FIELD_MISSING",
    )
    assert error(s.post(rest(emu, "sobjects/Contact"), json={"LastName": "x", "Nope__c": 1})) == (
        400,
        "INVALID_FIELD",
    )
    assert error(
        s.patch(
            rest(emu, f"sobjects/Account/{acct}"), json={"SystemModstamp": "2025-01-01T00:00:00Z"}
        )
    ) == (
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    )
    assert error(
        s.post(rest(emu, "sobjects/Contact"), json={"LastName": "x", "AccountId": opp})
    ) == (
        400,
        "INVALID_CROSS_REFERENCE_KEY",
    )
    assert error(s.get(rest(emu, "sobjects/Contact/notanid"))) == (404, "NOT_FOUND")
    assert error(s.get(rest(emu, "sobjects/Widget/describe"))) == (404, "NOT_FOUND")
    bad_json = s.post(
        rest(emu, "sobjects/Account"), data="{nope", headers={"Content-Type": "application/json"}
    )
    assert error(bad_json) == (400, "JSON_PARSER_ERROR")
    assert s.delete(rest(emu, f"sobjects/Account/{acct}")).status_code == 204
    assert error(s.get(rest(emu, f"sobjects/Account/{acct}"))) == (404, "ENTITY_IS_DELETED")


def test_upsert_by_external_id_and_duplicates(emu: SalesforceEmulator) -> None:
    s = http(emu)
    url = rest(emu, "sobjects/Task/Salesops_Key__c/k1")
    created = s.patch(url, json={"Subject": "a"})
    assert created.status_code == 201 and created.json()["created"] is True
    again = s.patch(url, json={"Subject": "b"})
    assert again.status_code == 200 and again.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert (
        s.patch(rest(emu, "sobjects/Task/Subject/x"), json={}).status_code == 404
    )  # not an external id
    emu.org().insert("Task", {"Salesops_Key__c": "dup"})
    emu.org().insert("Task", {"Salesops_Key__c": "dup"})
    assert (
        s.patch(rest(emu, "sobjects/Task/Salesops_Key__c/dup"), json={"Subject": "c"}).status_code
        == 300
    )


def test_describe_custom_fields_and_provisioning(emu: SalesforceEmulator) -> None:
    s = http(emu)
    fields = {f["name"]: f for f in s.get(rest(emu, "sobjects/Task/describe")).json()["fields"]}
    assert fields["Salesops_Key__c"]["externalId"] and fields["Salesops_Key__c"]["custom"]
    opp = {f["name"]: f for f in s.get(rest(emu, "sobjects/Opportunity/describe")).json()["fields"]}
    assert "Closed Won" in [p["value"] for p in opp["StageName"]["picklistValues"]]
    bare = emu.org_add("00D000000000BARE", "bare@x.io", provisioned=False)
    t = http(emu, emu.access_token(bare.org_id))
    names = {f["name"] for f in t.get(rest(emu, "sobjects/Contact/describe")).json()["fields"]}
    assert "ai_score__c" not in names
    made = t.post(
        rest(emu, "tooling/sobjects/CustomField"),
        json={
            "FullName": "Contact.ai_score__c",
            "Metadata": {"type": "Number", "label": "AI score"},
        },
    )
    assert made.status_code == 201
    names = {f["name"] for f in t.get(rest(emu, "sobjects/Contact/describe")).json()["fields"]}
    assert "ai_score__c" in names
    assert (
        t.post(
            rest(emu, "tooling/sobjects/CustomField"),
            json={"FullName": "Contact.ai_score__c", "Metadata": {"type": "Number"}},
        ).status_code
        == 400
    )
