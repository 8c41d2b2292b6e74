"""Seeding a HubSpot portal from the framework's neutral `RecordStore` (sop_library/sample_data/):
owners, companies, contacts, deals (with stage and close-date history) and engagements, mapped to
HubSpot property names (SALES.md section 1) and associated as HubSpot associates them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.emulators.framework import RecordStore, StoredRecord
from tests.emulators.hubspot_model import (
    CALL_OUTCOMES,
    OBJECT_TYPES,
    SECOND_PIPELINE_ID,
    STAGES,
    iso,
    value_text,
)
from tests.emulators.hubspot_store import HsObject, PortalStore


def seed(store: PortalStore, neutral: RecordStore) -> dict[str, int]:
    """Copy a neutral store's records in, mapped to HubSpot names; counts per type."""
    owners = {}
    for rec in neutral.all("owner"):
        oid = store.next_id("owners")
        owners[rec.id] = oid
        first, _, last = str(rec.fields.get("name", "")).partition(" ")
        store.owners.append(
            {
                "id": oid,
                "email": rec.fields.get("email"),
                "firstName": first,
                "lastName": last,
                "userId": int(oid) - 60_000_000,
                "userIdIncludingInactive": int(oid) - 60_000_000,
                "type": "PERSON",
                "teams": [],
                "archived": False,
                "createdAt": iso(rec.created_at),
                "updatedAt": iso(rec.created_at),
            }
        )
    ids: dict[tuple[str, str], str] = {}
    for neutral_type, hs_type in (
        ("company", "companies"),
        ("contact", "contacts"),
        ("deal", "deals"),
    ):
        for n, rec in enumerate(neutral.all(neutral_type)):
            props = _record_properties(rec, owners)
            if hs_type == "deals" and len(store.pipelines) > 1 and n % 3 == 2:
                # Every third deal in the pipeline with numeric stage ids.
                order = [s[0] for s in STAGES].index(props["dealstage"])
                props.update(pipeline=SECOND_PIPELINE_ID, dealstage=str(100001 + order))
            obj = _seed_one(store, hs_type, props, rec)
            ids[(neutral_type, rec.id)] = obj.id
            store.sample_ids[(neutral_type, str(rec.sample_id or rec.id))] = obj.id
            if neutral_type == "deal":
                _seed_deal_history(store, obj, rec)
    for rec in neutral.all("contact"):
        if rec.fields.get("company"):
            store.associate(
                "contacts",
                ids[("contact", rec.id)],
                "companies",
                ids[("company", rec.fields["company"])],
                279,
                source="CRM_UI",
            )
    for rec in neutral.all("deal"):
        did = ids[("deal", rec.id)]
        if rec.fields.get("company"):
            store.associate(
                "deals",
                did,
                "companies",
                ids[("company", rec.fields["company"])],
                341,
                source="CRM_UI",
            )
        for cid in rec.fields.get("contacts") or []:
            store.associate("deals", did, "contacts", ids[("contact", cid)], 3, source="CRM_UI")
    for rec in neutral.all("activity"):
        kind = str(rec.fields.get("kind"))
        hs_type = f"{kind}s" if f"{kind}s" in OBJECT_TYPES else "notes"
        obj = _seed_one(store, hs_type, _activity_properties(hs_type, rec), rec)
        store.sample_ids[("activity", str(rec.sample_id or rec.id))] = obj.id
        for link, target in (
            ("contact", "contacts"),
            ("company", "companies"),
            ("deal", "deals"),
        ):
            if rec.fields.get(link) and (link, rec.fields[link]) in ids:
                store.associate(
                    hs_type, obj.id, target, ids[(link, rec.fields[link])], source="CRM_UI"
                )
    store.events.clear()  # seeding is history, not news for webhooks
    return {t: len(v) for t, v in store.objects.items() if v}


def _seed_one(store: PortalStore, type_: str, props: dict[str, Any], rec: StoredRecord) -> HsObject:
    created = iso(rec.created_at)
    values = {
        k: value_text(v, store.properties[type_][k]["type"])
        for k, v in props.items()
        if v is not None
    }
    id_ = store.next_id(type_)
    obj = HsObject(type_, id_, {}, rec.created_at, rec.last_modified)
    store.apply_values(
        obj,
        {"createdate": created, "hs_createdate": created, **values},
        rec.created_at,
        "CRM_UI",
    )
    obj.updated_at = rec.last_modified
    obj.properties["hs_lastmodifieddate"] = iso(rec.last_modified)
    if type_ == "contacts":
        obj.properties["lastmodifieddate"] = iso(rec.last_modified)
    obj.properties["hs_object_id"] = id_
    store.objects[type_][id_] = obj
    return obj


