"""The neutral values SOPs compare, and the per-connection mapping to a vendor's own values.

SOP files only ever hold these values: a deal stage is one of `DEAL_STAGES` (the stage's
neutral key; `stage_status` says open / closedwon / closedlost), a lead status one of
`LEAD_STATUSES`, a lifecycle stage one of `LIFECYCLE_STAGES`. A connection's mapping
(`{"deal.stage": {"<vendor value>": "<neutral value>"}}`) translates a CRM's ids and labels
(a HubSpot pipeline stage id, a Salesforce picklist label) both ways; a connector calls
`value_to_neutral` on every read and `value_to_vendor` on every write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Neutral deal stages, in pipeline order, with their status.
DEAL_STAGES: dict[str, str] = {
    "appointmentscheduled": "open",
    "qualifiedtobuy": "open",
    "presentationscheduled": "open",
    "decisionmakerboughtin": "open",
    "contractsent": "open",
    "closedwon": "closedwon",
    "closedlost": "closedlost",
}
STAGE_STATUSES = ("open", "closedwon", "closedlost")
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

# "<object>.<property>" -> the neutral values it may take.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "deal.stage": tuple(DEAL_STAGES),
    "contact.lead_status": LEAD_STATUSES,
    "contact.lifecycle_stage": LIFECYCLE_STAGES,
}

Mapping_ = Mapping[str, Mapping[str, str]]


def value_key(value: Any) -> str:
    """A vendor value compared loosely: "Closed Won" and "closedwon" are the same key."""
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def value_to_neutral(field: str, value: Any, mapping: Mapping_) -> Any:
    """The neutral value of a vendor's `value` for `field` ("deal.stage"); unmapped values
    that already are neutral (after loose matching) pass, anything else passes unchanged so
    `check()` can report it instead of a read failing."""
    if value is None or field not in VOCABULARY:
        return value
    table = mapping.get(field, {})
    if str(value) in table:
        return table[str(value)]
    loose = {value_key(k): v for k, v in table.items()}
    if value_key(value) in loose:
        return loose[value_key(value)]
    neutral = {value_key(v): v for v in VOCABULARY[field]}
    return neutral.get(value_key(value), value)


def value_to_vendor(field: str, value: Any, mapping: Mapping_) -> Any:
    """The vendor value to write for a neutral `value` (the first mapping entry naming it)."""
    if value is None or field not in VOCABULARY:
        return value
    for vendor, neutral in mapping.get(field, {}).items():
        if neutral == value:
            return vendor
    return value


def unmapped_values(field: str, vendor_values: list[str], mapping: Mapping_) -> list[str]:
    """The vendor's values for `field` that map to no neutral value (for `check()`)."""
    allowed = set(VOCABULARY.get(field, ()))
    return [v for v in vendor_values if value_to_neutral(field, v, mapping) not in allowed]


def stage_status(stage: Any) -> str | None:
    """open / closedwon / closedlost for a neutral stage (unknown stages count as open)."""
    if stage is None:
        return None
    return DEAL_STAGES.get(str(stage), "open")
