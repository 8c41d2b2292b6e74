"""Neutral <-> Salesforce field names and values (SALES.md section 1).

Leads and Contacts are both neutral `contact`s (the Id prefix tells them apart: 00Q, 003),
Accounts are `company`s and Opportunities `deal`s. A connection's `mapping` overrides values
(`{"deal.stage": {"<StageName>": "<neutral>"}}`, `{"contact.lead_status": {"<Lead Status>":
...}}`, `{"contact.lifecycle_stage": {"<Lead Status>": "<lifecycle>"}}`) and field names
(`{"fields": {"deal.ai_health": "Health__c"}}`, or `"Lead.ai_score"` for one sObject).

Salesforce's REST API sends typed JSON: numbers, booleans, dates as "YYYY-MM-DD" and datetimes
as "2025-03-04T12:00:00.000+0000". Opportunity.Probability is a percent (0-100); the neutral
probability is a fraction (0-1), as HubSpot's is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import CrmRecord, PermanentCRMError
from connectors.record_model import OBJECT_FIELDS
from connectors.salesforce.values import (
    CUSTOMER_STATUS,
    DEFAULT_VALUES,
    FORECAST,
    ValueMapping,
    domain_from_website,
    label_key,
    lifecycle_of_contact,
    lifecycle_of_lead,
    parse_moment,
    stage_to_neutral,
    stage_to_vendor,
    value_from_salesforce,
    values_merged,
)
from connectors.vocabulary import value_to_neutral, value_to_vendor

__all__ = [
    "AI_FIELDS",
    "CUSTOM_FIELDS",
    "DEFAULT_VALUES",
    "NAMES",
    "NEUTRAL_OF",
    "SALESOPS_KEY",
    "SOBJECTS",
    "ValueMapping",
    "field_names",
    "fields_from_neutral",
    "parse_moment",
    "record_from_row",
    "select_fields",
    "sobject_of",
    "valid_id",
    "values_merged",
]

SOBJECTS: dict[str, tuple[str, ...]] = {
    "contact": ("Contact", "Lead"),
    "company": ("Account",),
    "deal": ("Opportunity",),
}
NEUTRAL_OF: dict[str, str] = {s: ot for ot, names in SOBJECTS.items() for s in names}
# The key prefix (first three characters) of every Id names its sObject.
ID_PREFIXES: dict[str, str] = {
    "001": "Account",
    "003": "Contact",
    "00Q": "Lead",
    "006": "Opportunity",
    "00T": "Task",
    "00U": "Event",
    "005": "User",
    "00D": "Organization",
}
# The idempotency key of our notes and tasks: a unique external id field on Task.
SALESOPS_KEY = "Salesops_Key__c"
LAST_MODIFIED = "SystemModstamp"
# Custom fields holding the ai_* outputs SOPs write (created by provisioning).
AI_FIELDS: dict[str, dict[str, str]] = {
    "contact": {"ai_score": "ai_score__c", "ai_tier": "ai_tier__c"},
    "deal": {"ai_health": "ai_health__c"},
}

_PERSON = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "job_title": "Title",
    "lead_source": "LeadSource",
    "email_opt_out": "HasOptedOutOfEmail",
    "owner": "OwnerId",
    "last_activity_at": "LastActivityDate",
    "created_at": "CreatedDate",
    **AI_FIELDS["contact"],
}
# A Contact has no Status: its lead status lives in a custom field salesops needs.
CONTACT_LEAD_STATUS = "lead_status__c"
NAMES: dict[str, dict[str, str]] = {
    "Contact": {**_PERSON, "country": "MailingCountry", "lead_status": CONTACT_LEAD_STATUS},
    "Lead": {**_PERSON, "country": "Country", "lead_status": "Status"},
    "Account": {
        "name": "Name",
        "domain": "Website",
        "industry": "Industry",
        "employees": "NumberOfEmployees",
        "annual_revenue": "AnnualRevenue",
        "country": "BillingCountry",
        "owner": "OwnerId",
        "customer_status": "Type",
        "last_activity_at": "LastActivityDate",
        "created_at": "CreatedDate",
    },
    "Opportunity": {
        "name": "Name",
        "amount": "Amount",
        "stage": "StageName",
        "close_date": "CloseDate",
        "forecast_category": "ForecastCategoryName",
        "next_step": "NextStep",
        "probability": "Probability",
        "owner": "OwnerId",
        "last_activity_at": "LastActivityDate",
        "created_at": "CreatedDate",
        **AI_FIELDS["deal"],
    },
}
# Every custom field salesops reads and writes, by sObject (provisioning creates them).
CUSTOM_FIELDS: dict[str, dict[str, str]] = {
    sobject: {n: f for n, f in names.items() if f.endswith("__c")}
    for sobject, names in NAMES.items()
}
# Fields read besides the mapped ones: identity, stamps, links and state.
EXTRA: dict[str, tuple[str, ...]] = {
    "Contact": ("AccountId",),
    "Lead": ("IsConverted", "ConvertedContactId", "ConvertedAccountId", "Company"),
    "Account": (),
    # CurrencyIsoCode exists only in multi-currency orgs: a single-currency org's reads drop
    # it after one describe (Reader.select), and the deal's currency reads as None.
    "Opportunity": ("AccountId", "IsClosed", "IsWon", "CurrencyIsoCode"),
}
# Neutral fields computed from OpportunityFieldHistory, not stored in a field.
FROM_HISTORY: dict[str, str] = {"stage_entered_at": "StageName", "close_date_changes": "CloseDate"}
READ_ONLY = frozenset(
    {"created_at", "last_activity_at", "stage_entered_at", "close_date_changes", "lifecycle_stage"}
)


def field_names(sobject: str, mapping: ValueMapping | None = None) -> dict[str, str]:
    """Neutral name -> Salesforce field of `sobject`, with the connection's overrides."""
    names = dict(NAMES[sobject])
    overrides = (mapping or {}).get("fields", {})
    neutral_type = NEUTRAL_OF[sobject]
    for key in (neutral_type, sobject):  # the sObject-qualified override wins
        for name, field in overrides.items():
            prefix, _, neutral = name.partition(".")
            if prefix == key and neutral in OBJECT_FIELDS[neutral_type]:
                names[neutral] = field
    return names


