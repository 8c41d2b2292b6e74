"""Outbound Message SOAP bodies, in the shape Salesforce posts them (see the vendor sample
request-Salesforce.xml): an Envelope whose Body holds `notifications` (namespace
http://soap.sforce.com/2005/09/outbound) with OrganizationId, ActionId, SessionId, EnterpriseUrl,
PartnerUrl and up to 100 Notification elements, each an Id and an sObject of xsi:type sf:<Type>.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

MAX_NOTIFICATIONS = 100
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    " <soapenv:Body>\n"
    '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    "{inner}"
    "  </notifications>\n"
    " </soapenv:Body>\n"
    "</soapenv:Envelope>\n"
)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def _sobject(sobject: str, row: dict[str, Any]) -> str:
    # Id first, then the fields in name order, as Salesforce lists them; nulls as xsi:nil.
    names = (["Id"] if "Id" in row else []) + sorted(
        k for k in row if k not in ("Id", "attributes")
    )
    lines = []
    for name in names:
        value = row[name]
        if value is None:
            lines.append(f'     <sf:{name} xsi:nil="true"/>\n')
        else:
            lines.append(f"     <sf:{name}>{_text(value)}</sf:{name}>\n")
    return (
        f'    <sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n'
        + "".join(lines)
        + "    </sObject>\n"
    )


def outbound_body(
    sobject: str,
    rows: list[dict[str, Any]],
    *,
    org_id: str,
    action_id: str,
    session_id: str,
    base_url: str,
    api_version: str,
    notification_ids: list[str] | None,
    new_id: Callable[[], str],
) -> bytes:
    """The SOAP request body of one Outbound Message delivery (UTF-8 bytes)."""
    if not 1 <= len(rows) <= MAX_NOTIFICATIONS:
        raise ValueError(f"an outbound message holds 1 to {MAX_NOTIFICATIONS} notifications")
    ids = notification_ids or [new_id() for _ in rows]
    if len(ids) != len(rows):
        raise ValueError("one notification id per row")
    org15 = org_id[:15]
    session = (
        f"   <SessionId>{escape(session_id)}</SessionId>\n"
        if session_id
        else '   <SessionId xsi:nil="true"/>\n'
    )
    head = (
        f"   <OrganizationId>{escape(org_id)}</OrganizationId>\n"
        f"   <ActionId>{escape(action_id)}</ActionId>\n"
        + session
        + f"   <EnterpriseUrl>{base_url}/services/Soap/c/{api_version}/{org15}</EnterpriseUrl>\n"
        f"   <PartnerUrl>{base_url}/services/Soap/u/{api_version}/{org15}</PartnerUrl>\n"
    )
    notes = "".join(
        f"   <Notification>\n    <Id>{escape(nid)}</Id>\n"
        f"{_sobject(sobject, row)}   </Notification>\n"
        for nid, row in zip(ids, rows, strict=True)
    )
    return _ENVELOPE.format(inner=head + notes).encode("utf-8")