def _seed_deal_history(store: PortalStore, obj: HsObject, rec: StoredRecord) -> None:
    # Stage and close date history as HubSpot keeps it: newest entry is the current value.
    created = rec.created_at
    entered = rec.fields.get("stage_entered_at") or created
    stage = obj.properties["dealstage"]
    numeric = obj.properties.get("pipeline") == SECOND_PIPELINE_ID
    first = "100001" if numeric else STAGES[0][0]
    obj.history["dealstage"] = [(first, created, "CRM_UI")]
    if stage != first:
        obj.history["dealstage"].append((stage, entered, "CRM_UI"))
    elif entered > created:
        # Back in the first stage since `entered`: HubSpot records no entry for setting the
        # same value, so the deal went one stage on and came back.
        second = "100002" if numeric else STAGES[1][0]
        moved = created + (entered - created) / 2
        obj.history["dealstage"] += [(second, moved, "CRM_UI"), (first, entered, "CRM_UI")]
    changes = int(rec.fields.get("close_date_changes") or 0)
    current = obj.properties["closedate"]
    close = datetime.fromisoformat(current.replace("Z", "+00:00"))
    span = (rec.last_modified - created) / (changes + 1)
    obj.history["closedate"] = [
        (iso(close - timedelta(days=14 * (changes - i))), created + span * i, "CRM_UI")
        for i in range(changes + 1)
    ]


def _owner(rec: StoredRecord, owners: dict[str, str]) -> str | None:
    return owners.get(str(rec.fields.get("owner")))


def _record_properties(rec: StoredRecord, owners: dict[str, str]) -> dict[str, Any]:
    f = rec.fields
    last = f.get("last_activity_at")
    common = {
        "hubspot_owner_id": _owner(rec, owners),
        "country": f.get("country"),
        "notes_last_updated": iso(last) if last else None,
    }
    if rec.object_type == "contact":
        return {
            **common,
            "firstname": f.get("first_name"),
            "lastname": f.get("last_name"),
            "email": f.get("email"),
            "phone": f.get("phone"),
            "jobtitle": f.get("job_title"),
            "lifecyclestage": f.get("lifecycle_stage"),
            "hs_lead_status": f.get("lead_status"),
            "lead_source": f.get("lead_source"),
            "hs_email_optout": None
            if f.get("email_opt_out") is None
            else str(bool(f["email_opt_out"])).lower(),
        }
    if rec.object_type == "company":
        return {
            **common,
            "name": f.get("name"),
            "domain": f.get("domain"),
            "industry": f.get("industry"),
            "numberofemployees": f.get("employees"),
            "annualrevenue": f.get("annual_revenue"),
            "customer_status": f.get("customer_status"),
        }
    common.pop("country")
    close = f.get("close_date")
    return {
        **common,
        "dealname": f.get("name"),
        "amount": f.get("amount"),
        "deal_currency_code": f.get("currency"),
        "pipeline": "default",
        "dealstage": f.get("stage"),
        "closedate": close.isoformat() if close else None,
        "hs_manual_forecast_category": str(f.get("forecast_category") or "").upper() or None,
        "hs_next_step": f.get("next_step"),
        "hs_deal_stage_probability": f.get("probability"),
    }


def _activity_properties(hs_type: str, rec: StoredRecord) -> dict[str, Any]:
    f = rec.fields
    subject, body = f.get("subject"), f.get("body")
    inbound = f.get("direction") == "inbound"
    props: dict[str, Any] = {"hs_timestamp": iso(f.get("timestamp") or rec.created_at)}
    if hs_type == "notes":
        props["hs_note_body"] = f"{subject}\n\n{body}" if subject else body
    elif hs_type == "emails":
        props.update(
            hs_email_subject=subject,
            hs_email_text=body,
            hs_email_direction="INCOMING_EMAIL" if inbound else "EMAIL",
        )
    elif hs_type == "calls":
        props.update(
            hs_call_title=subject,
            hs_call_body=body,
            hs_call_status="COMPLETED",
            hs_call_direction="INBOUND" if inbound else "OUTBOUND",
            hs_call_disposition=CALL_OUTCOMES.get(str(f.get("outcome"))),
        )
    elif hs_type == "meetings":
        props.update(
            hs_meeting_title=subject,
            hs_meeting_body=body,
            hs_meeting_outcome=str(f.get("outcome") or "completed").upper(),
        )
    else:
        props.update(
            hs_task_subject=subject,
            hs_task_body=body,
            hs_task_type="TODO",
            hs_task_status="COMPLETED" if f.get("outcome") == "completed" else "NOT_STARTED",
        )
    return props