def select_fields(sobject: str, mapping: ValueMapping | None = None) -> list[str]:
    """Every field a read of `sobject` selects (Id and SystemModstamp first)."""
    names = ["Id", LAST_MODIFIED, *field_names(sobject, mapping).values(), *EXTRA[sobject]]
    return list(dict.fromkeys(names))


def sobject_of(record_id: str) -> str | None:
    """The sObject an Id belongs to, by its key prefix (None: not a known Salesforce Id)."""
    return ID_PREFIXES.get(str(record_id)[:3]) if valid_id(str(record_id)) else None


def valid_id(text: str) -> bool:
    """True for a 15- or 18-character Salesforce Id."""
    return bool(re.fullmatch(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?", text))


def record_from_row(
    sobject: str, row: Mapping[str, Any], mapping: ValueMapping | None = None
) -> CrmRecord:
    """A Lead/Contact, Account or Opportunity row as a neutral record.

    Associations are what the row itself holds (company from AccountId); the reader adds
    the rest. History fields of deals and the lifecycle of Contacts are left out (absent:
    unknown) unless the row carries them (`_history`, `_deal_states`: see `reads`).
    """
    object_type = NEUTRAL_OF[sobject]
    fields = OBJECT_FIELDS[object_type]
    props: dict[str, Any] = {}
    for neutral, vendor in field_names(sobject, mapping).items():
        raw = row.get(vendor)
        if neutral == "stage":
            props[neutral] = stage_to_neutral(
                raw, mapping, closed=row.get("IsClosed"), won=row.get("IsWon")
            )
        elif neutral == "forecast_category":
            props[neutral] = label_key(raw, FORECAST)
        elif neutral == "customer_status":
            props[neutral] = label_key(raw, CUSTOMER_STATUS)
        elif neutral == "domain":
            props[neutral] = domain_from_website(raw)
        elif neutral == "probability":
            percent = value_from_salesforce("double", raw)
            props[neutral] = None if percent is None else round(percent / 100, 4)
        elif neutral == "lead_status":
            table = {"contact.lead_status": values_merged(mapping, "contact.lead_status")}
            props[neutral] = value_to_neutral("contact.lead_status", raw or None, table)
        else:
            value = value_from_salesforce(fields[neutral], raw)
            props[neutral] = value_to_neutral(f"{object_type}.{neutral}", value, mapping or {})
    if object_type == "contact":
        props.setdefault("lead_status", None)
        if sobject == "Lead":
            props["lifecycle_stage"] = lifecycle_of_lead(row.get("Status"), mapping)
        else:
            stage = lifecycle_of_contact(row.get("_deal_states"))
            if stage is not None:
                props["lifecycle_stage"] = stage
    if object_type == "deal":
        props.setdefault("currency", row.get("CurrencyIsoCode") or None)
        if "_history" in row:
            props.update(row["_history"])
            if props.get("stage_entered_at") is None:  # never moved: in it since creation
                props["stage_entered_at"] = props.get("created_at")
    links: dict[str, list[str]] = {}
    if sobject in ("Contact", "Opportunity"):
        links["company"] = [str(row["AccountId"])] if row.get("AccountId") else []
    elif sobject == "Lead":
        links["company"] = []
    return CrmRecord(
        object_type, str(row["Id"]), props, parse_moment(row.get(LAST_MODIFIED)), links
    )


def _vendor_value(sobject: str, name: str, value: Any, mapping: ValueMapping | None) -> Any:
    """One neutral value as Salesforce JSON; PermanentCRMError for a wrong type."""
    object_type = NEUTRAL_OF[sobject]
    kind = OBJECT_FIELDS[object_type][name]
    where = f"{object_type}.{name}"
    if value is None:
        return None
    if name == "stage":
        return stage_to_vendor(value, mapping)
    if name == "lead_status":
        table = {where: values_merged(mapping, where)}
        return value_to_vendor(where, value, table)
    if name == "forecast_category":
        back = {v: k for k, v in FORECAST.items()}
        return back.get(str(value), str(value))
    if name == "customer_status":
        back = {"prospect": "Prospect", "customer": "Customer - Direct", "other": "Other"}
        return back.get(str(value), str(value))
    ok = True
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("int", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (kind == "double" or float(value).is_integer())
        if ok:
            value = int(value) if kind == "int" else float(value)
            if name == "probability":
                value = round(float(value) * 100, 2)
    elif kind == "date":
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                ok = False
        ok = ok and isinstance(value, date)
        value = value.isoformat() if ok else value
    elif kind == "timestamp":
        ok = isinstance(value, datetime)
        value = value.astimezone(UTC).isoformat() if ok else value
    else:
        ok = isinstance(value, str) or (name == "owner" and isinstance(value, int))
        value = str(value)
    if not ok:
        raise PermanentCRMError(f"{where}: expected {kind}, got {value!r}")
    return value


def fields_from_neutral(
    sobject: str, props: Mapping[str, Any], mapping: ValueMapping | None = None
) -> dict[str, Any]:
    """Neutral property writes as a Salesforce field dict for `sobject` (for PropertyUpdate
    and seeding). PermanentCRMError names the first property it cannot write."""
    if sobject not in NAMES:
        raise PermanentCRMError(f"no neutral fields on {sobject!r}")
    object_type = NEUTRAL_OF[sobject]
    names = field_names(sobject, mapping)
    out: dict[str, Any] = {}
    for name, value in props.items():
        where = f"{object_type}.{name}"
        if name in READ_ONLY and name in OBJECT_FIELDS[object_type]:
            raise PermanentCRMError(f"{where} is read-only in Salesforce")
        if name == "currency" and object_type == "deal":
            out["CurrencyIsoCode"] = value  # only multi-currency orgs accept it
            continue
        if name not in names:
            raise PermanentCRMError(f"{sobject} has no field for {where}")
        out[names[name]] = _vendor_value(sobject, name, value, mapping)
    return out
