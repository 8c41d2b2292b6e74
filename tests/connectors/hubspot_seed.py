"""`HubSpotSeeder`: the conformance suite's hands inside the HubSpot emulator (one portal).

Writes go straight to the emulator's portal store (as a user in HubSpot's UI would), reads
come back from it, faults are scripted on the emulator, and webhook bodies are HubSpot's
event arrays signed with the emulator's own v3 signer.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connectors.base import CrmEvent, CrmRecord, Page, RecordRef, WebhookRequest
from connectors.hubspot.client import MAX_IN_CALL_WAIT, SDK_RETRIES
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.properties import NAMES, OBJECTS, value_from_hubspot
from connectors.record_model import OBJECT_FIELDS
from connectors.testing import Seeder
from tests.emulators.framework import HttpError, RateLimited, ServerError, SessionExpired
from tests.emulators.hubspot_api import ALL_SCOPES, HubSpotEmulator
from tests.emulators.hubspot_model import parse_moment
from tests.emulators.hubspot_store import PortalStore
from tests.emulators.hubspot_webhooks import signature_v3, webhook_event

WEBHOOK_URL = "https://salesops.example.com/webhooks/hubspot/hubspot/"
ENGAGEMENT = {
    "call": "calls",
    "email": "emails",
    "meeting": "meetings",
    "note": "notes",
    "task": "tasks",
}
SUBJECT_BODY = {
    "calls": ("hs_call_title", "hs_call_body"),
    "emails": ("hs_email_subject", "hs_email_text"),
    "meetings": ("hs_meeting_title", "hs_meeting_body"),
    "notes": (None, "hs_note_body"),
    "tasks": ("hs_task_subject", "hs_task_body"),
}
# Each in-call SDK attempt meets one scripted fault: a fault the SDK retries inside a call
# is queued once per attempt, so the connector's caller sees it.
ATTEMPTS = 1 + SDK_RETRIES


def hubspot_values(object_type: str, props: dict[str, Any]) -> dict[str, str]:
    """Neutral seed values as HubSpot property text."""
    out = {}
    for name, value in props.items():
        vendor = NAMES[object_type][name]
        out[vendor] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


class HubSpotSeeder(Seeder):
    """Seeds one portal of `emu`; `portal` None is the emulator's first portal."""

    writable_properties: dict[str, dict[str, Any]] = {
        "contact": {"lead_status": "IN_PROGRESS", "ai_score": 72},
        "deal": {"ai_health": "amber"},
    }

    def __init__(self, emu: HubSpotEmulator, portal: int | None = None) -> None:
        self.emu = emu
        self.store: PortalStore = emu.portal(portal)
        self.account_id = str(self.store.portal_id)

    # -- records ---------------------------------------------------------------------------

    def _create(self, object_type: str, props: dict[str, Any]) -> str:
        return self.store.create(
            OBJECTS[object_type], hubspot_values(object_type, props), source="CRM_UI"
        ).id

    def seed_company(self, props: dict[str, Any]) -> str:
        return self._create("company", props)

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        contact = self._create("contact", props)
        if company_id:
            self.store.associate("contacts", contact, "companies", company_id, 279)
        return contact

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        deal = self._create("deal", props)
        if company_id:
            self.store.associate("deals", deal, "companies", company_id, 341)
        for contact in contact_ids:
            self.store.associate("deals", deal, "contacts", contact, 3)
        return deal

    def seed_activity(
        self, ref: RecordRef, *, kind: str, timestamp: datetime, subject: str = "", body: str = ""
    ) -> str:
        hs_type = ENGAGEMENT[kind]
        subject_prop, body_prop = SUBJECT_BODY[hs_type]
        props = {"hs_timestamp": timestamp.isoformat(), body_prop: body}
        if subject_prop:
            props[subject_prop] = subject
        obj = self.store.create(hs_type, props, source="CRM_UI")
        self.store.associate(hs_type, obj.id, OBJECTS[ref.object_type], ref.id)
        return obj.id

    def seed_update(self, ref: RecordRef, props: dict[str, Any]) -> None:
        values = hubspot_values(ref.object_type, props)
        self.store.update(OBJECTS[ref.object_type], ref.id, values, source="CRM_UI")

    def seed_delete(self, ref: RecordRef) -> None:
        self.store.archive(OBJECTS[ref.object_type], ref.id, source="CRM_UI")

    @contextmanager
    def same_timestamp(self) -> Iterator[None]:
        with self.store.same_timestamp():
            yield

    # -- reading behind the connector's back -----------------------------------------------

    def fetch_ids(self, object_type: str) -> set[str]:
        return {o.id for o in self.store.live(OBJECTS[object_type])}

    def _engagements(self, ref: RecordRef, hs_type: str) -> list[dict[str, str]]:
        linked = self.store.associated(OBJECTS[ref.object_type], ref.id, hs_type)
        return [self.store.objects[hs_type][i].properties for i in sorted(linked, key=int)]

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        return [p.get("hs_note_body", "") for p in self._engagements(ref, "notes")]

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        return [
            {
                "subject": p.get("hs_task_subject"),
                "body": p.get("hs_task_body"),
                "due_date": parse_moment(p["hs_timestamp"]).date(),
                "owner": p.get("hubspot_owner_id") or None,
            }
            for p in self._engagements(ref, "tasks")
        ]

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        obj = self.store.objects[OBJECTS[ref.object_type]][ref.id]
        fields = OBJECT_FIELDS[ref.object_type]
        return {
            neutral: value_from_hubspot(fields[neutral], obj.properties.get(vendor))
            for neutral, vendor in NAMES[ref.object_type].items()
        }

    def missing_id(self, object_type: str) -> str:
        return "987654321"

    # -- faults ----------------------------------------------------------------------------

    def fault_next(self, fault: str, *, times: int = 1, retry_after: float | None = None) -> None:
        if fault == "expired_session":
            self.emu.fail(SessionExpired(), times=times)
        elif fault == "400":
            self.emu.fail(HttpError(400, "scripted bad request"), times=times)
        elif fault == "429":
            wait = 1.0 if retry_after is None else retry_after
            # A short Retry-After is slept through inside the call; a long one surfaces.
            attempts = ATTEMPTS if wait <= MAX_IN_CALL_WAIT else 1
            self.emu.fail(RateLimited(wait), times=times * attempts)
        else:
            self.emu.fail(ServerError(int(fault), retry_after=retry_after), times=times * ATTEMPTS)

    # -- webhooks --------------------------------------------------------------------------

    def _event(self, event: CrmEvent, portal: int) -> dict[str, Any]:
        object_type, _, action = event.name.partition(".")
        number = int(hashlib.sha256(event.event_id.encode()).hexdigest()[:8], 16)
        extra: dict[str, Any] = {}
        kind = {"created": "creation", "property_changed": "propertyChange"}[action]
        if event.property is not None:
            extra = {
                "property_name": NAMES[object_type][event.property],
                "property_value": None if event.value is None else str(event.value),
            }
        return webhook_event(
            f"{object_type}.{kind}",
            event.record.id,
            portal_id=portal,
            app_id=self.emu.app_id,
            occurred_at=int(event.occurred_at.timestamp() * 1000),
            event_id=number,
            **extra,
        )

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        return self.webhook_body_of(events, self.account_id)

    def webhook_body_of(self, events: Sequence[CrmEvent], account_id: str) -> bytes:
        return json.dumps([self._event(e, int(account_id)) for e in events]).encode()

    def foreign_account_id(self) -> str:
        return str(int(self.account_id) + 1)

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        return self.webhook_signed_at(body, datetime.fromtimestamp(time.time()).astimezone())

    def webhook_signed_at(self, body: bytes, at: datetime) -> WebhookRequest:
        stamp = int(at.timestamp() * 1000)
        signature = signature_v3(self.emu.client_secret, "POST", WEBHOOK_URL, body, stamp)
        headers = {
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": str(stamp),
            "Content-Type": "application/json",
        }
        return WebhookRequest("POST", WEBHOOK_URL, headers, body)

    def webhook_forged(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.method, request.url, request.headers, request.body + b" ")

    def webhook_malformed_bodies(self) -> list[bytes]:
        return [b"", b"{", b"<not a payload", b"{}", b'[{"eventId": "x"}]']

    def webhook_response_expected(self, events: Sequence[CrmEvent], error: str | None) -> None:
        return None


