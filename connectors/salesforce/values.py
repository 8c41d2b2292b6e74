"""Salesforce values as neutral ones and back: datetimes, picklist labels (stages, Lead
Status, forecast categories, Account Type), websites and the lifecycle of Leads and Contacts.

Each value table is Salesforce's defaults (`DEFAULT_VALUES`) under the connection's mapping,
which wins: `values_merged`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from connectors.base import PermanentCRMError
from connectors.vocabulary import value_key, value_to_neutral, value_to_vendor

ValueMapping = Mapping[str, Mapping[str, str]]

FORECAST: dict[str, str] = {
    "Pipeline": "pipeline",
    "Best Case": "best_case",
    "Commit": "commit",
    "Omitted": "omitted",
    "Closed": "closed",
}
CUSTOMER_STATUS: dict[str, str] = {
    "Prospect": "prospect",
    "Customer - Direct": "customer",
    "Customer - Channel": "customer",
    "Other": "other",
}
# Salesforce's default values, used where the connection's mapping says nothing.
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "deal.stage": {
        "Prospecting": "appointmentscheduled",
        "Qualification": "qualifiedtobuy",
        "Needs Analysis": "qualifiedtobuy",
        "Value Proposition": "presentationscheduled",
        "Id. Decision Makers": "decisionmakerboughtin",
        "Perception Analysis": "decisionmakerboughtin",
        "Proposal/Price Quote": "contractsent",
        "Negotiation/Review": "contractsent",
        "Closed Won": "closedwon",
        "Closed Lost": "closedlost",
    },
    "contact.lead_status": {
        "Open - Not Contacted": "NEW",
        "Working - Contacted": "IN_PROGRESS",
        "Closed - Converted": "OPEN_DEAL",
        "Closed - Not Converted": "UNQUALIFIED",
        # Lightning's newer default set.
        "Working": "IN_PROGRESS",
        "Contacted": "CONNECTED",
        "Nurturing": "BAD_TIMING",
        "Qualified": "OPEN_DEAL",
    },
    # Lead Status -> lifecycle stage; any other status of a Lead is "lead".
    "contact.lifecycle_stage": {
        "Closed - Converted": "salesqualifiedlead",
        "Qualified": "salesqualifiedlead",
        "Closed - Not Converted": "other",
        "Unqualified": "other",
    },
}


def values_merged(mapping: ValueMapping | None, field: str) -> dict[str, str]:
    """The value table of `field`: the connection's entries first (they win, and come first
    for writes), then Salesforce's defaults it does not override."""
    merged = dict((mapping or {}).get(field, {}))
    for vendor, neutral in DEFAULT_VALUES.get(field, {}).items():
        merged.setdefault(vendor, neutral)
    return merged


def parse_moment(value: Any) -> datetime | None:
    """A Salesforce datetime ("2025-03-04T12:00:00.000+0000") or date as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def value_from_salesforce(kind: str, value: Any) -> Any:
    """A Salesforce JSON value as the neutral field type; bad values are None, never errors."""
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(float(value))
        if kind == "double":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if kind == "timestamp":
            return parse_moment(value)
        if kind == "date":
            moment = parse_moment(value)
            return moment.date() if moment else None
    except (TypeError, ValueError):
        return None
    return str(value)


def domain_from_website(website: Any) -> str | None:
    """The neutral company domain of a Website: "https://www.Acme.test/x" is "acme.test"."""
    if not website:
        return None
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", str(website).strip().lower())
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    return host.removeprefix("www.") or None


def stage_to_neutral(
    stage: Any, mapping: ValueMapping | None, *, closed: Any = None, won: Any = None
) -> Any:
    """The neutral stage of a StageName: the mapping (then the defaults), else by the row's
    IsClosed/IsWon; an open stage nothing maps stays as is, for check() to report."""
    if stage is None or stage == "":
        return None
    mapped = value_to_neutral(
        "deal.stage", stage, {"deal.stage": values_merged(mapping, "deal.stage")}
    )
    # The org's own word on closed stages beats a stale mapping.
    if closed is True and mapped not in ("closedwon", "closedlost"):
        return "closedwon" if won is True else "closedlost"
    return mapped


def stage_to_vendor(
    neutral: Any, mapping: ValueMapping | None, labels: list[str] | None = None
) -> str:
    """The StageName to write for a neutral stage: the connection's mapping, else the first
    of the org's `labels` (when known) that maps to it, else Salesforce's default."""
    table = values_merged(mapping, "deal.stage")
    own = dict((mapping or {}).get("deal.stage", {}))
    if neutral in own.values():
        return str(value_to_vendor("deal.stage", neutral, {"deal.stage": own}))
    for label in labels or []:
        if stage_to_neutral(label, mapping) == neutral:
            return label
    vendor = value_to_vendor("deal.stage", neutral, {"deal.stage": table})
    if vendor == neutral and neutral not in table:
        raise PermanentCRMError(f"deal.stage: no Salesforce stage maps to {neutral!r}")
    return str(vendor)


def lifecycle_of_lead(status: Any, mapping: ValueMapping | None) -> str:
    """A Lead's lifecycle stage from its Status ("lead" unless the table says otherwise)."""
    table = values_merged(mapping, "contact.lifecycle_stage")
    if status is not None:
        if str(status) in table:
            return table[str(status)]
        loose = {value_key(k): v for k, v in table.items()}
        return loose.get(value_key(status), "lead")
    return "lead"


def lifecycle_of_contact(deal_states: list[str] | None) -> str | None:
    """A Contact's lifecycle stage from its deals' stage statuses: customer once one is won,
    opportunity while one is open, else salesqualifiedlead (a Contact is a qualified Lead).
    None when the deals were not read (the feed)."""
    if deal_states is None:
        return None
    if "closedwon" in deal_states:
        return "customer"
    if "open" in deal_states:
        return "opportunity"
    return "salesqualifiedlead"


def label_key(raw: Any, table: Mapping[str, str]) -> str | None:
    """A picklist label as a neutral key: the table's, else "Best Case" -> "best_case"."""
    if raw is None or raw == "":
        return None
    return table.get(str(raw)) or re.sub(r"\W+", "_", str(raw).strip().lower()).strip("_")
