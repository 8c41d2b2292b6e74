"""HubSpot's static shapes for the emulator: object types, default properties, association types,
pipelines, and value formatting. Names and ids follow HubSpot's OpenAPI specs and the SDK's
`hubspot.crm.association_type.AssociationType` (HUBSPOT_DEFINED type ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its path name, type id (0-3), singular and scope family."""

    name: str  # "deals", as in /crm/v3/objects/deals
    type_id: str  # "0-3"
    singular: str  # "deal", as in "deal_to_contact" and "deal.creation"
    scope: str  # "crm.objects.deals" (engagements use the contacts scopes)


OBJECT_TYPES: dict[str, ObjectType] = {
    o.name: o
    for o in (
        ObjectType("contacts", "0-1", "contact", "crm.objects.contacts"),
        ObjectType("companies", "0-2", "company", "crm.objects.companies"),
        ObjectType("deals", "0-3", "deal", "crm.objects.deals"),
        ObjectType("tasks", "0-27", "task", "crm.objects.contacts"),
        ObjectType("notes", "0-46", "note", "crm.objects.contacts"),
        ObjectType("meetings", "0-47", "meeting", "crm.objects.contacts"),
        ObjectType("calls", "0-48", "call", "crm.objects.contacts"),
        ObjectType("emails", "0-49", "email", "crm.objects.contacts"),
    )
}
ENGAGEMENTS = ("notes", "tasks", "calls", "emails", "meetings")
# Every spelling HubSpot accepts in a path: "deals", "deal", "0-3".
ALIASES: dict[str, str] = {
    alias: o.name for o in OBJECT_TYPES.values() for alias in (o.name, o.singular, o.type_id)
}


def object_type(name: str) -> ObjectType | None:
    """The object type a path segment names, or None."""
    canonical = ALIASES.get(name.lower())
    return OBJECT_TYPES[canonical] if canonical else None


# HUBSPOT_DEFINED association types: (from, to) -> [(typeId, label)]; the first is the default.
_PAIRS: list[tuple[str, str, int, int, str | None]] = [
    # from, to, typeId, inverse typeId, label
    ("contacts", "companies", 279, 280, None),
    ("contacts", "companies", 1, 2, "Primary"),
    ("deals", "contacts", 3, 4, None),
    ("deals", "companies", 341, 342, None),
    ("deals", "companies", 5, 6, "Primary"),
    ("companies", "calls", 181, 182, None),
    ("companies", "emails", 185, 186, None),
    ("companies", "meetings", 187, 188, None),
    ("companies", "notes", 189, 190, None),
    ("companies", "tasks", 191, 192, None),
    ("contacts", "calls", 193, 194, None),
    ("contacts", "emails", 197, 198, None),
    ("contacts", "meetings", 199, 200, None),
    ("contacts", "notes", 201, 202, None),
    ("contacts", "tasks", 203, 204, None),
    ("deals", "calls", 205, 206, None),
    ("deals", "emails", 209, 210, None),
    ("deals", "meetings", 211, 212, None),
    ("deals", "notes", 213, 214, None),
    ("deals", "tasks", 215, 216, None),
]
ASSOCIATION_TYPES: dict[tuple[str, str], list[tuple[int, str | None]]] = {}
INVERSE: dict[int, int] = {}
TYPE_PAIR: dict[int, tuple[str, str]] = {}
for _f, _t, _id, _inv, _label in _PAIRS:
    ASSOCIATION_TYPES.setdefault((_f, _t), []).append((_id, _label))
    ASSOCIATION_TYPES.setdefault((_t, _f), []).append((_inv, _label))
    INVERSE[_id], INVERSE[_inv] = _inv, _id
    TYPE_PAIR[_id], TYPE_PAIR[_inv] = (_f, _t), (_t, _f)


def association_type_name(type_id: int) -> str:
    """The v3 `type` string of an association ("contact_to_company_unlabeled")."""
    f, t = TYPE_PAIR[type_id]
    base = f"{OBJECT_TYPES[f].singular}_to_{OBJECT_TYPES[t].singular}"
    labelled = len(ASSOCIATION_TYPES[(f, t)]) > 1
    primary = dict(ASSOCIATION_TYPES[(f, t)]).get(type_id) == "Primary"
    return base if primary or not labelled else f"{base}_unlabeled"


