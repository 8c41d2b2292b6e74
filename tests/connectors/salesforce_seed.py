"""`SalesforceSeeder`: the conformance suite's hands inside the Salesforce emulator (one org).

Writes go straight to the emulator's `OrgStore` (as a user in Salesforce's UI would), each a
second after the last (SystemModstamp has whole seconds); reads come back from it; faults
are scripted on the emulator; webhook bodies are Outbound Messages built by the emulator.

A contact seeded with a company is a Contact of that Account; without one it is a Lead, so
the conformance feed tests run over both sObjects of the contact feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from connectors.base import CrmEvent, Page, RecordRef, WebhookRequest, WebhookResponse
from connectors.salesforce.client import MAX_IN_CALL_WAIT, RETRY_ATTEMPTS
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.fields import fields_from_neutral, record_from_row, sobject_of
from connectors.testing import Seeder
from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator
from tests.emulators.salesforce_model import make_id
from tests.emulators.salesforce_store import OrgStore

OTHER_ORG = "00D5g000007OTHrEAG"
OTHER_USERNAME = "integration@other-org.example"
OUTBOUND_SECRET = "outbound-secret-7Qk2"
WEBHOOK_BASE = "https://salesops.example.com/webhooks/salesforce/salesforce/"
SOAP_ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    b" <soapenv:Body>\n"
    b'  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    b"   <Ack>true</Ack>\n"
    b"  </notificationsResponse>\n"
    b" </soapenv:Body>\n</soapenv:Envelope>\n"
)
SOBJECT = {"company": "Account", "deal": "Opportunity"}
LEAD_COMPANY = "[not provided]"  # what Salesforce's UI puts in a Lead's required Company


class SalesforceSeeder(Seeder):
    """Seeds one org of `emu`; `org_id` None is the emulator's default org."""

    writable_properties: dict[str, dict[str, Any]] = {
        # A Contact has no Status (lead_status is a Lead's), so the suite writes our fields.
        "contact": {"ai_score": 72, "ai_tier": "A"},
        "deal": {"ai_health": "amber"},
    }

    def __init__(self, emu: SalesforceEmulator, org_id: str | None = None) -> None:
        self.emu = emu
        self.store: OrgStore = emu.org(org_id)
        self.account_id = self.store.org_id
        self._frozen = False

    def _tick(self) -> None:
        # Whole-second stamps: each write a second later, unless tied on purpose.
        if not self._frozen:
            self.emu.clock.advance(1)  # type: ignore[attr-defined]

    def _insert(self, sobject: str, fields: dict[str, Any]) -> str:
        self._tick()
        return self.store.insert(sobject, fields)

    # -- records ---------------------------------------------------------------------------

    def seed_company(self, props: dict[str, Any]) -> str:
        return self._insert("Account", fields_from_neutral("Account", {"name": "Company", **props}))

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        sobject = "Contact" if company_id else "Lead"
        values = {
            k: v for k, v in props.items() if not (sobject == "Contact" and k == "lead_status")
        }
        values.pop("lifecycle_stage", None)  # follows from the object and Status
        fields = fields_from_neutral(sobject, {"last_name": "Unknown", **values})
        if company_id:
            fields["AccountId"] = company_id
        else:
            fields.setdefault("Company", LEAD_COMPANY)
        return self._insert(sobject, fields)

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        base = {"stage": "appointmentscheduled", "close_date": self._today() + timedelta(days=30)}
        fields = fields_from_neutral("Opportunity", {**base, **props})
        if company_id:
            fields["AccountId"] = company_id
        deal = self._insert("Opportunity", fields)
        for n, contact in enumerate(contact_ids):
            self.store.insert(
                "OpportunityContactRole",
                {"OpportunityId": deal, "ContactId": contact, "IsPrimary": n == 0},
            )
        return deal

    def seed_activity(
        self, ref: RecordRef, *, kind: str, timestamp: datetime, subject: str = "", body: str = ""
    ) -> str:
        link = {"WhoId": ref.id} if ref.object_type == "contact" else {"WhatId": ref.id}
        common = {"Subject": subject, "Description": body, **link}
        if kind == "meeting":
            return self._insert(
                "Event",
                {
                    **common,
                    "StartDateTime": timestamp,
                    "EndDateTime": timestamp + timedelta(minutes=30),
                    "ActivityDateTime": timestamp,
                    "ActivityDate": timestamp.date(),
                    "DurationInMinutes": 30,
                },
            )
        if kind == "task":  # a to-do, due that day
            fields = {**common, "Status": "Not Started", "ActivityDate": timestamp.date()}
            return self._insert("Task", fields)
        subtype = {"call": "Call", "email": "Email", "note": "Task"}[kind]
        if kind == "email":
            common["Subject"] = f"Email: {subject}"
        # Logged as done when it happened: completed at creation (a note, a call, an email).
        return self._insert(
            "Task",
            {
                **common,
                "TaskSubtype": subtype,
                "Status": "Completed",
                "ActivityDate": timestamp.date(),
                "CreatedDate": timestamp,
                "CompletedDateTime": timestamp,
                **({"CallType": "Outbound"} if kind == "call" else {}),
            },
        )

    def seed_update(self, ref: RecordRef, props: dict[str, Any]) -> None:
        sobject = self._sobject(ref)
        self._tick()
        self.store.update(sobject, ref.id, fields_from_neutral(sobject, props))

    def seed_delete(self, ref: RecordRef) -> None:
        self._tick()
        self.store.delete(self._sobject(ref), ref.id)

    @contextmanager
    def same_timestamp(self) -> Iterator[None]:
        self._tick()
        self._frozen = True
        try:
            yield
        finally:
            self._frozen = False

    # -- reading behind the connector's back -----------------------------------------------

    def fetch_ids(self, object_type: str) -> set[str]:
        if object_type == "contact":
            leads = {r["Id"] for r in self.store.rows("Lead") if not r.get("IsConverted")}
            return leads | {r["Id"] for r in self.store.rows("Contact")}
        return {r["Id"] for r in self.store.rows(SOBJECT[object_type])}

    def _tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.store.rows("Task")
            if ref.id in (r.get("WhoId"), r.get("WhatId"))
            and (r.get("TaskSubtype") or "Task") == "Task"
        ]
        return sorted(rows, key=lambda r: (r["CreatedDate"], r["Id"]))

    @staticmethod
    def _is_note(row: dict[str, Any]) -> bool:
        # Created completed: a logged note (the connector's reading, see activities.py).
        return row.get("Status") == "Completed" and row.get("CompletedDateTime") == row.get(
            "CreatedDate"
        )

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        return [str(r.get("Description") or "") for r in self._tasks(ref) if self._is_note(r)]

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        return [
            {
                "subject": r.get("Subject"),
                "body": r.get("Description"),
                "due_date": r.get("ActivityDate"),
                "owner": r.get("OwnerId") or None,
            }
            for r in self._tasks(ref)
            if not self._is_note(r)
        ]

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        sobject = self._sobject(ref)
        row = self.store.get(sobject, ref.id)
        assert row is not None, f"{ref} is not in the org"
        return record_from_row(sobject, row).properties

    def missing_id(self, object_type: str) -> str:
        sobject = "Contact" if object_type == "contact" else SOBJECT[object_type]
        return make_id(sobject, 62**9)

    def _sobject(self, ref: RecordRef) -> str:
        sobject = sobject_of(ref.id)
        assert sobject is not None, f"{ref.id!r} is not a Salesforce Id"
        return sobject

    def _today(self) -> date:
        return self.emu.clock.now().date()

    # -- faults ----------------------------------------------------------------------------

    def fault_next(self, fault: str, *, times: int = 1, retry_after: float | None = None) -> None:
        if fault == "expired_session":
            self.emu.fault_next("INVALID_SESSION_ID", times=times)
        elif fault == "429":
            # A short Retry-After is slept through inside the call; a long one surfaces.
            wait = 1.0 if retry_after is None else retry_after
            attempts = RETRY_ATTEMPTS if wait <= MAX_IN_CALL_WAIT else 1
            self.emu.fault_next("429", times=times * attempts, retry_after=wait)
        elif fault == "400":
            self.emu.fault_next("400", times=times)
        else:  # 5xx: retried inside the call, so each attempt meets one
            self.emu.fault_next(fault, times=times * RETRY_ATTEMPTS, retry_after=retry_after)

    # -- webhooks --------------------------------------------------------------------------

    def _row(self, event: CrmEvent) -> tuple[str, dict[str, Any]]:
        object_type = event.record.object_type
        sobject = sobject_of(event.record.id) or (
            "Contact" if object_type == "contact" else SOBJECT[object_type]
        )
        row: dict[str, Any] = {"Id": event.record.id, "SystemModstamp": event.occurred_at}
        row["LastModifiedDate"] = event.occurred_at
        if event.name.endswith(".created"):
            row["CreatedDate"] = event.occurred_at
        if event.property is not None:
            row.update(fields_from_neutral(sobject, {event.property: event.value}))
        if event.snapshot:
            row.update(fields_from_neutral(sobject, dict(event.snapshot)))
        return sobject, row

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        return self.webhook_body_of(events, self.account_id)

    def webhook_body_of(self, events: Sequence[CrmEvent], account_id: str) -> bytes:
        # Salesforce types one message by one sObject; the suite mixes objects in a delivery,
        # so the message holds each event's notification, typed by its own sObject.
        org = account_id if account_id in self.emu.orgs else self.account_id
        parts = []
        for event in events:
            sobject, row = self._row(event)
            body = self.emu.outbound_message(
                sobject, [row], org_id=org, notification_ids=[_notification_id(event.event_id)]
            ).decode()
            parts.append(body)
        if not parts:
            parts = [self.emu.outbound_message("Contact", [], org_id=org).decode()]
        head, _, _ = parts[0].partition("   <Notification>")
        notes = [
            "   <Notification>"
            + p.partition("   <Notification>")[2].rpartition("  </notifications>")[0]
            for p in parts
            if "<Notification>" in p
        ]
        tail = "  </notifications>" + parts[0].rpartition("  </notifications>")[2]
        text = (
            (head if notes else parts[0].rpartition("  </notifications>")[0])
            + "".join(notes)
            + tail
        )
        if org != account_id:  # a foreign org: the same message, another OrganizationId
            text = text.replace(self.account_id, account_id)
        return text.encode()

    def foreign_account_id(self) -> str:
        return "00D5g000009FRGNEAW"

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        return WebhookRequest("POST", f"{WEBHOOK_BASE}{OUTBOUND_SECRET}/", headers, body)

    def webhook_forged(self, request: WebhookRequest) -> WebhookRequest:
        # No signature to break: a forger does not know the secret in the URL.
        url = request.url.replace(OUTBOUND_SECRET, "guessed-secret")
        return WebhookRequest(request.method, url, request.headers, request.body)

    def webhook_malformed_bodies(self) -> list[bytes]:
        return [b"", b"{", b"<not a payload", b"<a/>", b'<?xml version="1.0"?><x:y/>']

    def webhook_response_expected(
        self, events: Sequence[CrmEvent], error: str | None
    ) -> WebhookResponse | None:
        if error is None:
            return WebhookResponse(200, SOAP_ACK, "text/xml; charset=utf-8")
        return None  # a SOAP fault: any 4xx will do


