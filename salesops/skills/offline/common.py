"""Helpers shared by the offline (rules) skills: grounded evidence, activity and title reading.

CRM text is data: the skills only look for keywords in it and never copy instructions from it
into their output. Activities the injection guard flags (salesops/guard) are left out of the
timeline the skills read, so they are never cited as evidence, and the summary names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from salesops.guard import detect, untrusted_activity_ids
from salesops.skills.context import document_path_get, parse_timestamp, to_utc
from salesops.specs.deal_stages import stage_key  # noqa: F401  (the skills import it from here)

Evidence = dict[str, Any]


def evidence(document: Mapping[str, Any], path: str, claim: str) -> Evidence:
    """An evidence item whose value is read from the document, so it is grounded by construction."""
    return {"claim": claim, "field": path, "value": document_path_get(document, path)}


def quote_evidence(document: Mapping[str, Any], path: str, quote: str, claim: str) -> Evidence:
    """An evidence item citing part of a text field; the quote must occur in that field."""
    full = document_path_get(document, path)
    if not isinstance(full, str) or quote not in full:
        raise ValueError(f"quote is not part of {path}")
    return {"claim": claim, "field": path, "value": quote}


def human_activities(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Activities not written by the AI and not carrying instructions to it, newest first."""
    flagged = untrusted_activity_ids(document)
    return [
        a
        for a in document.get("activities") or []
        if not a.get("ai_generated") and str(a.get("id")) not in flagged
    ]


def past_activities(document: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Non-AI activities that already happened (a meeting booked for next week is not one)."""
    cutoff = to_utc(now)
    return [a for a in human_activities(document) if (activity_time(a) or cutoff) <= cutoff]


def untrusted_note(document: Mapping[str, Any]) -> str:
    """A summary sentence naming CRM text that tries to instruct the AI ("" when there is none).

    Company policy: such text changes nothing, and the summary says so for a human to look at.
    """
    findings = detect(document)
    if not findings:
        return ""
    ids = list(dict.fromkeys(f.label for f in findings if f.source.startswith("activities.")))
    fields = list(dict.fromkeys(f.path for f in findings if not f.source.startswith("activities.")))
    where = [f"activity {', '.join(ids)}"] if ids else []
    where += [f"field {', '.join(fields)}"] if fields else []
    return f" Instructions to the AI in {' and '.join(where)} ignored as untrusted CRM text."


def activity_time(activity: Mapping[str, Any]) -> datetime | None:
    """The activity's timestamp as an aware datetime."""
    return parse_timestamp(activity.get("timestamp"))


def days_ago(activity: Mapping[str, Any], now: datetime) -> int | None:
    """Whole days between the activity and now."""
    moment = activity_time(activity)
    return None if moment is None else (to_utc(now) - moment).days


def activity_text(activity: Mapping[str, Any]) -> str:
    """Subject and body of an activity, lower-cased, for keyword matching."""
    return f"{activity.get('subject') or ''}\n{activity.get('body') or ''}".lower()


def text_field_with(activity: Mapping[str, Any], pattern: re.Pattern[str]) -> str | None:
    """Which text field of the activity ("body" or "subject") matches `pattern`, if any."""
    for name in ("body", "subject"):
        value = activity.get(name)
        if isinstance(value, str) and pattern.search(value):
            return name
    return None


def sentence_with(text: str, pattern: re.Pattern[str], limit: int = 200) -> str:
    """The sentence of `text` that matches `pattern`, verbatim (so it stays a substring)."""
    match = pattern.search(text)
    if not match:
        return text[:limit]
    start = max(text.rfind(sep, 0, match.start()) for sep in (". ", "! ", "? ", "\n"))
    start = 0 if start < 0 else start + 1
    ends = [i for i in (text.find(sep, match.end()) for sep in (". ", "! ", "? ", "\n")) if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    snippet = text[start:end].strip()
    if len(snippet) > limit:
        # Keep the match inside a bounded window; still an exact substring of the field.
        begin = max(match.start() - limit // 2, 0)
        snippet = text[begin : begin + limit].strip()
    return snippet


SENIORITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "c_level",
        re.compile(
            r"\b(chief|ceo|cto|cfo|coo|cro|cmo|cio|ciso|founder|co-founder|owner|president"
            r"|managing director|general manager|partner)\b",
            re.I,
        ),
    ),
    ("vp", re.compile(r"\b(vp|svp|evp|vice president|head of)\b", re.I)),
    ("director", re.compile(r"\bdirector\b", re.I)),
    ("manager", re.compile(r"\b(manager|lead|principal)\b", re.I)),
)
JUNIOR_PATTERN = re.compile(r"\b(intern|internship|assistant|trainee|apprentice)\b", re.I)
_NOT_JUNIOR = re.compile(r"\bassistant (vice president|general counsel|director)\b", re.I)


def seniority(job_title: str | None) -> str | None:
    """Seniority band of a title: c_level, vp, director, manager, junior, staff; None if blank."""
    if not job_title or not job_title.strip():
        return None
    if JUNIOR_PATTERN.search(job_title) and not _NOT_JUNIOR.search(job_title):
        return "junior"
    for band, pattern in SENIORITY_PATTERNS:
        if pattern.search(job_title):
            return band
    return "staff"


def is_senior_buyer(job_title: str | None) -> bool:
    """True for titles that can own a budget: C-level, VP/head of, director."""
    return seniority(job_title) in ("c_level", "vp", "director")


def is_economic_buyer(job_title: str | None) -> bool:
    """True for titles that own a budget in the taxonomy: C-level, VP, head of, founder, owner."""
    return seniority(job_title) in ("c_level", "vp")


def first_matching(
    activities: Iterable[Mapping[str, Any]], pattern: re.Pattern[str]
) -> tuple[Mapping[str, Any], str] | None:
    """The newest activity whose subject or body matches, with the matching field name."""
    for activity in activities:
        field = text_field_with(activity, pattern)
        if field:
            return activity, field
    return None


def number(value: Any) -> float | None:
    """A numeric property as float, None when absent or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None
