"""The CRM-neutral record model that SOPs are written against (SALES.md section 1).

Used to type-check SOP expressions and triggers at load time, and to describe the *record
document*: the one JSON object an engine, the verifier and the expressions all see for a run.

Record document shape (built by `salesops.skills.context.record_document_build`):

    {
      "id": "c-17", "object": "contact",
      ...every neutral property of the record (None when unknown)...,
      "company": {...company properties..., "id": ...} | None,     # contact, deal
      "contacts": [{...contact properties..., "id": ...}, ...],    # deal, company
      "deals": [{...deal properties..., "id": ...}, ...],          # contact, company
      "activities": [{"id", "kind", "timestamp", "subject", "body", "direction",
                      "outcome", "ai_generated"}, ...],            # newest first
      "days_since_last_activity": int | None,   # derived, from non-AI activities
      "days_to_close": int | None,              # deals only; negative when overdue
      "duplicate_email_count": int | None,      # contacts only; from the record mirror
    }

Evidence paths (grounding) are dotted paths into this document; list items are addressed
by their `id`, e.g. `company.employees`, `activities.a-104.body`, `contacts.c-9.job_title`.
"""

from __future__ import annotations

from typing import Literal

FieldType = Literal["string", "int", "double", "bool", "timestamp", "date"]

CONTACT_FIELDS: dict[str, FieldType] = {
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "string",
    "job_title": "string",
    "lifecycle_stage": "string",
    "lead_status": "string",
    "lead_source": "string",
    "email_opt_out": "bool",
    "owner": "string",
    "country": "string",
    "last_activity_at": "timestamp",
    "created_at": "timestamp",
    "ai_score": "int",
    "ai_tier": "string",
}

COMPANY_FIELDS: dict[str, FieldType] = {
    "name": "string",
    "domain": "string",
    "industry": "string",
    "employees": "int",
    "annual_revenue": "double",
    "country": "string",
    "owner": "string",
    "customer_status": "string",
    "last_activity_at": "timestamp",
    "created_at": "timestamp",
}

DEAL_FIELDS: dict[str, FieldType] = {
    "name": "string",
    "amount": "double",
    "currency": "string",
    "stage": "string",
    "close_date": "date",
    "forecast_category": "string",
    "next_step": "string",
    "probability": "double",
    "owner": "string",
    "stage_entered_at": "timestamp",
    "close_date_changes": "int",
    "last_activity_at": "timestamp",
    "created_at": "timestamp",
    "ai_health": "string",
}

OBJECT_FIELDS: dict[str, dict[str, FieldType]] = {
    "contact": CONTACT_FIELDS,
    "company": COMPANY_FIELDS,
    "deal": DEAL_FIELDS,
}

ACTIVITY_FIELDS: dict[str, FieldType] = {
    "id": "string",
    "kind": "string",
    "timestamp": "timestamp",
    "subject": "string",
    "body": "string",
    "direction": "string",
    "outcome": "string",
    "ai_generated": "bool",
}

DERIVED_FIELDS: dict[str, dict[str, FieldType]] = {
    # Other contacts in the CRM with the same email (case-insensitive): a likely duplicate.
    "contact": {"days_since_last_activity": "int", "duplicate_email_count": "int"},
    "company": {"days_since_last_activity": "int"},
    "deal": {"days_since_last_activity": "int", "days_to_close": "int"},
}

# Which related records a record document may carry, by object type: name -> (object, many?)
RELATIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "contact": {"company": ("company", False), "deals": ("deal", True)},
    "company": {"contacts": ("contact", True), "deals": ("deal", True)},
    "deal": {"company": ("company", False), "contacts": ("contact", True)},
}

# Context names an SOP may ask for (`context:` in the front matter).
CONTEXT_NAMES: tuple[str, ...] = ("company", "contacts", "deals", "recent_activities")

# Neutral event names an SOP trigger may use, per object.
EVENT_SUFFIXES: tuple[str, ...] = ("created", "property_changed", "activity_logged")


def event_names(object_type: str) -> list[str]:
    """The trigger events an SOP on `object_type` may listen to."""
    return [f"{object_type}.{suffix}" for suffix in EVENT_SUFFIXES]
