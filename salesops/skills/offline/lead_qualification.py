"""Offline lead qualification: the qualification-rubric skill applied deterministically.

Rules (sop_library/skills/qualification-rubric/SKILL.md; every point cites a record field):
- Fit, up to 50: company.employees 200-2,000 -> 20, 2,001-5,000 or 50-199 -> 12, over 5,000
  -> 15, under 50 -> 4; industry target (software, financial services, healthcare, logistics)
  -> 15, adjacent (manufacturing, retail, professional services, insurance) -> 8, other -> 3;
  job_title C-level / VP / head of / founder / owner -> 15, director -> 12, manager / lead -> 8,
  other -> 4. Unknown scores 0.
- Intent, up to 50, from non-AI, past activities: inbound (or noted: a note not marked
  outbound) demo request within 14 days (or a demo lead source on a contact created within 14
  days) -> 30; meeting within 30 days -> 15; inbound email within 14 days -> 10; inbound or
  noted pricing question within 30 days -> 10; connected call
  within 30 days -> 5; content download / webinar -> 3.
- Disqualification, in the rubric's precedence: competitor_customer (company.customer_status or
  an activity saying they are under contract with a competitor), out_of_territory (a known
  country outside NA / UK / IE / EU / NO / CH / AU / NZ), student (.edu address or "student"
  title), personal_email (personal mailbox and no company), not_decision_maker (intern /
  assistant / trainee title, or an activity saying they have no say), no_budget (an activity
  saying so), no_fit (under 10 employees). `duplicate` needs a CRM-wide lookup the record
  document does not carry, so the offline skill never returns it.
- Tier A >= 80 -> call_within_24h, B 60-79 -> send_follow_up (nurture when opted out of email),
  C < 60 -> nurture; disqualified -> no_action (nurture for no_budget / no_fit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from salesops.skills.offline.common import (
    Evidence,
    days_ago,
    evidence,
    first_matching,
    human_activities,
    number,
    past_activities,
    quote_evidence,
    seniority,
    sentence_with,
    untrusted_note,
)
from salesops.specs.model import SopSpec

PERSONAL_DOMAINS = {
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "outlook.com", "live.com", "msn.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de",
}  # fmt: skip
TARGET_INDUSTRIES = ("software", "financial services", "fintech", "healthcare", "logistics")
ADJACENT_INDUSTRIES = ("manufacturing", "retail", "professional services", "insurance")
TERRITORY = {
    "us", "usa", "united states", "united states of america", "ca", "canada",
    "gb", "uk", "united kingdom", "great britain", "england", "scotland", "wales",
    "northern ireland", "ie", "ireland", "no", "norway", "ch", "switzerland",
    "au", "australia", "nz", "new zealand",
    # EU member states
    "at", "austria", "be", "belgium", "bg", "bulgaria", "hr", "croatia", "cy", "cyprus",
    "cz", "czechia", "czech republic", "dk", "denmark", "ee", "estonia", "fi", "finland",
    "fr", "france", "de", "germany", "gr", "greece", "hu", "hungary", "it", "italy",
    "lv", "latvia", "lt", "lithuania", "lu", "luxembourg", "mt", "malta", "nl",
    "netherlands", "the netherlands", "pl", "poland", "pt", "portugal", "ro", "romania",
    "sk", "slovakia", "si", "slovenia", "es", "spain", "se", "sweden",
}  # fmt: skip
SENIORITY_POINTS = {"c_level": 15, "vp": 15, "director": 12, "manager": 8, "staff": 4, "junior": 4}

COMPETITOR_CONTRACT = re.compile(
    r"(competitor|competing|another vendor|other vendor).{0,120}(contract|locked in|renew)"
    r"|(contract|locked in|renew).{0,120}(competitor|competing|another vendor|other vendor)",
    re.I | re.S,
)
NO_SAY = re.compile(
    r"\b(not|isn't|is not|am not) (the |a )?decision[- ]maker\b"
    r"|\bno say\b|\bnot my (call|decision)\b",
    re.I,
)
NO_BUDGET = re.compile(
    r"\bno budget\b|\bbudget (is |was |has been )?(frozen|cut)\b|\bbudget freeze\b|\bno funding\b",
    re.I,
)
DEMO = re.compile(r"\bdemo\b", re.I)
PRICING = re.compile(r"\b(pricing|price|prices|quote|cost|costs)\b", re.I)
CONTENT = re.compile(r"\b(webinar|download|downloaded|whitepaper|ebook|e-book)\b", re.I)


def _country(doc: dict[str, Any]) -> tuple[str, str | None]:
    """The lead's country: the contact's own, else the company's."""
    if doc.get("country"):
        return "country", str(doc["country"])
    company = doc.get("company") or {}
    if company.get("country"):
        return "company.country", str(company["country"])
    return "country", None


