"""The bounds every delivery's neutral events pass before any is stored, whatever the CRM.

The connector's parser bounds the body (size, depth, encoding, numbers); these bounds are what
the rows need: ids that fit their columns and read the same in every database, a timestamp a
database and `datetime` can hold, and a value the JSON column stores as sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from django.db.models import CharField

from connectors.base import CrmEvent
from connectors.inputs import InputRejected, Limits, text_check, value_check
from salesops.models import WebhookEvent

MAX_BYTES = 1_000_000  # a body larger than this is refused unread (413)
MAX_EVENTS = 100  # per delivery, as HubSpot batches them; one delivery holds the writer briefly
# Occurrence times a CRM can honestly send; outside, a date is an error or an attack.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
KIND_LENGTH = 20  # a connector kind or an origin ("salesops")
VALUE_LIMITS = Limits(max_depth=4, max_items=1_000, max_string=65_536, max_int_digits=20)
# Printable ASCII without spaces: CRM ids (numeric, Salesforce's 18 characters, our "c-001",
# "local:contact.created:c-001") fit, and every database compares them byte for byte.
_ID = re.compile(r"[!-~]+")


@functools.cache
def _column(name: str) -> int:
    field = WebhookEvent._meta.get_field(name)
    assert isinstance(field, CharField) and field.max_length is not None
    return field.max_length


def delivery_check(events: Sequence[CrmEvent]) -> None:
    """Refuse the delivery when it has too many events or any event is out of bounds.

    Raises InputRejected naming the first bad event (413 for too many events, else 400).
    """
    if len(events) > MAX_EVENTS:
        raise InputRejected(
            f"this delivery has {len(events)} events; the limit is {MAX_EVENTS}", status=413
        )
    for i, event in enumerate(events):
        event_check(event, where=f"events[{i}]")


def event_check(event: CrmEvent, *, where: str) -> None:
    """One event within the columns it is stored in; raises InputRejected naming the field."""
    _id_check(event.event_id, max_length=_column("event_id"), where=f"{where}.event_id")
    _id_check(event.record.id, max_length=_column("record_id"), where=f"{where}.id")
    text_check(event.name, max_length=_column("name"), where=f"{where}.name")
    text_check(event.source, max_length=KIND_LENGTH, where=f"{where}.source")
    text_check(event.record.object_type, max_length=_column("object_type"), where=where)
    text_check(event.origin, max_length=KIND_LENGTH, where=f"{where}.origin")
    text_check(event.account_id, max_length=KIND_LENGTH * 4, where=f"{where}.account_id")
    if event.property is not None:
        text_check(event.property, max_length=_column("name"), where=f"{where}.property")
    value = event.value
    if not isinstance(value, str | int | float | bool | list | dict | type(None)):
        value = str(value)  # dates and decimals are stored as their text
    value_check(value, VALUE_LIMITS, where=f"{where}.value")
    stamp = event.occurred_at
    if not isinstance(stamp, datetime) or stamp.tzinfo is None:
        raise InputRejected(f"{where}.occurred_at: needs a timestamp with a UTC offset")
    if not EARLIEST <= stamp < LATEST:
        raise InputRejected(
            f"{where}.occurred_at: {stamp.isoformat()} is outside {EARLIEST.year}-{LATEST.year}"
        )


def _id_check(value: str, *, max_length: int, where: str) -> None:
    text_check(value, max_length=max_length, where=where)
    if not _ID.fullmatch(value):
        raise InputRejected(f"{where}: an id is printable ASCII without spaces")