# -- properties ----------------------------------------------------------------------------
# (name, type, fieldType, read-only, options)
PropSpec = tuple[str, str, str, bool, list[str]]
LIFECYCLE = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
LEAD_STATUS = [
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
]
FORECAST = ["OMIT", "PIPELINE", "BEST_CASE", "COMMIT", "CLOSED"]
# HubSpot's default call dispositions are GUIDs, labelled in the UI.
CALL_OUTCOMES = {
    "connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "left_voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "no_answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
    "wrong_number": "17b47fee-58de-441e-a44c-c6300d46f273",
}

_COMMON: list[PropSpec] = [
    ("hs_object_id", "number", "number", True, []),
    ("createdate", "datetime", "date", False, []),
    ("hs_createdate", "datetime", "date", True, []),
    ("hs_lastmodifieddate", "datetime", "date", True, []),
    ("hubspot_owner_id", "enumeration", "select", False, []),
    ("hs_merged_object_ids", "enumeration", "checkbox", True, []),
]
_RECORDS: list[PropSpec] = [
    ("notes_last_updated", "datetime", "date", True, []),
    ("country", "string", "text", False, []),
]
# Engagements' time (a task's due time).
_TIMESTAMP: PropSpec = ("hs_timestamp", "datetime", "date", False, [])
_BY_TYPE: dict[str, list[PropSpec]] = {
    "contacts": [
        ("firstname", "string", "text", False, []),
        ("lastname", "string", "text", False, []),
        ("email", "string", "text", False, []),
        ("phone", "string", "phonenumber", False, []),
        ("jobtitle", "string", "text", False, []),
        ("lifecyclestage", "enumeration", "radio", False, LIFECYCLE),
        ("hs_lead_status", "enumeration", "radio", False, LEAD_STATUS),
        ("hs_email_optout", "bool", "booleancheckbox", False, ["true", "false"]),
        ("lastmodifieddate", "datetime", "date", True, []),
        # A portal's own property (HubSpot has no free-text lead source by default).
        ("lead_source", "string", "text", False, []),
    ],
    "companies": [
        ("name", "string", "text", False, []),
        ("domain", "string", "text", False, []),
        ("industry", "string", "text", False, []),
        ("numberofemployees", "number", "number", False, []),
        ("annualrevenue", "number", "number", False, []),
        ("lifecyclestage", "enumeration", "radio", False, LIFECYCLE),
        ("customer_status", "string", "text", False, []),
    ],
    "deals": [
        ("dealname", "string", "text", False, []),
        ("amount", "number", "number", False, []),
        ("deal_currency_code", "string", "text", False, []),
        ("pipeline", "enumeration", "select", False, []),
        ("dealstage", "enumeration", "radio", False, []),
        ("closedate", "datetime", "date", False, []),
        ("hs_manual_forecast_category", "enumeration", "select", False, FORECAST),
        ("hs_next_step", "string", "textarea", False, []),
        ("hs_deal_stage_probability", "number", "number", False, []),
    ],
    "notes": [("hs_note_body", "string", "html", False, []), _TIMESTAMP],
    "tasks": [
        ("hs_task_subject", "string", "text", False, []),
        ("hs_task_body", "string", "html", False, []),
        ("hs_task_status", "enumeration", "select", False, ["NOT_STARTED", "COMPLETED"]),
        ("hs_task_priority", "enumeration", "select", False, ["LOW", "MEDIUM", "HIGH", "NONE"]),
        ("hs_task_type", "enumeration", "select", False, ["CALL", "EMAIL", "TODO"]),
        _TIMESTAMP,
    ],
    "calls": [
        ("hs_call_title", "string", "text", False, []),
        ("hs_call_body", "string", "html", False, []),
        ("hs_call_direction", "enumeration", "select", False, ["INBOUND", "OUTBOUND"]),
        ("hs_call_disposition", "string", "text", False, []),
        ("hs_call_status", "enumeration", "select", False, ["COMPLETED", "NO_ANSWER", "BUSY"]),
        _TIMESTAMP,
    ],
    "emails": [
        ("hs_email_subject", "string", "text", False, []),
        ("hs_email_text", "string", "textarea", False, []),
        ("hs_email_direction", "enumeration", "select", False, ["EMAIL", "INCOMING_EMAIL"]),
        _TIMESTAMP,
    ],
    "meetings": [
        ("hs_meeting_title", "string", "text", False, []),
        ("hs_meeting_body", "string", "html", False, []),
        ("hs_meeting_outcome", "enumeration", "select", False, ["SCHEDULED", "COMPLETED"]),
        _TIMESTAMP,
    ],
}
GROUPS = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
}
# The properties a read returns when the request names none (as HubSpot does).
DEFAULT_READ: dict[str, list[str]] = {
    "contacts": ["createdate", "email", "firstname", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "name"],
    "deals": ["amount", "closedate", "createdate", "dealname", "dealstage", "pipeline"],
}