def _activity_quote(doc: dict[str, Any], pattern: re.Pattern[str], claim: str) -> Evidence | None:
    """Evidence quoting the sentence of the newest activity that matches `pattern`."""
    found = first_matching(human_activities(doc), pattern)
    if not found:
        return None
    activity, field = found
    quote = sentence_with(activity[field], pattern)
    return quote_evidence(doc, f"activities.{activity['id']}.{field}", quote, claim)


def _disqualification(doc: dict[str, Any]) -> tuple[str, list[Evidence]] | None:
    """The first disqualification reason that applies (rubric order), with its evidence."""
    company = doc.get("company") or None
    if company and str(company.get("customer_status") or "").lower() == "competitor_customer":
        claim = "Company is a competitor's customer"
        return "competitor_customer", [evidence(doc, "company.customer_status", claim)]
    quoted = _activity_quote(doc, COMPETITOR_CONTRACT, "Under contract with a competitor")
    if quoted:
        return "competitor_customer", [quoted]
    country_path, country = _country(doc)
    if country and country.strip().lower() not in TERRITORY:
        return "out_of_territory", [evidence(doc, country_path, "Country is outside our territory")]
    email = str(doc.get("email") or "").strip().lower()
    domain = email.rpartition("@")[2]
    title = str(doc.get("job_title") or "")
    if re.search(r"\bstudent\b", title, re.I):
        return "student", [evidence(doc, "job_title", "Job title says they are a student")]
    if domain.endswith(".edu"):
        return "student", [evidence(doc, "email", "Uses an academic (.edu) email address")]
    if domain in PERSONAL_DOMAINS and not company:
        return "personal_email", [evidence(doc, "email", "Personal mailbox and no company")]
    if seniority(title) == "junior":
        claim = "Junior title; not a decision maker"
        return "not_decision_maker", [evidence(doc, "job_title", claim)]
    quoted = _activity_quote(doc, NO_SAY, "Says they are not the decision maker")
    if quoted:
        return "not_decision_maker", [quoted]
    quoted = _activity_quote(doc, NO_BUDGET, "Says there is no budget")
    if quoted:
        return "no_budget", [quoted]
    employees = number((company or {}).get("employees"))
    if employees is not None and employees < 10:
        return "no_fit", [evidence(doc, "company.employees", "Fewer than 10 employees")]
    return None


def _fit(doc: dict[str, Any]) -> tuple[int, list[Evidence], list[str]]:
    """Fit points (0-50) with the fields relied on, and the signals that are unknown."""
    points, items, unknown = 0, [], []
    company = doc.get("company") or {}
    employees = number(company.get("employees"))
    if employees is None:
        unknown.append("company size")
    else:
        if 200 <= employees <= 2000:
            size, claim = 20, "Company size in our 200-2,000 sweet spot"
        elif employees > 5000:
            size, claim = 15, "Enterprise company (over 5,000 employees)"
        elif employees >= 50:
            size, claim = 12, "Company size near our sweet spot"
        else:
            size, claim = 4, "Small company (under 50 employees)"
        points += size
        items.append(evidence(doc, "company.employees", claim))
    industry = str(company.get("industry") or "").strip().lower()
    if not industry:
        unknown.append("industry")
    else:
        if any(t in industry for t in TARGET_INDUSTRIES):
            ind, claim = 15, "Target industry"
        elif any(t in industry for t in ADJACENT_INDUSTRIES):
            ind, claim = 8, "Adjacent industry"
        else:
            ind, claim = 3, "Industry outside our focus"
        points += ind
        items.append(evidence(doc, "company.industry", claim))
    band = seniority(doc.get("job_title"))
    if band is None:
        unknown.append("job title")
    else:
        points += SENIORITY_POINTS[band]
        label = {"c_level": "C-level", "vp": "VP / head-of", "staff": "individual contributor"}
        items.append(evidence(doc, "job_title", f"Seniority: {label.get(band, band)}"))
    return points, items, unknown