def _notification_id(event_id: str) -> str:
    """A stable notification Id per event id: a redelivery keeps its Ids."""
    serial = int(hashlib.sha256(event_id.encode()).hexdigest()[:12], 16) % 62**9
    return "04l" + make_id("Task", serial)[3:]


# -- building emulators and connectors for the Salesforce tests ----------------------------


def emulator_start(**kw: Any) -> SalesforceEmulator:
    """A started emulator: the default org (empty unless `seed=True`) and an empty second
    org for the isolation tests."""
    kw.setdefault("seed", False)
    emu = SalesforceEmulator(**kw).start()
    emu.org_add(OTHER_ORG, OTHER_USERNAME)
    return emu


def connector_for(
    emu: SalesforceEmulator, org_id: str | None = None, **options: Any
) -> SalesforceConnector:
    """A connector on `org_id` (the default org when None) through the JWT bearer flow."""
    store = emu.org(org_id)
    options.setdefault("outbound_secret", OUTBOUND_SECRET)
    return SalesforceConnector(
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=store.username,
        private_key=emu.private_key_pem,
        account=store.org_id,
        ca_cert=emu.ca_path,
        **options,
    )


def feed_pages(
    connector: Any, object_type: str, cursor: str | None = None
) -> tuple[list[Page], str]:
    """Read a feed to its end from `cursor`: every page and the cursor to resume from."""
    pages: list[Page] = []
    for _ in range(1000):
        page = connector.read_page(object_type, cursor)
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages, cursor
    raise AssertionError("the feed never ended")


__all__ = ["ORG_ID", "OTHER_ORG", "SalesforceSeeder", "connector_for", "emulator_start"]
