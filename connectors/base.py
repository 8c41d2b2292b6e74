"""The one CRM connector contract: neutral records, actions, events and errors.

Every connector (local, HubSpot, Salesforce) implements `CrmConnector` and passes the
conformance suite in `connectors/testing.py`. Nothing here imports Django or a vendor SDK,
so services and the pure packages can depend on it freely.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol, runtime_checkable

ObjectType = Literal["contact", "company", "deal"]
OBJECT_TYPES: tuple[str, ...] = ("contact", "company", "deal")
ActivityKind = Literal["call", "email", "meeting", "note", "task"]


@dataclass(frozen=True)
class RecordRef:
    """A pointer to one CRM record: its neutral object type and the CRM's own id."""

    object_type: str
    id: str

    def __str__(self) -> str:
        return f"{self.object_type}:{self.id}"


@dataclass
class CrmRecord:
    """One record with neutral property names (SALES.md section 1) and its associations.

    `associations` maps a relation name of `record_model.RELATIONS` ("company", "contacts",
    "deals") to the ids of the associated records.
    """

    object_type: str
    id: str
    properties: dict[str, Any]
    last_modified: datetime | None = None
    associations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.object_type, self.id)


@dataclass
class Activity:
    """A logged interaction (call, email, meeting, note, task) associated with records."""

    id: str
    kind: str
    timestamp: datetime
    subject: str = ""
    body: str = ""
    direction: str = ""  # "inbound" | "outbound" | ""
    outcome: str = ""
    ai_generated: bool = False


@dataclass(frozen=True)
class NoteAction:
    """Create a note on a record. `idempotency_key` makes a repeat a no-op."""

    record: RecordRef
    body: str
    idempotency_key: str
    kind: Literal["note"] = "note"


@dataclass(frozen=True)
class TaskAction:
    """Create a task for the record's owner, due on `due_date`."""

    record: RecordRef
    subject: str
    body: str
    due_date: date
    idempotency_key: str
    owner_id: str | None = None
    priority: str = "MEDIUM"  # LOW | MEDIUM | HIGH
    kind: Literal["task"] = "task"


@dataclass(frozen=True)
class PropertyUpdate:
    """Set neutral properties on a record. Setting the same values twice is harmless."""

    record: RecordRef
    properties: Mapping[str, Any]
    idempotency_key: str
    kind: Literal["set_property"] = "set_property"


Action = NoteAction | TaskAction | PropertyUpdate


@dataclass(frozen=True)
class ActionResult:
    """What the CRM did with one action: created it, found it already done, or updated it."""

    idempotency_key: str
    status: Literal["created", "exists", "updated"]
    external_id: str = ""


@dataclass(frozen=True)
class CrmEvent:
    """A neutral change event, from a webhook or from the local CRM's signals.

    `name` is "<object>.created", "<object>.property_changed" (with `property` and `value`)
    or "<object>.activity_logged" (with `value` the activity kind).
    `event_id` is the CRM's id for the event, the dedupe key. `origin` is "salesops" when the
    change came from our own write-back (HubSpot's changeSource, Salesforce's last-modified
    user): the router records such events but starts no runs, so an SOP never loops on itself.
    """

    event_id: str
    name: str
    record: RecordRef
    occurred_at: datetime
    property: str | None = None
    value: Any = None
    source: str = "local"
    origin: str = ""


@dataclass(frozen=True)
class WebhookRequest:
    """The parts of an inbound HTTP request a connector needs, free of any web framework."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class CRMError(Exception):
    """Base of every error a connector raises. SDK exceptions never escape a connector."""


class RetriableCRMError(CRMError):
    """Worth retrying later: rate limits, timeouts, 5xx."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentCRMError(CRMError):
    """Retrying will not help: bad input, missing permission, validation error."""


class RecordNotFound(PermanentCRMError):
    """The record does not exist (deleted, merged or never there)."""


@runtime_checkable
class CrmConnector(Protocol):
    """What salesops needs from a CRM. All names are neutral; vendor types stay inside."""

    kind: str

    def iter_changed(self, object_type: str, since: datetime | None) -> Iterator[CrmRecord]:
        """Yield records of `object_type` modified after `since` (all when None), oldest first.

        Raises:
            RetriableCRMError, PermanentCRMError.
        """
        ...

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Read records by id, with associations. Missing ids are simply absent from the result."""
        ...

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        """The record's activities, newest first, at most `limit`."""
        ...

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Perform notes, tasks and property updates, idempotently by `idempotency_key`.

        Raises:
            RecordNotFound: the target record is gone.
            RetriableCRMError, PermanentCRMError.
        """
        ...

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True when the request is authentic (signature, timestamp window)."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        """Turn an authentic webhook body into neutral events. Raises ValueError on bad input."""
        ...
