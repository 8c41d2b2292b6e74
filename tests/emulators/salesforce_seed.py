"""Seed a Salesforce emulator org from sop_library/sample_data/crm.json.

owners -> User; companies -> Account; contacts -> Lead when their lifecycle stage is subscriber,
lead or marketingqualifiedlead, else Contact (with AccountId); deals -> Opportunity (+ an
OpportunityContactRole per contact, and OpportunityFieldHistory for stage moves and close-date
pushes); activities -> Task (calls, emails, notes, tasks by TaskSubtype) and Event (meetings).
Relative times ("now-3d-5h") resolve against the emulator clock, as the sample loaders do.
Seed writes are the org's UI user's, so the connector's own writes stand apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.emulators.framework import RecordStore, StoredRecord
from tests.emulators.salesforce_store import OrgStore

LEAD_STAGES = frozenset({"subscriber", "lead", "marketingqualifiedlead"})
STAGE_NAMES = {
    "appointmentscheduled": "Prospecting",
    "qualifiedtobuy": "Qualification",
    "presentationscheduled": "Value Proposition",
    "decisionmakerboughtin": "Id. Decision Makers",
    "contractsent": "Negotiation/Review",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}
# The team's process, as its admin set up the Lead Status pick-list (orgs customise it): one
# status per stage of the sample's lead statuses, so nothing is lost on the way in.
LEAD_STATUS = {
    "NEW": "Open - Not Contacted",
    "OPEN": "Open",
    "IN_PROGRESS": "Working - Contacted",
    "ATTEMPTED_TO_CONTACT": "Attempted to Contact",
    "CONNECTED": "Connected",
    "OPEN_DEAL": "Closed - Converted",
    "BAD_TIMING": "Bad Timing",
    "UNQUALIFIED": "Closed - Not Converted",
}
FORECAST = {
    "pipeline": "Pipeline",
    "best_case": "Best Case",
    "commit": "Commit",
    "omitted": "Omitted",
    "closed": "Closed",
}
# Account Type, with the org's own value for accounts under contract with a competitor.
ACCOUNT_TYPE = {
    "prospect": "Prospect",
    "customer": "Customer - Direct",
    "competitor_customer": "Competitor Customer",
}
MEETING_MINUTES = 30


def seed_org(store: OrgStore) -> dict[str, int]:
    """Fill an org with the sample CRM; returns row counts per sObject."""
    neutral = RecordStore.from_sample(clock=store.clock)
    now = store.now()
    ids = store.sample_ids
    for rec in neutral.all("owner"):
        first, _, last = str(rec.fields.get("name") or "").partition(" ")
        email = rec.fields.get("email")
        uid = store.insert(
            "User",
            {"Username": email, "Email": email, "FirstName": first, "LastName": last or first},
        )
        ids[("owner", _sid(rec))] = uid
    for rec in neutral.all("company"):
        ids[("company", _sid(rec))] = store.insert("Account", _account(rec, ids, now))
    leads: set[str] = set()
    # A person on a deal is a Contact (only Contacts have opportunity contact roles), whatever
    # their lifecycle stage; the others at an early stage are Leads.
    on_deals = {str(c) for d in neutral.all("deal") for c in d.fields.get("contacts") or []}
    for rec in neutral.all("contact"):
        is_lead = rec.fields.get("lifecycle_stage") in LEAD_STAGES and _sid(rec) not in on_deals
        sobject = "Lead" if is_lead else "Contact"
        row_id = store.insert(sobject, _person(rec, is_lead, ids, neutral, now))
        ids[("contact", _sid(rec))] = row_id
        if is_lead:
            leads.add(row_id)
    for rec in neutral.all("deal"):
        opp = store.insert("Opportunity", _opportunity(rec, ids, now))
        ids[("deal", _sid(rec))] = opp
        for contact in rec.fields.get("contacts") or []:
            cid = ids.get(("contact", _sample_of(neutral, "contact", contact)))
            if cid and cid not in leads:  # only Contacts take roles on opportunities
                store.insert("OpportunityContactRole", {"OpportunityId": opp, "ContactId": cid})
        _history(store, opp, rec)
    for rec in neutral.all("activity"):
        sobject, fields = _activity(rec, ids, neutral, leads, now)
        ids[("activity", _sid(rec))] = store.insert(sobject, fields)
    return {o: len(store.rows(o)) for o in store.tables if store.rows(o)}


def _sid(rec: StoredRecord) -> str:
    return str(rec.sample_id or rec.id)


def _sample_of(neutral: RecordStore, object_type: str, id: Any) -> str:
    rec = neutral.get(object_type, str(id)) if id else None
    return _sid(rec) if rec is not None else ""


def _stamps(rec: StoredRecord, now: datetime) -> dict[str, Any]:
    created = min(rec.created_at, now).replace(microsecond=0)
    modified = max(created, min(rec.last_modified, now)).replace(microsecond=0)
    return {"CreatedDate": created, "LastModifiedDate": modified, "SystemModstamp": modified}


def _link(ids: dict[tuple[str, str], str], neutral: RecordStore, kind: str, value: Any) -> Any:
    return ids.get((kind, _sample_of(neutral, kind, value))) if value else None


def _last_activity(rec: StoredRecord) -> Any:
    last = rec.fields.get("last_activity_at")
    return last.date() if isinstance(last, datetime) else None


def _account(rec: StoredRecord, ids: dict[tuple[str, str], str], now: datetime) -> dict[str, Any]:
    f = rec.fields
    return {
        **_stamps(rec, now),
        "Name": f.get("name"),
        "Website": f.get("domain"),
        "Industry": f.get("industry"),
        "NumberOfEmployees": f.get("employees"),
        "AnnualRevenue": f.get("annual_revenue"),
        "BillingCountry": f.get("country"),
        "Type": ACCOUNT_TYPE.get(str(f.get("customer_status")), "Other"),
        "OwnerId": ids.get(("owner", str(f.get("owner")))),
        "LastActivityDate": _last_activity(rec),
    }


def _person(
    rec: StoredRecord,
    is_lead: bool,
    ids: dict[tuple[str, str], str],
    neutral: RecordStore,
    now: datetime,
) -> dict[str, Any]:
    f = rec.fields
    row: dict[str, Any] = {
        **_stamps(rec, now),
        "FirstName": f.get("first_name"),
        "LastName": f.get("last_name"),
        "Email": f.get("email"),
        "Phone": f.get("phone"),
        "Title": f.get("job_title"),
        "LeadSource": f.get("lead_source"),
        "HasOptedOutOfEmail": bool(f.get("email_opt_out")),
        "OwnerId": ids.get(("owner", str(f.get("owner")))),
        "LastActivityDate": _last_activity(rec),
    }
    company = neutral.get("company", str(f.get("company"))) if f.get("company") else None
    if is_lead:
        row.update(
            Country=f.get("country"),
            Status=LEAD_STATUS.get(str(f.get("lead_status")), "Open - Not Contacted"),
            Company=company.fields.get("name") if company else None,
            Industry=company.fields.get("industry") if company else None,
            NumberOfEmployees=company.fields.get("employees") if company else None,
            Website=company.fields.get("domain") if company else None,
        )
    else:
        row.update(
            MailingCountry=f.get("country"),
            AccountId=_link(ids, neutral, "company", f.get("company")),
            # A Contact has no Status: the org keeps its lead status in our custom field.
            lead_status__c=f.get("lead_status"),
        )
    return row


def _opportunity(
    rec: StoredRecord, ids: dict[tuple[str, str], str], now: datetime
) -> dict[str, Any]:
    f = rec.fields
    probability = f.get("probability")
    return {
        **_stamps(rec, now),
        "Name": f.get("name"),
        "StageName": STAGE_NAMES.get(str(f.get("stage")), "Prospecting"),
        "CloseDate": f.get("close_date"),
        "Amount": f.get("amount"),
        "CurrencyIsoCode": f.get("currency"),
        "Probability": None if probability is None else round(float(probability) * 100),
        "ForecastCategoryName": FORECAST.get(str(f.get("forecast_category")), "Pipeline"),
        "NextStep": f.get("next_step"),
        "AccountId": ids.get(("company", str(f.get("company")))),
        "OwnerId": ids.get(("owner", str(f.get("owner")))),
        "LastActivityDate": _last_activity(rec),
    }


def _history(store: OrgStore, opp_id: str, rec: StoredRecord) -> None:
    # Stage moves and close-date pushes as OpportunityFieldHistory rows, oldest first.
    row = store.get("Opportunity", opp_id) or {}
    created, user = row["CreatedDate"], store.ui_user_id
    entered = rec.fields.get("stage_entered_at") or created
    entered = max(created, min(entered, row["SystemModstamp"])).replace(microsecond=0)
    first, second, stage = "Prospecting", "Qualification", row["StageName"]
    if stage != first:
        store.history_add(opp_id, "StageName", first, stage, entered, user)
    elif entered > created:  # back in the first stage: it went one on and came back
        moved = (created + (entered - created) / 2).replace(microsecond=0)
        store.history_add(opp_id, "StageName", first, second, moved, user)
        store.history_add(opp_id, "StageName", second, first, entered, user)
    changes = int(rec.fields.get("close_date_changes") or 0)
    close = row["CloseDate"]
    span = (row["SystemModstamp"] - created) / (changes + 1)
    for i in range(1, changes + 1):
        old = close - timedelta(days=14 * (changes - i + 1))
        new = close - timedelta(days=14 * (changes - i))
        when = (created + span * i).replace(microsecond=0)
        store.history_add(opp_id, "CloseDate", old, new, when, user)


def _activity(
    rec: StoredRecord,
    ids: dict[tuple[str, str], str],
    neutral: RecordStore,
    leads: set[str],
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    f = rec.fields
    kind = f.get("kind")
    when = f.get("timestamp") or rec.created_at
    who = _link(ids, neutral, "contact", f.get("contact"))
    what = _link(ids, neutral, "deal", f.get("deal")) or _link(
        ids, neutral, "company", f.get("company")
    )
    if who in leads:
        what = None  # a Lead's activities relate to no account or opportunity
    common: dict[str, Any] = {
        **_stamps(rec, now),
        "Subject": f.get("subject"),
        "Description": f.get("body"),
        "WhoId": who,
        "WhatId": what,
    }
    if kind == "meeting":
        return "Event", {
            **common,
            "StartDateTime": when,
            "EndDateTime": when + timedelta(minutes=MEETING_MINUTES),
            "ActivityDateTime": when,
            "ActivityDate": when.date(),
            "DurationInMinutes": MEETING_MINUTES,
            "Type": "Meeting",
        }
    done = kind != "task" or f.get("outcome") == "completed"
    task: dict[str, Any] = {
        **common,
        "ActivityDate": when.date(),
        "Status": "Completed" if done else "Not Started",
        "CompletedDateTime": min(when, now).replace(microsecond=0) if done else None,
        "TaskSubtype": {"call": "Call", "email": "Email"}.get(str(kind), "Task"),
    }
    if kind == "call":
        task.update(
            Type="Call",
            CallType="Inbound" if f.get("direction") == "inbound" else "Outbound",
            CallDisposition=f.get("outcome"),
        )
    elif kind == "email":
        # Email-logging tools (Outlook/Gmail integrations) record the direction in the
        # Subject; the connector reads it back from the "Inbound: "/"Outbound: " prefix.
        prefix = "Inbound" if f.get("direction") == "inbound" else "Outbound"
        task.update(Type="Email", Subject=f"{prefix}: {f.get('subject') or ''}")
    return "Task", task
