"""A record's timeline (calls, emails, meetings, notes, tasks) at the lowest cost.

One associations v4 batch read per activity type (5 calls), then one batch read per type that
has any (at most 5 more): never a search (5 per second per portal, and it lags). A record
with no activity at all costs one more call, to tell "none" from "no such record".

A contact's timeline also holds the activities on its deals, as the local CRM's does (a demo
logged on the deal is part of the person's story): one more associations read (contact to
deals) and, when it has deals, one per activity type from all of them in one batch each; the
batch reads of the activities themselves are shared, so at most 16 calls.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from connectors.base import Activity, RecordRef
from connectors.hubspot.properties import OBJECTS, SALESOPS_KEY, parse_moment

if TYPE_CHECKING:
    from connectors.hubspot.reads import Reader

# HubSpot type -> (neutral kind, subject, body, direction, outcome) properties.
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "calls": ("call", "hs_call_title", "hs_call_body", "hs_call_direction", "hs_call_disposition"),
    "emails": ("email", "hs_email_subject", "hs_email_text", "hs_email_direction", ""),
    "meetings": ("meeting", "hs_meeting_title", "hs_meeting_body", "", "hs_meeting_outcome"),
    "notes": ("note", "", "hs_note_body", "", ""),
    "tasks": ("task", "hs_task_subject", "hs_task_body", "", "hs_task_status"),
}
# HubSpot's default call dispositions (GUIDs, labelled in the UI).
CALL_OUTCOMES = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "connected",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "left_voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "no_answer",
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "busy",
    "17b47fee-58de-441e-a44c-c6300d46f273": "wrong_number",
}
DIRECTIONS = {
    "INBOUND": "inbound",
    "OUTBOUND": "outbound",
    "INCOMING_EMAIL": "inbound",
    "EMAIL": "outbound",
    "FORWARDED_EMAIL": "outbound",
}


def activities_read(reader: Reader, ref: RecordRef, limit: int) -> list[Activity]:
    """The record's activities, newest first, at most `limit`; RecordNotFound when missing."""
    from_type = OBJECTS.get(ref.object_type)
    if from_type is None or not ref.id.isdigit():
        reader.exists(ref)  # raises RecordNotFound
        return []
    ids = _linked(reader, from_type, [ref.id])
    deals: list[str] = []
    if ref.object_type == "contact":
        found = reader.associations(from_type, [ref.id], OBJECTS["deal"]).get(ref.id, [])
        deals = sorted({str(r["toObjectId"]) for r in found}, key=int)
    if deals:  # the union: an activity on both the contact and its deal is listed once
        for hs_type, more in _linked(reader, OBJECTS["deal"], deals).items():
            ids[hs_type] = sorted({*ids[hs_type], *more}, key=int)
    if not any(ids.values()):
        if not deals:  # a contact with deals exists; otherwise tell none from missing
            reader.exists(ref)
        return []
    out: list[Activity] = []
    for hs_type, wanted in ids.items():
        for start in range(0, len(wanted), 100):
            out += [
                _activity(hs_type, row)
                for row in _batch(reader, hs_type, wanted[start : start + 100])
            ]
    out.sort(key=lambda a: (a.timestamp, a.id), reverse=True)
    return out[: max(limit, 0)]


def _linked(reader: Reader, from_type: str, from_ids: list[str]) -> dict[str, list[str]]:
    """Activity ids (by HubSpot type) associated with any of `from_ids`: one call per type."""
    out: dict[str, list[str]] = {}
    for hs_type in KINDS:
        found = reader.associations(from_type, from_ids, hs_type)
        out[hs_type] = sorted(
            {str(r["toObjectId"]) for i in from_ids for r in found.get(i, [])}, key=int
        )
    return out


def _batch(reader: Reader, hs_type: str, ids: list[str]) -> list[dict[str, Any]]:
    props = [p for p in KINDS[hs_type][1:] if p] + ["hs_timestamp", SALESOPS_KEY]
    body = {"inputs": [{"id": i} for i in ids], "properties": props}
    answer = reader.client.call("crm.objects.batch_api", "read", hs_type, body) or {}
    return list(answer.get("results", []))


# A note's title: its first paragraph, one short line, when more text follows it.
TITLE_MAX = 120
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li)>|<br\s*/?>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def note_text(body: str) -> tuple[str, str]:
    """A note body as (title, text). HubSpot notes have no title field, so a body opening
    with a short title paragraph (as integrations and form tools log them) gives its title;
    rich text (HTML) is read as plain text, one paragraph per block."""
    if "<" in body and _TAG.search(body):
        body = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n\n", body)))
    text = re.sub(r"\n{3,}", "\n\n", body.replace("\r\n", "\n")).strip()
    head, sep, rest = text.partition("\n\n")
    if sep and rest.strip() and "\n" not in head and len(head) <= TITLE_MAX:
        return head.strip(), rest.strip()
    return "", text


def _activity(hs_type: str, row: dict[str, Any]) -> Activity:
    kind, subject, body, direction, outcome = KINDS[hs_type]
    values = row.get("properties") or {}
    moment = parse_moment(values.get("hs_timestamp") or row.get("createdAt"))
    assert moment is not None
    raw_outcome = str(values.get(outcome) or "") if outcome else ""
    title, text = "", str(values.get(body) or "")
    if kind == "note":
        title, text = note_text(text)
    return Activity(
        id=f"{kind}-{row['id']}",
        kind=kind,
        timestamp=moment,
        subject=str(values.get(subject) or "") if subject else title,
        body=text,
        direction=DIRECTIONS.get(str(values.get(direction) or ""), "") if direction else "",
        outcome=CALL_OUTCOMES.get(raw_outcome, raw_outcome.lower()),
        # Our own notes and tasks carry their idempotency key.
        ai_generated=bool(values.get(SALESOPS_KEY)),
    )
