"""Small SOP texts built in code, so spec tests never depend on the shipped sop_library."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from salesops.specs import Fragment, SopSpec, parse_sop

DROP = object()

OUTPUT: dict[str, Any] = {
    "type": "object",
    "required": ["score", "tier", "rationale", "summary"],
    "properties": {
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "tier": {"enum": ["A", "B", "C", "disqualified"]},
        "disqualification_reason": {"type": ["string", "null"]},
        "rationale": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "claim": {"type": "string"},
                    "field": {"type": "string"},
                    "value": {},
                },
            },
        },
        "summary": {"type": "string", "maxLength": 400},
    },
}

FRONT_MATTER: dict[str, Any] = {
    "name": "lead-qualification",
    "title": "Lead qualification",
    "description": "Score and tier new leads.",
    "object": "contact",
    "applies_when": "record.email_opt_out != true",
    "include": ["company-policy"],
    "triggers": [
        {"event": "contact.created"},
        {"event": "contact.property_changed", "property": "lifecycle_stage"},
        {"schedule": "0 8 * * 1-5", "where": "record.lifecycle_stage == 'lead'"},
    ],
    "context": ["company", "recent_activities"],
    "skills": ["crm-lookup", "bant-rubric"],
    "offline": "lead_qualification",
    "output": OUTPUT,
    "evidence": ["rationale"],
    "acceptance": [
        {
            "id": "tier-matches-score",
            "check": "result.tier != 'A' || result.score >= 80",
            "message": "Tier A needs a score of 80 or more.",
        },
        {
            "id": "polite",
            "judge": "Is the summary polite and free of speculation?\nAnswer strictly.",
            "message": "The summary must be polite.",
            "when_unavailable": "skip",
        },
    ],
    "escalate_when": [
        {
            "id": "enterprise",
            "when": "has(record.company.employees) && record.company.employees > 5000",
            "message": "Enterprise accounts go to an AE.",
        }
    ],
    "write_back": [
        {
            "set_property": {
                "name": "lead_status",
                "value": "result.tier == 'disqualified' ? 'UNQUALIFIED' : 'OPEN'",
            }
        },
        {"note": {"template": "notes/lead_qualification.md"}},
        {
            "task": {
                "when": "result.tier == 'A'",
                "subject": "Call {{ record.first_name }} within 24h",
                "due_in_business_days": 1,
                "priority": "HIGH",
            }
        },
    ],
    "model": {"max_attempts": 3, "budget_usd_per_run": 0.05},
}

BODY = (
    "## Goal\nQualify the lead against BANT.\n\n"
    "## Constraints\nNever guess a company size.\n\n"
    "## What good looks like\nA score backed by evidence.\n"
)

FRAGMENTS = {
    "company-policy": Fragment(
        name="company-policy", title="Company policy", body="Be honest.", source="f.md"
    )
}
KNOWN_SKILLS = {"crm-lookup", "bant-rubric"}
OFFLINE_SKILLS = {"lead_qualification", "follow_up", "deal_review"}
TEMPLATES = {"notes/lead_qualification.md", "notes/lead_task.md"}
SOURCE = "sop_library/lead-qualification.md"


def front_matter(changes: dict[tuple[Any, ...], Any] | None = None) -> dict[str, Any]:
    """The base front matter with `changes` applied: path tuple -> new value (or DROP)."""
    data = copy.deepcopy(FRONT_MATTER)
    for path, value in (changes or {}).items():
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        if value is DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return data


def sop_text(changes: dict[tuple[Any, ...], Any] | None = None, body: str = BODY) -> str:
    """A whole SOP file."""
    dumped = yaml.safe_dump(front_matter(changes), sort_keys=False)
    return f"---\n{dumped}---\n\n{body}"


def parse(text: str, *, source: str = SOURCE, **overrides: Any) -> SopSpec:
    """parse_sop with the sample fragments, skills and templates."""
    options: dict[str, Any] = {
        "fragments": FRAGMENTS,
        "known_skills": KNOWN_SKILLS,
        "offline_skills": OFFLINE_SKILLS,
        "template_exists": TEMPLATES.__contains__,
    }
    options.update(overrides)
    return parse_sop(text, source=source, **options)