# -- building emulators and connectors for the HubSpot tests --------------------------------

SCOPES = ALL_SCOPES
PORTAL, OTHER_PORTAL = 111, 222
TOKEN, OTHER_TOKEN = "pat-na1-test", "pat-na1-other"


def emulator_start(**kw: Any) -> HubSpotEmulator:
    """A started emulator: portal 111 (empty unless `seed=True`) and an empty portal 222
    whose ids start elsewhere (HubSpot ids are unique across portals)."""
    kw.setdefault("seed", False)
    emu = HubSpotEmulator(portal_id=PORTAL, token=TOKEN, scopes=SCOPES, **kw).start()
    emu.add_portal(OTHER_PORTAL, token=OTHER_TOKEN, scopes=SCOPES, seed=False, id_offset=500_000)
    return emu


def connector_for(
    emu: HubSpotEmulator,
    portal: int = PORTAL,
    *,
    oauth: bool = False,
    provision: bool = True,
    **kw: Any,
) -> HubSpotConnector:
    """A connector on `portal` (private-app token, or OAuth with a refresh token), with our
    properties provisioned."""
    if oauth:
        access, refresh = emu.oauth_token(portal, lifetime=86_400, scopes=SCOPES)
        kw.update(access_token=access, refresh_token=refresh, client_id="client-id")
    else:
        kw["access_token"] = TOKEN if portal == PORTAL else OTHER_TOKEN
    connector = HubSpotConnector(
        base_url=emu.base_url, client_secret=emu.client_secret, account=str(portal), **kw
    )
    if provision:
        connector.check(provision=True)
    return connector


def feed_pages(
    connector: Any, object_type: str, cursor: str | None = None, *, backfill: bool
) -> tuple[list[Page], str]:
    """Read a feed to its end from `cursor`: every page and the cursor to resume from."""
    pages: list[Page] = []
    for _ in range(1000):
        page = connector.read_page(object_type, cursor, backfill=backfill)
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages, cursor
    raise AssertionError("the feed never ended")


def feed_records(
    connector: Any, object_type: str, cursor: str | None = None, *, backfill: bool
) -> tuple[list[CrmRecord], str]:
    """`feed_pages`, flattened to the records read."""
    pages, cursor = feed_pages(connector, object_type, cursor, backfill=backfill)
    return [record for page in pages for record in page.records], cursor