def _intent(doc: dict[str, Any], now: datetime) -> tuple[int, list[Evidence]]:
    """Intent points (0-50) from recent non-AI activity, strongest signal first."""
    recent = [(a, days_ago(a, now) or 0) for a in past_activities(doc, now)]
    inbound = [(a, d) for a, d in recent if a.get("direction") == "inbound"]
    # What the lead asked for (a demo, pricing) may be logged as a note: a form submission or
    # a page visit recorded on the timeline. Neither HubSpot nor Salesforce gives a note a
    # direction, so a note counts as the lead's own signal unless it says it is outbound.
    asked = [
        (a, d)
        for a, d in recent
        if a.get("direction") == "inbound"
        or (a.get("kind") == "note" and a.get("direction") != "outbound")
    ]
    points, items = 0, []

    def cite(activity: Mapping[str, Any], field: str, claim: str, gained: int) -> None:
        nonlocal points
        points += gained
        items.append(evidence(doc, f"activities.{activity['id']}.{field}", claim))

    demo = first_matching([a for a, d in asked if d <= 14], DEMO)
    created = days_ago({"timestamp": doc.get("created_at")}, now)
    if demo:
        cite(demo[0], demo[1], "Requested a demo in the last 14 days", 30)
    elif DEMO.search(str(doc.get("lead_source") or "")) and created is not None and created <= 14:
        points += 30
        items.append(evidence(doc, "lead_source", "Came in through a demo request"))
    meeting = next((a for a, d in recent if a.get("kind") == "meeting" and d <= 30), None)
    if meeting:
        cite(meeting, "kind", "Met with us in the last 30 days", 15)
    reply = next((a for a, d in inbound if a.get("kind") == "email" and d <= 14), None)
    if reply:
        cite(reply, "direction", "Emailed us in the last 14 days", 10)
    pricing = first_matching([a for a, d in asked if d <= 30], PRICING)
    if pricing:
        cite(pricing[0], pricing[1], "Asked about pricing", 10)
    call = next(
        (a for a, d in recent if a.get("kind") == "call" and d <= 30
         and "connect" in str(a.get("outcome") or "").lower()),
        None,
    )  # fmt: skip
    if call:
        cite(call, "outcome", "Connected call in the last 30 days", 5)
    content = first_matching([a for a, d in recent if d <= 30], CONTENT)
    if content and points == 0:
        cite(content[0], content[1], "Downloaded content or attended a webinar", 3)
    return min(points, 50), items


def _padded(doc: dict[str, Any], items: list[Evidence]) -> list[Evidence]:
    """Keep 2..8 rationale items: drop repeated fields, pad from basic fields when too few."""
    seen: set[str] = set()
    unique: list[Evidence] = []
    for item in items:
        if item["field"] not in seen:
            seen.add(item["field"])
            unique.append(item)
    for path, claim in (
        ("days_since_last_activity", "Days since the last logged activity (null: none)"),
        ("email", "Contact email on record"),
        ("lifecycle_stage", "Current lifecycle stage"),
        ("id", "The contact record assessed"),
    ):
        if len(unique) >= 2:
            break
        if path not in seen:
            unique.append(evidence(doc, path, claim))
            seen.add(path)
    return unique[:8]


def _capped(summary: str, note: str, limit: int = 400) -> str:
    """The summary within the schema's limit, keeping the untrusted-text call-out whole."""
    return summary[: limit - len(note)] + note


def lead_qualification(doc: dict[str, Any], now: datetime, spec: SopSpec) -> dict[str, Any]:
    """Score and tier a contact (lead-qualification SOP output shape)."""
    fit, fit_items, unknown = _fit(doc)
    intent, intent_items = _intent(doc, now)
    score = max(0, min(100, fit + intent))
    name = " ".join(str(doc.get(k)) for k in ("first_name", "last_name") if doc.get(k)) or "Lead"
    gaps = f" Unknown: {', '.join(unknown)}." if unknown else ""
    disqualified = _disqualification(doc)
    if disqualified:
        reason, reason_items = disqualified
        next_action = "nurture" if reason in ("no_budget", "no_fit") else "no_action"
        summary = (
            f"{name} is disqualified: {reason.replace('_', ' ')}. Score {score} "
            f"(fit {fit}/50, intent {intent}/50).{gaps}"
        )
        return {
            "score": score,
            "tier": "disqualified",
            "disqualification_reason": reason,
            "rationale": _padded(doc, reason_items + fit_items + intent_items),
            "next_action": next_action,
            "summary": _capped(summary, untrusted_note(doc)),
        }
    tier = "A" if score >= 80 else "B" if score >= 60 else "C"
    next_action = {"A": "call_within_24h", "B": "send_follow_up", "C": "nurture"}[tier]
    if next_action == "send_follow_up" and doc.get("email_opt_out") is True:
        next_action = "nurture"  # an opted-out contact gets no sales email
    no_intent = " No buying signal in recent activity." if not intent_items else ""
    summary = (
        f"{name}: tier {tier}, score {score} (fit {fit}/50, intent {intent}/50).{no_intent}{gaps}"
    )
    # Strongest intent signal first after the fit items would drop it at the 8-item cap.
    rationale = _padded(doc, fit_items[:2] + intent_items + fit_items[2:])
    return {
        "score": score,
        "tier": tier,
        "disqualification_reason": None,
        "rationale": rationale,
        "next_action": next_action,
        "summary": _capped(summary, untrusted_note(doc)),
    }
