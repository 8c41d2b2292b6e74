"""Salesforce Outbound Messages, parsed without a network: the vendor's own samples (read
from /work/shared/vendor at test time), snapshots of what was sent, the secret and org
checks (15- and 18-character ids), and every hostile or malformed body refused with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.inputs import InputRejected
from connectors.salesforce.outbound import (
    ACK,
    MAX_NOTIFICATIONS,
    id15,
    id_checksum,
    org_ids_match,
    outbound_events_parse,
    outbound_refusal,
    outbound_response,
    outbound_secret_given,
)

VENDOR = Path("/work/shared/vendor/salesforce/outbound-messages")
BOM = b"\xef\xbb\xbf"
ORG15 = "00D5g000004SLsf"
ORG = ORG15 + id_checksum(ORG15)  # "00D5g000004SLsfEAG"
USER = "0055g00000AbCdEFGH"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET = "k" * 32


def vendor(name: str) -> bytes:
    path = VENDOR / name
    if not path.exists():
        pytest.skip(f"vendor sample {path} is not on this machine")
    return path.read_bytes()


def sobject(kind: str, fields: dict[str, str | None]) -> str:
    """An sObject element as Salesforce writes it: sf: fields, xsi:nil for empty ones."""
    parts = []
    for name, value in fields.items():
        if value is None:
            parts.append(f'<sf:{name} xsi:nil="true"/>')
        else:
            parts.append(f"<sf:{name}>{escape(value)}</sf:{name}>")
    return (
        f'<sObject xsi:type="sf:{kind}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        + "".join(parts)
        + "</sObject>"
    )


def notification(n: int, kind: str = "Contact", **fields: str | None) -> str:
    prefix = {"Contact": "003", "Lead": "00Q", "Account": "001", "Opportunity": "006"}
    row = {"Id": f"{prefix.get(kind, 'a01')}5g00000{n:05d}AAA", **fields}
    return f"<Notification><Id>04l5g0000{n:06d}AAA</Id>{sobject(kind, row)}</Notification>"


def message(*notifications: str, org: str = ORG, prolog: str = "") -> bytes:
    """An Outbound Message body in the shape of the vendor's request-Salesforce.xml."""
    return (
        prolog + '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><ActionId>04k5g000000Xyz1AAC</ActionId>"
        f"<SessionId>{org[:15]}!AQ</SessionId>"
        "<EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/61.0</EnterpriseUrl>"
        "<PartnerUrl>https://x.my.salesforce.com/services/Soap/u/61.0</PartnerUrl>"
        + "".join(notifications)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def parse(body: bytes, org: str = ORG, **options: object) -> list:
    return outbound_events_parse(body, org_id=org, now=lambda: NOW, **options)  # type: ignore[arg-type]


# -- the vendor's samples --------------------------------------------------------------------


def test_the_vendor_sample_is_two_contact_snapshots_of_the_fields_sent():
    body = vendor("request-Salesforce.xml")
    org = "012345678901234"  # the sample's 15-character org id
    assert outbound_refusal(body, org_id=org, secret_expected="s", secret_given="s") is None
    first, second = parse(body, org=org)
    assert (first.event_id, first.name, first.record.id) == (
        "04l1I000000fztEQAQ",
        "contact.snapshot",
        "0031I0000081tbPQAQ",
    )
    assert first.account_id == "012345678901234" and first.source == "salesforce"
    assert first.occurred_at == NOW  # no SystemModstamp or LastModifiedDate sent
    assert first.snapshot == {
        "first_name": "Jeraldine",
        "last_name": "Black",
        "job_title": "White",
        "created_at": datetime(2017, 12, 11, 21, 49, 24, tzinfo=UTC),
    }  # no email key: Email was not sent, which is not the same as empty
    assert second.snapshot is not None and second.snapshot["email"] == "drb24@cornell.edu"


def test_the_vendor_empty_sample_is_refused_for_its_missing_org():
    with pytest.raises(ValueError, match="OrganizationId: required"):
        parse(vendor("request-Salesforce.Empty.xml"))


def test_the_vendor_bad_sample_has_an_org_id_whose_checksum_is_wrong():
    body = vendor("request-Salesforce.BadSecret.xml")  # starts with a UTF-8 BOM
    with pytest.raises(ValueError, match="not a valid org id"):
        parse(body, org="")
    fixed = body.replace(b"0123456789ABCDENNN", b"0123456789ABCDEAA5")
    # Its sObjects are typed sf:Lead1..3: objects no SOP runs on are acknowledged, not stored.
    assert parse(fixed, org="0123456789ABCDE") == []


def test_the_ack_is_the_vendors_and_a_fault_has_its_shape():
    assert vendor("response-ack.xml").removeprefix(BOM) == ACK
    ok = outbound_response([], None)
    assert (ok.status, ok.body, ok.content_type) == (200, ACK, "text/xml; charset=utf-8")
    refused = outbound_response([], "bad <Id> & more", status=403)
    assert refused.status == 403
    template = vendor("response-fault.xml").removeprefix(BOM).decode()
    assert refused.body.decode() == template.replace("{0}", "bad &lt;Id&gt; &amp; more")
    fault = SafeET.fromstring(refused.body)
    assert fault.findtext(".//faultstring") == "bad <Id> & more"
    assert fault.findtext(".//faultcode") == "soapenv:Client"
    server = SafeET.fromstring(outbound_response([], "db down", status=503).body)
    assert server.findtext(".//faultcode") == "soapenv:Server"


def test_a_fault_string_stays_well_formed_and_short():
    body = outbound_response([], "\x00\x1b" + "x" * 5000).body
    text = SafeET.fromstring(body).findtext(".//faultstring")
    assert text is not None and text.startswith("??") and len(text) == 1000


# -- snapshots -------------------------------------------------------------------------------


def test_a_nil_field_is_null_and_a_missing_one_is_not_sent():
    body = message(notification(1, Email=None, FirstName="Ada", Title=""))
    [event] = parse(body)
    assert event.snapshot == {"email": None, "first_name": "Ada", "job_title": None}


def test_an_opportunity_is_typed_from_the_soap_text():
    fields = {
        "Name": "Acme renewal",
        "Amount": "50000.0",
        "StageName": "Closed Won",
        "IsClosed": "true",
        "IsWon": "true",
        "CloseDate": "2026-12-15",
        "Probability": "100",
        "SystemModstamp": "2026-11-29T08:30:00.000Z",
        "LastModifiedDate": "2026-11-28T08:30:00.000Z",
    }
    [event] = parse(message(notification(7, "Opportunity", **fields)))
    assert event.name == "deal.snapshot" and event.record.object_type == "deal"
    assert event.occurred_at == datetime(2026, 11, 29, 8, 30, tzinfo=UTC)  # SystemModstamp
    assert event.snapshot == {
        "name": "Acme renewal",
        "amount": 50000.0,
        "stage": "closedwon",
        "close_date": date(2026, 12, 15),
        "probability": 1.0,
    }


def test_a_custom_stage_closed_lost_by_the_org_is_lost():
    fields = {"StageName": "Dead", "IsClosed": "true", "IsWon": "false"}
    [event] = parse(message(notification(8, "Opportunity", **fields)))
    assert event.snapshot == {"stage": "closedlost"}


def test_a_lead_is_a_contact_with_status_and_lifecycle_and_a_converted_lead_is_skipped():
    lead = notification(2, "Lead", Status="Working - Contacted", LastName="Ng", Company="Acme")
    converted = notification(3, "Lead", Status="Closed - Converted", IsConverted="true")
    account = notification(4, "Account", Name="Acme", Website="https://www.Acme.test/x")
    [person, company] = parse(message(lead, converted, account))
    assert person.record.id.startswith("00Q") and person.name == "contact.snapshot"
    assert person.snapshot == {
        "last_name": "Ng",
        "lead_status": "IN_PROGRESS",
        "lifecycle_stage": "lead",
    }
    assert company.snapshot == {"name": "Acme", "domain": "acme.test"}


def test_the_connections_mapping_applies():
    mapping = {"deal.stage": {"Signed": "closedwon"}, "fields": {"deal.ai_health": "Health__c"}}
    body = message(notification(9, "Opportunity", StageName="Signed", Health__c="red"))
    [event] = parse(body, mapping=mapping)
    assert event.snapshot == {"stage": "closedwon", "ai_health": "red"}


def test_our_own_write_back_is_marked_whatever_the_id_length():
    ours = notification(1, LastModifiedById=USER, FirstName="A")
    theirs = notification(2, LastModifiedById="0055g00000ZzZzZAAA", FirstName="B")
    first, second = parse(message(ours, theirs), own_user_id=USER[:15])
    assert (first.origin, second.origin) == ("salesops", "")
    assert parse(message(ours))[0].origin == ""  # no integration user known: nothing is ours


def test_last_modified_date_stands_in_for_a_missing_modstamp():
    body = message(notification(1, LastModifiedDate="2026-11-01T10:00:00.000Z"))
    assert parse(body)[0].occurred_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="SystemModstamp"):
        parse(message(notification(1, SystemModstamp="yesterday")))
    with pytest.raises(ValueError, match="out of range"):
        parse(message(notification(1, SystemModstamp="0001-01-01T00:00:00+01:00")))


