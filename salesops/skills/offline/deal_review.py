"""Offline deal review: the deal-risk-taxonomy skill applied deterministically.

Risks on open deals (sop_library/skills/deal-risk-taxonomy/SKILL.md; each cites its evidence):
- no_recent_activity: days_since_last_activity >= 14 (high at 30+); also no activity at all on
  a deal created 14+ days ago.
- buyer_went_quiet: the buyer engaged (inbound activity or a meeting) and 2+ of our outbound
  touches since then are unanswered, the latest engagement 7+ days old; high in late stages.
- close_date_past: days_to_close < 0; high when > 14 days overdue or in a late stage.
- close_date_pushed: close_date_changes >= 2 (high at 3+).
- stalled_in_stage: in the stage longer than its norm (appointmentscheduled 14d,
  qualifiedtobuy 21d, presentationscheduled 21d, decisionmakerboughtin 30d, contractsent 14d,
  other stages 30d); high at twice the norm.
- single_threaded: at most one contact on an amount >= 25,000 (high at 100,000+).
- no_economic_buyer: amount >= 50,000 in presentationscheduled or later and no C-level / VP /
  head-of / founder / owner contact; high in contractsent.
- pricing_not_discussed: decisionmakerboughtin or contractsent and no activity mentions price,
  pricing, a quote or a proposal.
- competitor_unaddressed: an activity mentions a competitor and no later activity addresses it
  (comparison, battlecard, reference call, differentiation); high in late stages.
Health: red with any high risk, or 3+ medium risks (then the first-listed risk is raised to
high, as the taxonomy says); amber with any risk; else green.
Forecast: green -> commit in late stages closing within ~a quarter, best_case mid-funnel, else
pipeline; amber -> best_case in late stages, else pipeline; red -> omitted when the close date
passed and the buyer has not responded in 30+ days, else pipeline. Never commit when red.
Closed deals (the SOP skips them via applies_when): green, no risks, commit if won, omitted if
lost.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from salesops.skills.context import parse_timestamp, to_utc
from salesops.skills.offline.common import (
    Evidence,
    activity_text,
    activity_time,
    evidence,
    first_matching,
    human_activities,
    is_economic_buyer,
    number,
    past_activities,
    quote_evidence,
    sentence_with,
    stage_key,
    untrusted_note,
)
from salesops.specs.deal_stages import DEFAULT_NORM_DAYS, LATE_STAGES, MID_STAGES, STAGE_NORM_DAYS
from salesops.specs.model import SopSpec

CLOSED_WON = {"closedwon"}
CLOSED_LOST = {"closedlost"}
PRICING = re.compile(r"\b(price|prices|pricing|priced|quote|quoted|quotation|proposal)\b", re.I)
COMPETITOR = re.compile(
    r"\b(competitors?|competing|competitive|also evaluating|other vendors?)\b", re.I
)
ADDRESSED = re.compile(
    r"\b(comparison|compare[ds]?|battle ?card|reference call|references?|differentiat\w*|"
    r"versus|vs\.?|competitors?)\b",
    re.I,
)
QUIET_DAYS = 14

NEXT_STEPS = {
    "close_date_past": "Agree a realistic close date with the buyer and update the deal.",
    "no_recent_activity": "Re-engage the buyer this week with a concrete next meeting.",
    "buyer_went_quiet": "Reach the buyer through another contact or channel.",
    "close_date_pushed": "Review the close plan with the buyer; confirm what moves the date.",
    "stalled_in_stage": "Identify what blocks the next stage and agree the exit criteria.",
    "single_threaded": "Bring a second stakeholder into the conversation.",
    "no_economic_buyer": "Get a meeting with the economic buyer (VP or above).",
    "pricing_not_discussed": "Walk the buyer through the commercial proposal.",
    "competitor_unaddressed": "Answer the competitor comparison with a differentiation call.",
}


def _risk(kind: str, severity: str, summary: str, items: list[Evidence]) -> dict[str, Any]:
    """One risk entry in the output shape."""
    return {"type": kind, "severity": severity, "summary": summary, "evidence": items}


def _is_late(stage: str) -> bool:
    """Decision maker bought in, contract sent and their Salesforce equivalents."""
    return stage in LATE_STAGES


def _activity_risks(doc: dict[str, Any], now: datetime, stage: str) -> list[dict[str, Any]]:
    """Risks read from the activity timeline."""
    risks: list[dict[str, Any]] = []
    activities = past_activities(doc, now)
    days = doc.get("days_since_last_activity")
    created = parse_timestamp(doc.get("created_at"))
    if days is None and created is not None and (to_utc(now) - created).days >= QUIET_DAYS:
        items = [
            evidence(doc, "days_since_last_activity", "No activity logged on the deal"),
            evidence(doc, "created_at", "Deal created"),
        ]
        summary = "No activity logged since the deal was created."
        risks.append(_risk("no_recent_activity", "medium", summary, items))
    elif days is not None and days >= QUIET_DAYS:
        items = [evidence(doc, "days_since_last_activity", f"{days} days without activity")]
        if activities:
            items.append(
                evidence(doc, f"activities.{activities[0]['id']}.timestamp", "Last activity")
            )
        severity = "high" if days >= 30 else "medium"
        risks.append(_risk("no_recent_activity", severity, f"No activity for {days} days.", items))

    engaged = [
        a for a in activities if a.get("direction") == "inbound" or a.get("kind") == "meeting"
    ]
    if engaged:
        last = engaged[0]
        moment = activity_time(last) or to_utc(now)
        unanswered = [
            a
            for a in activities
            if a.get("direction") == "outbound" and (activity_time(a) or moment) > moment
        ]
        silent = (to_utc(now) - moment).days
        if len(unanswered) >= 2 and silent >= 7:
            items = [evidence(doc, f"activities.{last['id']}.direction", "Buyer's last engagement")]
            items += [
                evidence(doc, f"activities.{a['id']}.direction", "Our unanswered follow-up")
                for a in unanswered[:3]
            ]
            summary = (
                f"Buyer has not answered {len(unanswered)} follow-ups in the {silent} days "
                "since they last engaged."
            )
            severity = "high" if _is_late(stage) else "medium"
            risks.append(_risk("buyer_went_quiet", severity, summary, items))

    mention = first_matching(activities, COMPETITOR)
    if mention:
        activity, field = mention
        moment = activity_time(activity) or to_utc(now)
        addressed = any(
            (activity_time(a) or moment) > moment
            and a.get("direction") != "inbound"  # the buyer repeating it is not an answer
            and ADDRESSED.search(activity_text(a))
            for a in activities
        )
        if not addressed:
            path = f"activities.{activity['id']}.{field}"
            quote = sentence_with(activity[field], COMPETITOR)
            items = [quote_evidence(doc, path, quote, "Competitor mentioned")]
            summary = "A competitor came up and no later activity addresses it."
            severity = "high" if _is_late(stage) else "medium"
            risks.append(_risk("competitor_unaddressed", severity, summary, items))
    return risks


def _deal_risks(doc: dict[str, Any], now: datetime, stage: str) -> list[dict[str, Any]]:
    """Risks read from the deal's own fields and its contacts."""
    risks: list[dict[str, Any]] = []
    to_close = doc.get("days_to_close")
    if to_close is not None and to_close < 0:
        items = [
            evidence(doc, "close_date", "Close date already passed"),
            evidence(doc, "days_to_close", "Days to close (negative: overdue)"),
        ]
        severity = "high" if to_close < -14 or _is_late(stage) else "medium"
        summary = f"Close date passed {-to_close} days ago and the deal is still open."
        risks.append(_risk("close_date_past", severity, summary, items))
    changes = number(doc.get("close_date_changes"))
    if changes is not None and changes >= 2:
        items = [evidence(doc, "close_date_changes", "Times the close date moved")]
        severity = "high" if changes >= 3 else "medium"
        summary = f"Close date pushed {int(changes)} times."
        risks.append(_risk("close_date_pushed", severity, summary, items))
    entered = parse_timestamp(doc.get("stage_entered_at"))
    norm = STAGE_NORM_DAYS.get(stage, DEFAULT_NORM_DAYS)
    if entered is not None and (to_utc(now) - entered).days > norm:
        stalled = (to_utc(now) - entered).days
        items = [
            evidence(doc, "stage", "Current stage"),
            evidence(doc, "stage_entered_at", "Entered the stage"),
        ]
        severity = "high" if stalled > 2 * norm else "medium"
        summary = f"In the current stage for {stalled} days (norm {norm})."
        risks.append(_risk("stalled_in_stage", severity, summary, items))

    amount = number(doc.get("amount")) or 0.0
    contacts = [c for c in doc.get("contacts") or [] if isinstance(c, dict) and c.get("id")]
    if amount >= 25_000 and len(contacts) <= 1:
        items = [evidence(doc, "amount", "Deal amount")]
        if contacts:
            only = contacts[0]
            path = f"contacts.{only['id']}.{'job_title' if only.get('job_title') else 'id'}"
            items.append(evidence(doc, path, "The only contact on the deal"))
        severity = "high" if amount >= 100_000 else "medium"
        summary = f"{len(contacts)} contact(s) on a deal of {amount:,.0f}."
        risks.append(_risk("single_threaded", severity, summary, items))
    past_discovery = stage in MID_STAGES or _is_late(stage)
    senior = any(is_economic_buyer(c.get("job_title")) for c in contacts)
    if amount >= 50_000 and past_discovery and not senior:
        items = [evidence(doc, "amount", "Deal amount")]
        for contact in contacts[:4]:
            if contact.get("job_title"):
                path = f"contacts.{contact['id']}.job_title"
                items.append(evidence(doc, path, "Not an economic buyer"))
        severity = "high" if stage == "contractsent" else "medium"
        summary = f"No VP, C-level or owner contact on a deal of {amount:,.0f}."
        risks.append(_risk("no_economic_buyer", severity, summary, items))

    if stage in ("decisionmakerboughtin", "contractsent") and not first_matching(
        human_activities(doc), PRICING
    ):
        items = [evidence(doc, "stage", "Late-stage deal")]
        summary = "Late in the cycle and no activity mentions pricing, a quote or a proposal."
        risks.append(_risk("pricing_not_discussed", "medium", summary, items))
    return risks