def property_definition(
    object_name: str, spec: dict[str, Any], *, created: datetime, hubspot_defined: bool
) -> dict[str, Any]:
    """A Property in the API's shape from a create body (or a default spec)."""
    readonly = bool(spec.get("_readonly"))
    return {
        "name": spec["name"],
        "label": spec.get("label") or spec["name"],
        "type": spec["type"],
        "fieldType": spec["fieldType"],
        "groupName": spec.get("groupName") or GROUPS.get(object_name, f"{object_name[:-1]}info"),
        "description": spec.get("description", ""),
        "options": [
            {
                "label": o.get("label", o["value"]),
                "value": o["value"],
                "displayOrder": o.get("displayOrder", i),
                "hidden": bool(o.get("hidden", False)),
                "description": o.get("description", ""),
            }
            for i, o in enumerate(spec.get("options") or [])
        ],
        "displayOrder": spec.get("displayOrder", -1),
        "calculated": False,
        "externalOptions": bool(spec.get("externalOptions", False)),
        "hasUniqueValue": bool(spec.get("hasUniqueValue", False)),
        "hidden": bool(spec.get("hidden", False)),
        "hubspotDefined": hubspot_defined,
        "formField": bool(spec.get("formField", False)),
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": readonly,
        },
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "archived": False,
    }


def default_properties(object_name: str, created: datetime) -> dict[str, dict[str, Any]]:
    """The HubSpot-defined properties of an object type, by name."""
    specs = _COMMON + (_RECORDS if object_name in GROUPS else []) + _BY_TYPE[object_name]
    out = {}
    for name, typ, field_type, readonly, options in specs:
        spec = {
            "name": name,
            "label": name.replace("hs_", "").replace("_", " ").title(),
            "type": typ,
            "fieldType": field_type,
            "options": [{"value": v, "label": v.replace("_", " ").title()} for v in options],
            "_readonly": readonly,
        }
        out[name] = property_definition(object_name, spec, created=created, hubspot_defined=True)
    # Contacts' email is unique per portal (a second contact with it is a 409).
    if object_name == "contacts":
        out["email"]["hasUniqueValue"] = True
    return out


# -- pipelines -----------------------------------------------------------------------------
STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
]
SECOND_PIPELINE_ID = "7654321"


def pipeline(pipeline_id: str, label: str, stage_ids: list[str], created: datetime) -> dict:
    """A deal pipeline in the API's shape; stages take HubSpot's default labels in order."""
    stamp = iso(created)
    stages = [
        {
            "id": sid,
            "label": label_,
            "displayOrder": i,
            "metadata": {"isClosed": "true" if closed else "false", "probability": prob},
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }
        for i, (sid, (_, label_, prob, closed)) in enumerate(zip(stage_ids, STAGES, strict=True))
    ]
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": 0 if pipeline_id == "default" else 1,
        "stages": stages,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def default_pipelines(created: datetime, *, second: bool) -> list[dict]:
    """HubSpot's default deal pipeline, and optionally one with numeric stage ids."""
    out = [pipeline("default", "Sales Pipeline", [s[0] for s in STAGES], created)]
    if second:
        numeric = [str(100001 + i) for i in range(len(STAGES))]
        out.append(pipeline(SECOND_PIPELINE_ID, "Enterprise Pipeline", numeric, created))
    return out


# -- values --------------------------------------------------------------------------------
def iso(moment: datetime) -> str:
    """A timestamp as HubSpot writes it: UTC, milliseconds, Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_moment(value: str) -> datetime:
    """Epoch milliseconds, an ISO timestamp or a date, as HubSpot accepts them."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def number_text(value: Any) -> str:
    """A number as HubSpot returns it ("72000", "0.6")."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def value_text(value: Any, typ: str) -> str:
    """A written value normalised to its stored text; raises ValueError when invalid."""
    if typ == "number":
        return number_text(value)
    if typ == "datetime":
        return iso(parse_moment(value))
    if typ == "date":
        return parse_moment(value).date().isoformat()
    if typ == "bool":
        text = str(value).lower()
        if text not in ("true", "false"):
            raise ValueError(f"{value!r} is not a boolean")
        return text
    return "" if value is None else str(value)
