"""Offline follow-up: a short, grounded email draft and a task for the owner.

Rules (sop_library/skills/follow-up-writing/SKILL.md):
- Greets the contact by the first name exactly as stored ("Hi Zoë,"; "Hi there," if none).
- Refers only to the most recent real interaction (a non-AI call, email or meeting that already
  happened) and cites it in `references`. It names the kind and the day, and never copies CRM
  text: subjects and bodies are data and may carry prices, placeholders or instructions.
- One clear ask (a single question), no pricing, no placeholders, well under 150 words.
- Reason `after_meeting` when the latest past non-AI activity is a meeting, else
  `no_recent_activity`. Due the next business day either way (inside both SOP limits).
- Priority HIGH after a meeting or when the contact is on an open deal in decisionmakerboughtin
  or contractsent; LOW for nurture contacts (subscriber, or AI tier C / disqualified) with no
  open deal; MEDIUM otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from salesops.skills.context import to_utc
from salesops.skills.offline.common import (
    Evidence,
    activity_time,
    evidence,
    past_activities,
    stage_key,
)
from salesops.skills.tools import business_days_add
from salesops.specs.model import SopSpec

INTERACTION_KINDS = ("call", "email", "meeting")


def _when(interaction: dict[str, Any], now: datetime) -> str:
    """A plain-language time reference for the interaction ("yesterday", "on Tuesday")."""
    moment = activity_time(interaction)
    if moment is None:
        return "recently"
    days = (to_utc(now).date() - moment.date()).days
    if days <= 0:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {moment.strftime('%A')}"
    if days < 14:
        return "last week"
    if days < 60:
        return f"{days // 7} weeks ago"
    return "a while ago"


def _opening(interaction: dict[str, Any] | None, now: datetime) -> str:
    """First line of the email: what the last interaction was, in our own words."""
    if interaction is None:
        return "I wanted to reach out and see how things are going on your side."
    when = _when(interaction, now)
    kind = interaction.get("kind")
    if kind == "meeting":
        return f"Thank you for taking the time to meet with us {when}."
    if kind == "call":
        outcome = str(interaction.get("outcome") or "").lower()
        if not outcome or ("connect" in outcome and "not" not in outcome):
            return f"Thanks again for speaking with me {when}."
        return f"I tried to reach you by phone {when}, so I wanted to follow up here."
    if interaction.get("direction") == "inbound":
        return f"Thank you for your email {when}."
    return f"I'm following up on the email I sent {when}."


def _ask(reason: str, interaction: dict[str, Any] | None) -> str:
    """The single clear ask of the email."""
    if reason == "after_meeting":
        return (
            "To keep things moving, would you have 20 minutes later this week to agree on the "
            "next steps together?"
        )
    if interaction is None:
        return "Would you be open to a short 20-minute call in the next week or two?"
    return (
        "Is this still a priority for you, and if so, would a short 20-minute call next week "
        "work for you?"
    )


def _priority(doc: dict[str, Any], reason: str) -> str:
    """HIGH after a meeting or on a late-stage open deal; LOW for nurture; else MEDIUM."""
    open_deals = [
        d
        for d in doc.get("deals") or []
        if stage_key(d.get("stage")) not in ("closedwon", "closedlost")
    ]
    if reason == "after_meeting" or any(
        stage_key(d.get("stage")) in ("decisionmakerboughtin", "contractsent") for d in open_deals
    ):
        return "HIGH"
    nurture = doc.get("lifecycle_stage") == "subscriber" or doc.get("ai_tier") in (
        "C",
        "disqualified",
    )
    return "LOW" if nurture and not open_deals else "MEDIUM"


def follow_up(doc: dict[str, Any], now: datetime, spec: SopSpec) -> dict[str, Any]:
    """Draft a follow-up email and task (follow-up SOP output shape)."""
    activities = past_activities(doc, now)
    latest = activities[0] if activities else None
    interaction = next((a for a in activities if a.get("kind") in INTERACTION_KINDS), None)
    reason = "after_meeting" if latest and latest.get("kind") == "meeting" else "no_recent_activity"

    first_name = str(doc.get("first_name") or "").strip()
    greeting = f"Hi {first_name}," if first_name else "Hi there,"
    body = "\n\n".join([greeting, _opening(interaction, now), _ask(reason, interaction), "Best,"])
    if reason == "after_meeting":
        subject = "Next steps after our meeting"
    elif interaction is not None:
        subject = "Following up"
    else:
        subject = "Checking in"

    references: list[Evidence] = []
    if interaction is not None:
        base = f"activities.{interaction['id']}"
        references.append(
            evidence(doc, f"{base}.kind", f"Most recent interaction: {interaction['kind']}")
        )
        references.append(evidence(doc, f"{base}.timestamp", "When that interaction happened"))
    if first_name:
        references.append(evidence(doc, "first_name", "Greeting uses the contact's first name"))
    if not references:
        references.append(evidence(doc, "id", "No interaction on record; first outreach"))

    full_name = " ".join(str(doc.get(k)) for k in ("first_name", "last_name") if doc.get(k))
    priority = _priority(doc, reason)
    due = business_days_add(to_utc(now).date(), 1)
    return {
        "email": {"subject": subject, "body": body},
        "due_date": due.isoformat(),
        "task_subject": f"Send follow-up email to {full_name}" if full_name else "Send follow-up",
        "priority": priority,
        "references": references,
        "reason": reason,
    }