def test_a_hundred_notifications_pass_and_a_hundred_and_one_are_refused():
    hundred = [notification(n, FirstName=f"P{n}") for n in range(MAX_NOTIFICATIONS)]
    events = parse(message(*hundred))
    assert len(events) == 100 and len({e.event_id for e in events}) == 100
    with pytest.raises(InputRejected, match="101 notifications") as refused:
        parse(message(*hundred, notification(100)))
    assert refused.value.status == 413


# -- authenticity ----------------------------------------------------------------------------


def test_the_secret_is_compared_and_never_echoed():
    body = message(notification(1))
    ok = outbound_refusal(body, org_id=ORG, secret_expected=SECRET, secret_given=SECRET)
    assert ok is None
    for wrong in ("", "k" * 31, SECRET + "x"):
        reason = outbound_refusal(body, org_id=ORG, secret_expected=SECRET, secret_given=wrong)
        assert reason is not None and "secret" in reason and SECRET not in reason
    unset = outbound_refusal(body, org_id=ORG, secret_expected="", secret_given="")
    assert unset is not None and "no outbound message secret" in unset


def test_the_secret_is_the_urls_last_segment():
    url = f"https://salesops.example.com/webhooks/salesforce/sf-eu/{SECRET}/?x=1"
    assert outbound_secret_given(url) == SECRET
    assert outbound_secret_given("https://salesops.example.com/") == ""