def _forecast(health: str, stage: str, doc: dict[str, Any], now: datetime) -> str:
    """A forecast category consistent with the health (a red deal is never commit)."""
    if health == "red":
        overdue = (doc.get("days_to_close") or 0) < 0
        inbound = [a for a in past_activities(doc, now) if a.get("direction") == "inbound"]
        last = activity_time(inbound[0]) if inbound else None
        silent = last is None or (to_utc(now) - last).days >= 30
        return "omitted" if overdue and silent else "pipeline"
    if health == "amber":
        return "best_case" if _is_late(stage) else "pipeline"
    to_close = doc.get("days_to_close")
    if _is_late(stage) and (to_close is None or to_close <= 92):
        return "commit"
    return "best_case" if stage in MID_STAGES or _is_late(stage) else "pipeline"


def _summary(doc: dict[str, Any], health: str, risks: list[dict[str, Any]], forecast: str) -> str:
    """Stage, amount, health and the biggest threat, plus any instructions found in CRM text."""
    amount = number(doc.get("amount"))
    money = f", {amount:,.0f} {doc.get('currency') or ''}".rstrip() if amount else ""
    head = f"Stage {doc.get('stage') or 'unknown'}{money}: health {health}, forecast {forecast}."
    if risks:
        others = len(risks) - 1
        more = f" Plus {others} other risk(s)." if others else ""
        head += f" Biggest threat: {risks[0]['summary']}{more}"
    else:
        head += " No risk signals in the record."
    note = untrusted_note(doc)
    # The call-out survives the length cap: the verifier's injection guard requires it.
    return head[: 600 - len(note)] + note


