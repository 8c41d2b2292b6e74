"""The one CRM connector contract: neutral records, actions, events and errors.

Every connector (local, HubSpot, Salesforce) implements `CrmConnector` and passes the
conformance suite in `connectors/testing.py`. Nothing here imports Django or a vendor SDK,
so services and the pure packages can depend on it freely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


ActionStatus = Literal["created", "exists", "updated", "failed"]


@dataclass(frozen=True)
class ActionResult:
    """What the CRM did with one action: created it, found it done, updated it, or failed.

    A `failed` outcome carries the vendor's message in `error` and says whether trying again
    later may succeed (`retriable`, with the vendor's `retry_after` seconds when it gave one),
    so a partial batch failure (HubSpot 207, Salesforce allOrNone=false) is expressed per
    action instead of raised for the whole batch.
    """

    idempotency_key: str
    status: ActionStatus
    external_id: str = ""
    error: str = ""
    retriable: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class Page:
    """One page of a sync: records changed (or all records, in backfill) after a cursor.

    `next_cursor` is where the next call resumes; the caller saves it after storing the page
    and never looks inside (timestamp + id + look-back, or a vendor token: the connector's
    business). `has_more` is False when the connector is caught up for now. `deleted_ids` are
    records deleted or merged away since the cursor, as the CRM reports them.
    """

    records: list[CrmRecord]
    deleted_ids: list[str]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True)
class Capabilities:
    """What a connector declares about its CRM, so callers adapt instead of guessing.

    `rate_limits` are the buckets the shared limiter enforces per connection: name ->
    (calls, per seconds); "burst" guards every call, "search" the search endpoints, "daily" the
    vendor's daily budget. `sync_omits` names the neutral fields ("deal.stage_entered_at")
    that `read_page` records leave out (absent keys: the vendor charges extra to read them,
    e.g. HubSpot's property history), so the record mirror lacks them while `get_many` has
    them; a selector over the mirror that names one cannot be trusted (`connection_check`).
    """

    batch_size: int = 100
    page_size: int = 100
    search_limit: int | None = None  # the vendor's cap on one search's results, e.g. 10,000
    backfill: bool = False  # a cheaper full-read mode than paging the change feed
    deletes: bool = True  # the change feed reports deletes and merges
    snapshots: bool = False  # webhook events carry whole records, not changed properties
    # Calls cross a network, so 429s, 5xx, timeouts and expired sessions happen (the
    # conformance suite's fault group runs only then).
    transport: bool = True
    # Webhook signatures carry a time, so a stale (replayed later) delivery is refused.
    webhook_timestamps: bool = True
    rate_limits: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    sync_omits: tuple[str, ...] = ()  # "object.field" names feed records leave out


@dataclass(frozen=True)
class CheckLine:
    """One finding of `check()`: what was checked, how it stands and whether it blocks runs."""

    topic: str  # identity | scopes | properties | values | rate_limit
    status: Literal["ok", "warning", "problem"]
    message: str
    blocking: bool = False
    fix: str = ""  # what `provision` (or a human) would do about it


@dataclass(frozen=True)
class CheckReport:
    """What `check()` found: the account it reached, as whom, and one line per finding."""

    account_id: str
    user: str
    lines: list[CheckLine]

    @property
    def blocking(self) -> list[CheckLine]:
        return [line for line in self.lines if line.blocking]


@dataclass(frozen=True)
class WebhookResponse:
    """The HTTP answer a connector wants sent for a webhook delivery (its vendor's format)."""

    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class CrmEvent:
    """A neutral change event, from a webhook or from the local CRM's signals.

    `name` is "<object>.created", "<object>.property_changed" (with `property` and `value`)
    or "<object>.activity_logged" (with `value` the activity kind).
    `event_id` is the CRM's id for the event, the dedupe key. `origin` is "salesops" when the
    change came from our own write-back (HubSpot's changeSource, Salesforce's last-modified
    user): the router records such events but starts no runs, so an SOP never loops on itself.
    A *snapshot* event ("<object>.snapshot", e.g. a Salesforce Outbound Message) carries the
    record's neutral fields in `snapshot` and no changed-field list: the router diffs it
    against the record mirror into `created` / `property_changed` events. `account_id` is
    the vendor account the event says it came from ("" when the payload does not say).
    """

    event_id: str
    name: str
    record: RecordRef
    occurred_at: datetime
    property: str | None = None
    value: Any = None
    source: str = "local"
    origin: str = ""
    snapshot: Mapping[str, Any] | None = None
    account_id: str = ""


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
    """What salesops needs from a CRM (protocol version 2). All names are neutral; vendor
    types stay inside. Every connector passes `connectors/testing.py`."""

    kind: str
    capabilities: Capabilities

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        """The next page of `object_type` after `cursor` (None: from the beginning).

        `backfill=True` asks for the connector's cheaper full-read mode where it declares one
        (`capabilities.backfill`). The last `next_cursor` of a finished backfill pass must be a
        valid change-feed cursor (the sync carries on from it without a second full read).

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

        Returns one result per action, in order; an action the CRM refused is a `failed`
        result (a missing record is a permanent one), not an exception.

        Raises:
            RetriableCRMError, PermanentCRMError: the whole call failed (auth, 429, 5xx).
        """
        ...

    def check(self, *, provision: bool = False) -> CheckReport:
        """Identity, permissions, the properties SOPs need and rate-limit headroom.

        With `provision`, first create what the connector may create itself (custom
        properties), and report what it could not.
        """
        ...

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True when the request is authentic (signature, timestamp window)."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        """Turn an authentic webhook body into neutral events. Raises ValueError on bad input."""
        ...

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        """The answer for a delivery: `events` stored (or `error`, why it was refused)."""
        ...
