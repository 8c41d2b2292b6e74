"""`Seeder`: how the conformance suite puts data into, and reads it back from, the CRM."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.base import CrmEvent, RecordRef, WebhookRequest, WebhookResponse

FAULTS = ("429", "500", "503", "400", "expired_session")


class Seeder:
    """Seeds one account of the CRM under test behind the connector's back.

    Each `seed_*` returns the new record's CRM id. Records created later must have a later
    last-modified time than earlier ones (an emulator or the local seeder may fake the
    clock), except inside `same_timestamp()`.
    """

    # The account the seeder writes to, as the connector's `check()` and events report it.
    account_id: str = ""
    # Values the suite writes through PropertyUpdate; override where a CRM lacks one.
    writable_properties: dict[str, dict[str, Any]] = {
        "contact": {"lead_status": "IN_PROGRESS", "ai_score": 72},
        "deal": {"ai_health": "amber"},
    }

    # -- records ---------------------------------------------------------------------------

    def seed_company(self, props: dict[str, Any]) -> str:
        raise NotImplementedError

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        raise NotImplementedError

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        raise NotImplementedError

    def seed_activity(
        self, ref: RecordRef, *, kind: str, timestamp: datetime, subject: str = "", body: str = ""
    ) -> str:
        raise NotImplementedError

    def seed_update(self, ref: RecordRef, props: dict[str, Any]) -> None:
        """Change a record as a user would, moving its last-modified time forward."""
        raise NotImplementedError

    def seed_delete(self, ref: RecordRef) -> None:
        """Delete a record as a user would (the change feed must report it)."""
        raise NotImplementedError

    @contextmanager
    def same_timestamp(self) -> Iterator[None]:
        """Records seeded or updated inside the block share one last-modified time."""
        raise NotImplementedError
        yield  # pragma: no cover

    # -- reading behind the connector's back -----------------------------------------------

    def fetch_ids(self, object_type: str) -> set[str]:
        """Every id of `object_type` in the seeder's account."""
        raise NotImplementedError

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        """Bodies of the notes on the record, read behind the connector's back."""
        raise NotImplementedError

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        """Tasks on the record as {"subject", "body", "due_date": date}."""
        raise NotImplementedError

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        """The record's stored neutral properties, read behind the connector's back."""
        raise NotImplementedError

    def missing_id(self, object_type: str) -> str:
        """An id no record of `object_type` has."""
        return "missing-000000"

    # -- transport faults (only for connectors with capabilities.transport) ----------------

    def fault_next(self, fault: str, *, times: int = 1, retry_after: float | None = None) -> None:
        """Make the CRM's next `times` calls answer `fault` (one of `FAULTS`): an HTTP status
        (429 with `retry_after` as its Retry-After) or an expired session."""
        raise NotImplementedError

    # -- webhooks --------------------------------------------------------------------------

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        """The CRM's webhook body announcing `events` (snapshot events included)."""
        raise NotImplementedError

    def webhook_body_of(self, events: Sequence[CrmEvent], account_id: str) -> bytes:
        """The same body, as a delivery from account `account_id`."""
        raise NotImplementedError

    def foreign_account_id(self) -> str:
        """An account id that is not the seeder's."""
        return f"not-{self.account_id or 'this'}"

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        """A request carrying `body`, authenticated the way the CRM does it."""
        raise NotImplementedError

    def webhook_signed_at(self, body: bytes, at: datetime) -> WebhookRequest:
        """The request as signed at `at` (for connectors with capabilities.webhook_timestamps)."""
        raise NotImplementedError

    def webhook_forged(self, request: WebhookRequest) -> WebhookRequest:
        """The request altered after signing; the default changes the body."""
        return replace(request, body=request.body + b" ")

    def webhook_malformed_bodies(self) -> list[bytes]:
        """Bodies `parse_webhook` must reject with ValueError, even when signed."""
        return [b"", b"{", b"<not a payload"]

    def webhook_response_expected(
        self, events: Sequence[CrmEvent], error: str | None
    ) -> WebhookResponse | None:
        """The answer the vendor expects for a delivery (e.g. a SOAP Ack); None: any 2xx for
        success and 4xx for a refusal will do."""
        return None