def test_another_org_is_refused_and_15_and_18_character_ids_are_the_same_org():
    other = "00D5g000004SLsg"
    body = message(notification(1), org=other)
    reason = outbound_refusal(body, org_id=ORG, secret_expected=SECRET, secret_given=SECRET)
    assert reason is not None and other in reason
    with pytest.raises(InputRejected) as refused:
        parse(body)
    assert refused.value.status == 403
    for sent, configured in ((ORG15, ORG), (ORG, ORG15), (ORG, ORG), (ORG15.lower(), ORG)):
        body = message(notification(1), org=sent)
        same = sent[:15] == configured[:15]
        reason = outbound_refusal(body, org_id=configured, secret_expected="s", secret_given="s")
        assert (reason is None) == same, (sent, configured)
    # An 18-character id whose case was changed fails its checksum: malformed, not another org.
    with pytest.raises(ValueError, match="not a valid org id"):
        parse(message(notification(1), org=ORG15.lower() + ORG[15:]))
    # The connection's own spelling is reported, so the edge's account check compares equal.
    assert parse(message(notification(1), org=ORG15))[0].account_id == ORG


def test_org_ids_compare_case_sensitively_with_a_checked_suffix():
    assert id_checksum("0123456789ABCDE") == "AA5"
    assert id15(ORG) == ORG15 and id15(ORG15) == ORG15
    assert id15(ORG15 + "AAA") is None  # wrong checksum
    assert id15(ORG.upper()) is None  # case changed: the checksum no longer fits
    assert org_ids_match(ORG15 + id_checksum(ORG15).lower(), ORG15)
    assert not org_ids_match("00d5g000004slsf", ORG15)
    assert not org_ids_match("", "")