def deal_review(doc: dict[str, Any], now: datetime, spec: SopSpec) -> dict[str, Any]:
    """Review a deal's risks (deal-review SOP output shape)."""
    stage = stage_key(doc.get("stage"))
    if stage in CLOSED_WON | CLOSED_LOST:
        won = stage in CLOSED_WON
        return {
            "health": "green",
            "risks": [],
            "next_steps": ["No action: the deal is closed " + ("won." if won else "lost.")],
            "forecast_category": "commit" if won else "omitted",
            "summary": f"Deal is closed {'won' if won else 'lost'}; closed deals are not reviewed.",
        }
    risks = _deal_risks(doc, now, stage) + _activity_risks(doc, now, stage)
    order = {"high": 0, "medium": 1, "low": 2}
    risks.sort(key=lambda r: order[r["severity"]])
    if len([r for r in risks if r["severity"] == "medium"]) >= 3 and risks[0]["severity"] != "high":
        # Three mediums make the deal red; the taxonomy says to raise the most serious to high,
        # so health and severities tell one story ("red has a high risk" is checked).
        risks[0]["severity"] = "high"
        risks[0]["summary"] += f" Raised to high: {len(risks) - 1} other risks compound it."
    if any(r["severity"] == "high" for r in risks):
        health = "red"
    elif risks:
        health = "amber"
    else:
        health = "green"
    if risks:
        next_steps = [NEXT_STEPS[r["type"]] for r in risks][:5]
    else:
        next_steps = ["Confirm the agreed next step and the close plan with the buyer this week."]
    forecast = _forecast(health, stage, doc, now)
    return {
        "health": health,
        "risks": risks,
        "next_steps": next_steps,
        "forecast_category": forecast,
        "summary": _summary(doc, health, risks, forecast),
    }
