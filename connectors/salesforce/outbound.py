"""Salesforce Outbound Messages: the secret and org check, strict SOAP parsing, our answer.

Pure (stdlib, defusedxml and connectors): `SalesforceConnector.verify_webhook /
parse_webhook / webhook_response` call these, and tests build messages without a network.

**Authenticity.** An Outbound Message carries no signature and no timestamp (only an optional
client certificate and a session id we do not ask for), so the endpoint URL holds a random
secret as its last path segment (`/webhooks/salesforce/<slug>/<secret>/`), compared in
constant time with the connection's `outbound_secret`, and the message's `OrganizationId`
must be the connection's org (15- or 18-character form, see `org_ids_match`).

**Body.** A SOAP 1.1 envelope: `Envelope/Body/notifications` (namespace
`http://soap.sforce.com/2005/09/outbound`) with `OrganizationId`, `ActionId`, `SessionId`,
`EnterpriseUrl`, `PartnerUrl` and 1 to 100 `Notification`s, each an `Id` (Salesforce's id of
the notification, kept on redelivery: our dedupe key) and an `sObject` whose `xsi:type` names
the object and whose children (namespace `urn:sobject.enterprise.soap.sforce.com`) are the
fields the Outbound Message was set up to send. A field left out was not sent (the mirror
keeps its value); `xsi:nil="true"` means the field is empty. Parsed with defusedxml: a DTD,
an entity declaration or an external reference is refused before anything is expanded.

**Events.** One `<object>.snapshot` per Contact, Lead, Account or Opportunity, its neutral
fields through `connectors.salesforce.fields.record_from_row`; the router diffs it against the
record mirror. Other objects (Case, custom objects) are acknowledged and ignored, as HubSpot's
tickets are: refusing them would only make Salesforce retry them for a day.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from connectors.base import CrmEvent, RecordRef, WebhookResponse
from connectors.inputs import InputRejected
from connectors.salesforce import outbound_fields

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # Salesforce sends at most 100 notifications per message
# 100 records of a few dozen fields is a few hundred KB; this leaves room for long text areas
# and stays under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which would refuse unanswered.
MAX_BYTES = 2_000_000
CONTENT_TYPE = "text/xml; charset=utf-8"
_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    " <soapenv:Body>\n"
)
_ENVELOPE_CLOSE = " </soapenv:Body>\n</soapenv:Envelope>\n"
ACK = (
    _ENVELOPE_OPEN
    + '  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    + "   <Ack>true</Ack>\n"
    + "  </notificationsResponse>\n"
    + _ENVELOPE_CLOSE
).encode()
_ID = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?", re.ASCII)
_RECORD_ID = re.compile(r"[A-Za-z0-9]{1,18}", re.ASCII)
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Characters XML 1.0 cannot carry (a fault string must stay well-formed).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FAULT_MAX = 1_000


# -- ids -----------------------------------------------------------------------------------


def id_checksum(id15: str) -> str:
    """The three characters Salesforce appends to a 15-character id to make it 18 (each one
    encodes which of five characters are upper case, so the 18-character form survives
    case-insensitive handling)."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if "A" <= c <= "Z")
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


def id15(value: str) -> str | None:
    """The case-sensitive 15-character id of `value` (15 or 18 characters), or None when it
    is not an id or its 18-character checksum is wrong."""
    if not _ID.fullmatch(value):
        return None
    head = value[:15]
    if len(value) == 18 and value[15:].upper() != id_checksum(head):
        return None
    return head


def org_ids_match(given: str, expected: str) -> bool:
    """Whether two org ids name the same org: the first 15 characters, case-sensitively, of
    valid 15- or 18-character ids."""
    a, b = id15(given), id15(expected)
    return a is not None and a == b


# -- authenticity --------------------------------------------------------------------------


