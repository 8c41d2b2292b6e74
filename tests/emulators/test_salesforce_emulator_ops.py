"""The Salesforce emulator over HTTPS: query paging, queryAll, collections, replication,
daily limits and the limit header, scripted faults, and Outbound Message bodies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import pytest
import requests

from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator
from tests.emulators.salesforce_values import dt_text

VENDOR_SAMPLE = Path("/work/shared/vendor/salesforce/outbound-messages/request-Salesforce.xml")


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(page_size=5) as emulator:
        yield emulator


def http(emu: SalesforceEmulator) -> requests.Session:
    session = requests.Session()
    session.verify = emu.ca_path
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    session.headers["Authorization"] = f"Bearer {emu.access_token()}"
    return session


def rest(emu: SalesforceEmulator, path: str) -> str:
    return f"{emu.base_url}/services/data/v61.0/{path}"


def accounts(emu: SalesforceEmulator, n: int) -> list[str]:
    return [emu.org().insert("Account", {"Name": f"Account {i:02d}"}) for i in range(n)]


def test_query_pages_through_a_server_side_cursor(emu: SalesforceEmulator) -> None:
    accounts(emu, 12)
    s = http(emu)
    page = s.get(
        rest(emu, "query"), params={"q": "SELECT Id, Name FROM Account ORDER BY Name"}
    ).json()
    names, pages = [], 0
    while True:
        pages += 1
        assert page["totalSize"] == 12
        names += [r["Name"] for r in page["records"]]
        if page["done"]:
            assert "nextRecordsUrl" not in page
            break
        assert page["nextRecordsUrl"].startswith("/services/data/v61.0/query/01g")
        page = s.get(emu.base_url + page["nextRecordsUrl"]).json()
    assert pages == 3 and names == [f"Account {i:02d}" for i in range(12)]
    gone = s.get(rest(emu, "query/01gNOPE-5"))
    assert gone.status_code == 400 and gone.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    missing = s.get(rest(emu, "query"))
    assert missing.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_deleted_rows_only_in_query_all(emu: SalesforceEmulator) -> None:
    ids = accounts(emu, 3)
    emu.org().delete("Account", ids[0])
    s = http(emu)
    q = {"q": "SELECT Id, IsDeleted FROM Account"}
    live = s.get(rest(emu, "query"), params=q).json()["records"]
    every = s.get(rest(emu, "queryAll"), params=q).json()["records"]
    assert {r["Id"] for r in live} == set(ids[1:])
    assert {r["Id"]: r["IsDeleted"] for r in every} == {ids[0]: True, ids[1]: False, ids[2]: False}


def test_get_deleted_and_updated_windows(emu: SalesforceEmulator) -> None:
    ids = accounts(emu, 3)
    start = emu.clock.now()
    emu.clock.advance(120)  # type: ignore[attr-defined]
    emu.org().delete("Account", ids[0])
    emu.org().update("Account", ids[1], {"Name": "Renamed"})
    deleted_at = emu.clock.now()
    emu.clock.advance(120)  # type: ignore[attr-defined]
    s = http(emu)
    window = {"start": dt_text(start + timedelta(seconds=60)), "end": dt_text(emu.clock.now())}
    gone = s.get(rest(emu, "sobjects/Account/deleted/"), params=window).json()
    assert [r["id"] for r in gone["deletedRecords"]] == [ids[0]]
    assert gone["deletedRecords"][0]["deletedDate"] == dt_text(deleted_at.replace(microsecond=0))
    assert gone["latestDateCovered"] == dt_text(emu.clock.now().replace(second=0, microsecond=0))
    changed = s.get(rest(emu, "sobjects/Account/updated/"), params=window).json()
    assert changed["ids"] == [ids[1]]
    before = {"start": dt_text(start - timedelta(minutes=5)), "end": dt_text(start)}
    assert (
        s.get(rest(emu, "sobjects/Account/deleted/"), params=before).json()["deletedRecords"] == []
    )
    too_old = {"start": dt_text(start - timedelta(days=31)), "end": dt_text(start)}
    refused = s.get(rest(emu, "sobjects/Account/deleted/"), params=too_old)
    assert (
        refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    )


def _records(kind: str, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"attributes": {"type": kind}, **r} for r in rows]


def test_collections_create_update_upsert_all_or_none(emu: SalesforceEmulator) -> None:
    s = http(emu)
    url = rest(emu, "composite/sobjects")
    made = s.post(
        url,
        json={"allOrNone": False, "records": _records("Account", {"Name": "A"}, {"Website": "x"})},
    ).json()
    assert made[0]["success"] and not made[1]["success"]
    assert made[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    before = len(emu.org().rows("Account"))
    rolled = s.post(
        url, json={"allOrNone": True, "records": _records("Account", {"Name": "B"}, {})}
    ).json()
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert len(emu.org().rows("Account")) == before
    updated = s.patch(
        url, json={"records": _records("Account", {"Id": made[0]["id"], "Name": "A2"})}
    ).json()
    assert updated == [{"id": made[0]["id"], "success": True, "errors": []}]
    assert emu.org().get("Account", made[0]["id"])["Name"] == "A2"  # type: ignore[index]
    too_many = s.post(
        url, json={"records": _records("Account", *[{"Name": str(i)} for i in range(201)])}
    )
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    upsert_url = rest(emu, "composite/sobjects/Task/Salesops_Key__c")
    first = s.patch(
        upsert_url, json={"records": _records("Task", {"Salesops_Key__c": "k1", "Subject": "s"})}
    ).json()
    again = s.patch(
        upsert_url,
        json={
            "records": _records(
                "Task", {"Salesops_Key__c": "k1", "Subject": "t"}, {"Salesops_Key__c": "k2"}
            )
        },
    ).json()
    assert first[0]["created"] is True
    assert [(r["id"] == first[0]["id"], r["created"]) for r in again] == [
        (True, False),
        (False, True),
    ]


def test_unable_to_lock_row_fails_single_records(emu: SalesforceEmulator) -> None:
    s = http(emu)
    emu.fault_next("UNABLE_TO_LOCK_ROW")
    locked = s.post(
        rest(emu, "composite/sobjects"),
        json={"allOrNone": False, "records": _records("Account", {"Name": "A"}, {"Name": "B"})},
    ).json()
    assert locked[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW" and locked[1]["success"]
    emu.fault_next("UNABLE_TO_LOCK_ROW")
    single = s.post(rest(emu, "sobjects/Account"), json={"Name": "C"})
    assert single.status_code == 400 and single.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert s.post(rest(emu, "sobjects/Account"), json={"Name": "C"}).status_code == 201


def test_limit_header_and_daily_limit(emu: SalesforceEmulator) -> None:
    s = http(emu)
    first = s.get(rest(emu, "limits"))
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert first.json()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99999}
    emu.api_usage_set(98, 99)
    assert s.get(rest(emu, "limits")).headers["Sforce-Limit-Info"] == "api-usage=99/99"
    refused = s.get(rest(emu, "limits"))
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=99/99"
    other = emu.org_add("00D000000000OTHR", "other@x.io")
    assert other.api_used == 0  # budgets are per org


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("500", 500, "UNKNOWN_EXCEPTION"),
        ("503", 503, "SERVER_UNAVAILABLE"),
        ("INVALID_SESSION_ID", 401, "INVALID_SESSION_ID"),
        ("REQUEST_LIMIT_EXCEEDED", 403, "REQUEST_LIMIT_EXCEEDED"),
        ("400", 400, "INVALID_INPUT"),
        ("429", 429, "REQUEST_LIMIT_EXCEEDED"),
    ],
)
def test_scripted_faults(emu: SalesforceEmulator, fault: str, status: int, code: str) -> None:
    s = http(emu)
    emu.fault_next(fault, times=2, retry_after=7)
    for _ in range(2):
        resp = s.get(rest(emu, "limits"))
        assert resp.status_code == status and resp.json()[0]["errorCode"] == code
        assert resp.headers["Retry-After"] == "7"
    assert s.get(rest(emu, "limits")).status_code == 200


def test_versions_and_unknown_version(emu: SalesforceEmulator) -> None:
    versions = requests.get(f"{emu.base_url}/services/data/", verify=emu.ca_path).json()
    assert versions[-1] == {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"}
    s = http(emu)
    assert s.get(f"{emu.base_url}/services/data/v99.0/limits").status_code == 404
    assert s.get(rest(emu, "")).json()["query"] == "/services/data/v61.0/query"


def _shape(element: Any) -> list[str]:
    # Tag paths, in document order, with the sObject's fields left out.
    out = []
    for child in element:
        out.append(child.tag)
        if not child.tag.endswith("sObject"):
            out += [f"{child.tag}/{tag}" for tag in _shape(child)]
    return out


def test_outbound_message_matches_the_vendor_sample(emu: SalesforceEmulator) -> None:
    store = emu.org()
    ids = [
        store.insert("Contact", {"LastName": n, "Email": f"{n}@x.io"}) for n in ("Black", "Bunting")
    ]
    body = emu.outbound_message(
        "Contact", [store.get("Contact", i) or {} for i in ids], session_id="00D!x"
    )
    ours, theirs = ET.fromstring(body), ET.fromstring(VENDOR_SAMPLE.read_bytes())
    assert _shape(ours) == _shape(theirs)
    ns = {
        "o": "http://soap.sforce.com/2005/09/outbound",
        "sf": "urn:sobject.enterprise.soap.sforce.com",
    }
    note = ours.find(".//o:notifications", ns)
    assert note.find("o:OrganizationId", ns).text == ORG_ID
    sobjects = note.findall("o:Notification/o:sObject", ns)
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}type"
    assert [o.get(xsi) for o in sobjects] == ["sf:Contact", "sf:Contact"]
    assert [o.find("sf:Id", ns).text for o in sobjects] == ids
    assert sobjects[1].find("sf:Email", ns).text == "Bunting@x.io"
    with pytest.raises(ValueError):
        emu.outbound_message("Contact", [{"Id": i} for i in ids * 51])
