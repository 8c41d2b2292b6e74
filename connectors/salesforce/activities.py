"""A record's timeline from Tasks and Events, newest first, in at most four queries.

One query proves the record exists (and follows a converted Lead to its Contact); a
Contact's timeline also holds the activities on its opportunities (OpportunityContactRole,
one query), as the local CRM's does; then one query on Task and one on Event by `WhoId`
(people) or `WhatId` (accounts, opportunities).

Kinds:
- Task with TaskSubtype Call: `call`; CallType Inbound/Outbound is the direction and
  CallDisposition the outcome ("Left Voicemail" -> "left_voicemail").
- TaskSubtype Email: `email`; the direction is the Subject's prefix: "Inbound: " is
  inbound, "Outbound: " or Salesforce's own "Email: " outbound (the prefix is dropped).
- Any other Task: a `note` when it was logged already done (created Completed: its
  CompletedDateTime is its CreatedDate, as for our written notes and Salesforce's "Log a
  Call"), else a `task` (a to-do) whose outcome is its Status.
- Event: `meeting`.
Timestamps: a closed Task's CompletedDateTime, an open one's due date (ActivityDate), an
Event's start. `ai_generated` is true for rows carrying our `Salesops_Key__c`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connectors.base import Activity, PermanentCRMError, RecordNotFound, RecordRef
from connectors.salesforce.fields import SALESOPS_KEY, SOBJECTS, sobject_of
from connectors.salesforce.soql import SfId, bind, names
from connectors.salesforce.values import parse_moment

if TYPE_CHECKING:
    from connectors.salesforce.reads import Reader

TASK_FIELDS = [
    "Id",
    "Subject",
    "Description",
    "TaskSubtype",
    "CallType",
    "CallDisposition",
    "Status",
    "IsClosed",
    "ActivityDate",
    "CompletedDateTime",
    "CreatedDate",
]
EVENT_FIELDS = [
    "Id",
    "Subject",
    "Description",
    "ActivityDateTime",
    "StartDateTime",
    "ActivityDate",
    "CreatedDate",
]
EMAIL_PREFIXES = {"inbound:": "inbound", "outbound:": "outbound", "email:": "outbound"}


def activities_read(reader: Reader, ref: RecordRef, limit: int) -> list[Activity]:
    """The record's activities, newest first, at most `limit`; RecordNotFound when missing."""
    record_id = _existing(reader, ref)
    if limit <= 0:
        return []
    opps: list[str] = []
    if sobject_of(record_id) == "Contact":
        soql = bind(
            "SELECT OpportunityId FROM OpportunityContactRole WHERE ContactId = :id",
            id=SfId(record_id),
        )
        opps = sorted({str(r["OpportunityId"]) for r in reader.query(soql)})
    who = sobject_of(record_id) in ("Contact", "Lead")
    where = "WhoId = :id" if who else "WhatId = :id"
    params: dict[str, Any] = {"id": SfId(record_id)}
    if opps:
        where += " OR WhatId IN :opps"
        params["opps"] = [SfId(o) for o in opps]
    out: list[Activity] = []
    for sobject, fields, order in (
        ("Task", TASK_FIELDS, "ActivityDate DESC NULLS LAST, CreatedDate DESC"),
        ("Event", EVENT_FIELDS, "StartDateTime DESC NULLS LAST, CreatedDate DESC"),
    ):
        rows = _rows(reader, sobject, fields, f"WHERE {where} ORDER BY {order}", params, limit)
        out += [_activity(sobject, row) for row in rows]
    out.sort(key=lambda a: (a.timestamp, a.id), reverse=True)
    return out[:limit]


def _existing(reader: Reader, ref: RecordRef) -> str:
    """The Id whose timeline to read: the record's, or a converted Lead's Contact."""
    sobject = sobject_of(ref.id)
    if sobject not in SOBJECTS.get(ref.object_type, ()):
        raise RecordNotFound(f"{ref} does not exist")
    assert sobject is not None
    extra = ", IsConverted, ConvertedContactId" if sobject == "Lead" else ""
    soql = bind(f"SELECT Id{extra} FROM {sobject} WHERE Id = :id", id=SfId(ref.id))
    rows = reader.query(soql)
    if not rows:
        raise RecordNotFound(f"{ref} does not exist")
    row = rows[0]
    if row.get("IsConverted") and row.get("ConvertedContactId"):
        return str(row["ConvertedContactId"])
    return str(row["Id"])


def _rows(
    reader: Reader, sobject: str, fields: list[str], tail: str, params: dict, limit: int
) -> list[dict]:
    # Only Tasks are ours (the writer makes no Events). An org not provisioned yet lacks
    # the key field: read without it (then nothing is ours).
    tries = ([*fields, SALESOPS_KEY], fields) if sobject == "Task" else (fields,)
    for select in tries:
        soql = bind(
            f"SELECT {names(select)} FROM {sobject} {tail} LIMIT :limit", **params, limit=int(limit)
        )
        try:
            return reader.query(soql, limit=limit)
        except PermanentCRMError as exc:
            if SALESOPS_KEY.lower() not in str(exc).lower() or select is fields:
                raise
    return []


def _activity(sobject: str, row: dict[str, Any]) -> Activity:
    subject = str(row.get("Subject") or "")
    body = str(row.get("Description") or "")
    direction = outcome = ""
    created = parse_moment(row.get("CreatedDate"))
    if sobject == "Event":
        kind = "meeting"
        moment = parse_moment(
            row.get("ActivityDateTime") or row.get("StartDateTime") or row.get("ActivityDate")
        )
    else:
        subtype = str(row.get("TaskSubtype") or "Task")
        completed = parse_moment(row.get("CompletedDateTime"))
        closed = bool(row.get("IsClosed")) or row.get("Status") == "Completed"
        moment = completed if closed and completed else parse_moment(row.get("ActivityDate"))
        if subtype == "Call":
            kind = "call"
            direction = str(row.get("CallType") or "").lower()
            direction = direction if direction in ("inbound", "outbound") else ""
            outcome = _key(row.get("CallDisposition"))
        elif subtype == "Email":
            kind = "email"
            direction, subject = _email_direction(subject)
        elif closed and completed is not None and created is not None and completed == created:
            kind = "note"
        else:
            kind = "task"
            outcome = _key(row.get("Status"))
    moment = moment or created
    assert moment is not None, f"{sobject} {row.get('Id')} has no date"
    return Activity(
        id=str(row["Id"]),
        kind=kind,
        timestamp=moment,
        subject=subject,
        body=body,
        direction=direction,
        outcome=outcome,
        ai_generated=bool(row.get(SALESOPS_KEY)),
    )


def _email_direction(subject: str) -> tuple[str, str]:
    """(direction, subject without its prefix) of a logged email's Subject."""
    head, sep, rest = subject.partition(":")
    direction = EMAIL_PREFIXES.get(head.strip().lower() + ":") if sep else None
    return (direction, rest.strip()) if direction else ("", subject)


def _key(value: Any) -> str:
    return re.sub(r"\W+", "_", str(value or "").strip().lower()).strip("_")