def outbound_secret_given(url: str) -> str:
    """The secret a request URL carries: its last non-empty path segment, unescaped."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


def outbound_refusal(
    body: bytes, *, org_id: str, secret_expected: str, secret_given: str
) -> str | None:
    """Why the message is not for this connection (no or wrong secret, another org), or None.

    A body that does not parse is not refused here: `outbound_events_parse` says why (400).
    The secret never appears in the reason.
    """
    if not secret_expected:
        return "no outbound message secret is configured: every message is refused"
    if not hmac.compare_digest(secret_given.encode(), secret_expected.encode()):
        return "wrong or missing secret in the endpoint URL"
    try:
        given = _org_id(_notifications(body))
    except ValueError:
        return None
    return _org_refusal(given, org_id)


def _org_refusal(given: str, expected: str) -> str | None:
    if expected and not org_ids_match(given, expected):
        return f"message is for organization {given!r}; this connection is {expected!r}"
    return None


# -- parsing -------------------------------------------------------------------------------


def outbound_events_parse(
    body: bytes,
    *,
    org_id: str,
    mapping: Mapping[str, Any] | None = None,
    own_user_id: str = "",
    now: Callable[[], datetime] | None = None,
) -> list[CrmEvent]:
    """An Outbound Message as `<object>.snapshot` events, one per mapped notification.

    `org_id` is the connection's org ("" accepts any, reported as `account_id`); `mapping`
    the connection's field and value mapping; a record last modified by `own_user_id` (our
    integration user) is our own write-back (`origin="salesops"`).

    Raises ValueError naming the cause (InputRejected: 413 for over 100 notifications, 403
    for another org).
    """
    notifications = _notifications(body)
    given_org = _org_id(notifications)
    refusal = _org_refusal(given_org, org_id)
    if refusal:
        raise InputRejected(refusal, status=403)
    items = notifications.findall(f"{{{OUTBOUND_NS}}}Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise InputRejected(
            f"this message has {len(items)} notifications; the limit is {MAX_NOTIFICATIONS}",
            status=413,
        )
    clock = now or (lambda: datetime.now(UTC))
    account = org_id or given_org  # the connection's own spelling, so the edge compares equal
    own = own_user_id[:15] if _ID.fullmatch(own_user_id) else None
    events = []
    for i, item in enumerate(items):
        event = _event(item, f"Notification[{i}]", account, mapping, own, clock)
        if event is not None:
            events.append(event)
    return events


def _notifications(body: bytes) -> Element:
    """The `notifications` element of a well-formed, DTD-free SOAP envelope."""
    if len(body) > MAX_BYTES:
        raise InputRejected(f"body is {len(body)} bytes; the limit is {MAX_BYTES}", status=413)
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ValueError(f"refused XML: {type(exc).__name__} (no DTDs or entities)") from None
    except ParseError as exc:
        raise ValueError(f"malformed XML: {exc}") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise ValueError(f"the root element must be a SOAP 1.1 Envelope, not {_tag(root)}")
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None:
        raise ValueError("the SOAP Envelope has no Body")
    found = soap_body.find(f"{{{OUTBOUND_NS}}}notifications")
    if found is None:
        raise ValueError(f"the SOAP Body holds no notifications element ({OUTBOUND_NS})")
    return found


def _org_id(notifications: Element) -> str:
    text = (notifications.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or "").strip()
    if not text:
        raise ValueError("notifications.OrganizationId: required")
    if id15(text) is None:
        raise ValueError(f"notifications.OrganizationId: {_shown(text)} is not a valid org id")
    return text


def _event(
    item: Element,
    where: str,
    account: str,
    mapping: Mapping[str, Any] | None,
    own: str | None,
    clock: Callable[[], datetime],
) -> CrmEvent | None:
    notification_id = (item.findtext(f"{{{OUTBOUND_NS}}}Id") or "").strip()
    if not _ID.fullmatch(notification_id):
        raise ValueError(f"{where}.Id: {_shown(notification_id)} is not a Salesforce id")
    sobject_element = item.find(f"{{{OUTBOUND_NS}}}sObject")
    if sobject_element is None:
        raise ValueError(f"{where}: has no sObject")
    sobject = _sobject_type(sobject_element, where)
    if sobject not in outbound_fields.NEUTRAL_OF:
        return None  # an object no SOP runs on (Case, a custom object)
    row = _fields(sobject_element, where)
    record_id = row.get("Id")
    # Letters and digits only: a record id is a key here, not a credential (the org id's
    # checksum is checked), and the conformance suite's records have short neutral ids.
    if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(record_id):
        raise ValueError(f"{where}.sObject.Id: required, a Salesforce id")
    occurred = _occurred(row, where)  # first: its errors name the field
    try:
        found = outbound_fields.snapshot(sobject, row, mapping)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}.sObject: {exc}") from None
    if found is None:
        return None  # a converted Lead: its Contact is the record now
    ref, snapshot = found
    modified_by = row.get("LastModifiedById")
    ours = (
        own is not None
        and isinstance(modified_by, str)
        and _ID.fullmatch(modified_by) is not None
        and modified_by[:15] == own
    )
    return CrmEvent(
        event_id=notification_id,
        name=f"{ref.object_type}.snapshot",
        record=RecordRef(ref.object_type, ref.id),
        occurred_at=occurred or clock(),
        source="salesforce",
        origin="salesops" if ours else "",
        snapshot=snapshot,
        account_id=account,
    )


def _sobject_type(element: Element, where: str) -> str:
    declared = element.get(f"{{{XSI_NS}}}type") or ""
    name = declared.rpartition(":")[2]  # "sf:Contact": the prefix is the sobject namespace's
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", name, re.ASCII):
        raise ValueError(f"{where}.sObject: xsi:type {_shown(declared)} names no sObject type")
    return name


def _fields(element: Element, where: str) -> dict[str, str | None]:
    """The fields sent, by API name: text, or None for `xsi:nil="true"`; absent = not sent."""
    row: dict[str, str | None] = {}
    for child in element:
        namespace, _, name = child.tag.rpartition("}")
        if namespace != "{" + SOBJECT_NS or len(child):
            continue  # another namespace or a compound value: nothing a neutral field reads
        if name in row:
            raise ValueError(f"{where}.sObject.{name}: sent twice")
        nil = (child.get(f"{{{XSI_NS}}}nil") or "").strip().lower() in ("true", "1")
        row[name] = None if nil else (child.text or "")
    return row


def _occurred(row: Mapping[str, str | None], where: str) -> datetime | None:
    """When the record last changed: SystemModstamp, else LastModifiedDate, when sent."""
    for name in ("SystemModstamp", "LastModifiedDate"):
        text = row.get(name)
        if text:
            try:
                stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            except ValueError:
                reason = f"{where}.sObject.{name}: {_shown(text)} is no timestamp"
                raise ValueError(reason) from None
            if stamp.tzinfo is None:
                raise ValueError(f"{where}.sObject.{name}: {_shown(text)} has no UTC offset")
            try:
                return stamp.astimezone(UTC)
            except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant
                raise ValueError(
                    f"{where}.sObject.{name}: {_shown(text)} is out of range"
                ) from None
    return None


def _tag(element: Element) -> str:
    namespace, _, name = element.tag.rpartition("}")
    return f"{name!r}" + (f" in {namespace[1:]!r}" if namespace else "")


def _shown(value: Any) -> str:
    """`value` for an error message, cut short: the sender already has the rest."""
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


# -- answer --------------------------------------------------------------------------------


def outbound_response(
    events: Sequence[CrmEvent], error: str | None, *, status: int = 400
) -> WebhookResponse:
    """The Ack Salesforce waits for (it redelivers until it gets one), or a SOAP fault with
    `status` and the reason (the edge picks the status: 400 malformed, 403 not ours, 413)."""
    if not error:
        return WebhookResponse(200, ACK, CONTENT_TYPE)
    return WebhookResponse(status, soap_fault(error, server=status >= 500), CONTENT_TYPE)


def soap_fault(reason: str, *, server: bool = False) -> bytes:
    """A SOAP 1.1 fault whose faultstring is `reason` (escaped, cut to 1,000 characters)."""
    text = _NOT_XML.sub("?", reason)[:_FAULT_MAX]
    code = "soapenv:Server" if server else "soapenv:Client"
    return (
        _ENVELOPE_OPEN
        + "  <soapenv:Fault>\n"
        + f"   <faultcode>{code}</faultcode>\n"
        + f"   <faultstring>{escape(text)}</faultstring>\n"
        + "   <detail />\n"
        + "  </soapenv:Fault>\n"
        + _ENVELOPE_CLOSE
    ).encode()