# -- hostile and malformed bodies ------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (message(notification(1, FirstName="&lol4;"), prolog=BILLION_LAUGHS), "refused XML"),
        (
            message(
                notification(1, FirstName="&xxe;"),
                prolog='<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            ),
            "refused XML",
        ),
        (message(notification(1), prolog="<!DOCTYPE soapenv:Envelope>"), "refused XML"),
        (message(notification(1))[:-30], "malformed XML"),
        (b"", "malformed XML"),
        (b"<notifications/>", "root element must be a SOAP 1.1 Envelope"),
        (message(notification(1)).replace(b"soapenv:Body", b"soapenv:Head"), "no Body"),
        (message(notification(1)).replace(b"2005/09/outbound", b"2006/09/x"), "notifications"),
        (message("<Notification><Id>04l5g0000000001AAA</Id></Notification>"), "has no sObject"),
        (message("<Notification><Id>x</Id></Notification>"), "not a Salesforce id"),
        (message(notification(1)).replace(b'xsi:type="sf:Contact"', b""), "names no sObject"),
        (message(notification(1)).replace(b"0035g00000", b"003 5g'0000"), "sObject.Id"),
        (message(notification(1, FirstName="a") + notification(1)), "04l5g0000000001AAA"),
    ],
    ids=[
        "billion-laughs",
        "xxe",
        "dtd",
        "truncated",
        "empty",
        "wrong-root",
        "no-body",
        "wrong-namespace",
        "no-sobject",
        "bad-notification-id",
        "no-type",
        "bad-record-id",
        "sent-twice-ok",
    ],
)
def test_a_hostile_or_malformed_body_is_refused_with_its_reason(body, reason):
    if reason.startswith("04l"):  # the same notification twice: both parsed, the store dedupes
        assert [e.event_id for e in parse(body)] == [reason, reason]
        return
    with pytest.raises(ValueError, match=reason):
        parse(body)
    # The refusal check never raises on such a body: parsing says why (400).
    assert outbound_refusal(body, org_id=ORG, secret_expected="s", secret_given="s") is None


def test_a_field_sent_twice_is_refused():
    row = sobject("Contact", {"Id": "0035g0000000001AAA", "FirstName": "A"})
    twice = row.replace("</sObject>", "<sf:FirstName>B</sf:FirstName></sObject>")
    body = message(f"<Notification><Id>04l5g0000000001AAA</Id>{twice}</Notification>")
    with pytest.raises(ValueError, match="FirstName: sent twice"):
        parse(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=2000),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4),
    text=st.text(max_size=40),
)
def test_any_damaged_message_parses_or_raises_value_error(cut, flips, text):
    """Never another exception: the edge answers every failure with a 4xx fault, not a 500."""
    fields = {"FirstName": text, "SystemModstamp": text, "Amount": text, "StageName": text}
    sent = notification(1, "Opportunity", **fields) + notification(2, "Lead", Status=text)
    body = bytearray(message(sent))
    for at, byte in flips:
        body[at % len(body)] = byte
    damaged = bytes(body[: len(body) - cut % len(body)])
    try:
        events = parse(damaged)
    except ValueError:
        return
    assert all(e.name.endswith(".snapshot") for e in events)
