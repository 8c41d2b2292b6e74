"""An Outbound Message's sObject fields (SOAP text) as a neutral snapshot of what was sent.

SOAP carries every value as text ("true", "5000.0", "2024-01-01T00:00:00.000Z") where the
REST API sends typed JSON; `connectors.salesforce.fields` maps both, once the flags it tests
by identity (IsClosed, IsWon) are booleans. A message holds only the fields its Outbound
Message was set up to send, so the snapshot keeps only the neutral fields read from a field
that was sent (a nil one included, as None): the router then never mistakes "not sent" for
"cleared".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.base import RecordRef
from connectors.salesforce.fields import NEUTRAL_OF, field_names, record_from_row

# Boolean fields by Salesforce's naming (IsWon, IsConverted, HasOptedOutOfEmail) and a few more.
_FLAG = re.compile(r"(Is|Has)[A-Z]\w*|DoNotCall", re.ASCII)
# Neutral fields computed from another field than their own (field_names does not list them).
_DERIVED: dict[str, dict[str, str]] = {
    "Lead": {"lifecycle_stage": "Status"},
    "Opportunity": {"currency": "CurrencyIsoCode"},
}


def snapshot(
    sobject: str, row: Mapping[str, str | None], mapping: Mapping[str, Any] | None = None
) -> tuple[RecordRef, dict[str, Any]] | None:
    """The record and its neutral fields that `row` (fields sent, as text) holds; None for
    an sObject no SOP runs on, or a converted Lead (its Contact is the record now, and the
    Contact's own messages describe it)."""
    if sobject not in NEUTRAL_OF:
        return None
    typed = {name: _typed(name, value) for name, value in row.items()}
    if sobject == "Lead" and typed.get("IsConverted") is True:
        return None
    values: Any = mapping or {}
    record = record_from_row(sobject, typed, values)
    sources = {**field_names(sobject, values), **_DERIVED.get(sobject, {})}
    sent = {
        name: value
        for name, value in record.properties.items()
        if sources.get(name) is not None and sources[name] in row
    }
    return record.ref, sent


def _typed(name: str, value: str | None) -> Any:
    """A flag's "true"/"false" as a boolean; every other value stays text for the mapping."""
    if value is not None and _FLAG.fullmatch(name) and value.strip() in ("true", "false"):
        return value.strip() == "true"
    return value
