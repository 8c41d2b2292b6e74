"""JSON Schemas (draft 2020-12) for the front matter of SOPs, fragments and knowledge skills.

These check shape only; cross-references (skills, fragments, events, fields, expressions) are
checked by the parser, which can name what is known.
"""

from __future__ import annotations

from typing import Any

from connectors.record_model import CONTEXT_NAMES, OBJECT_FIELDS

NAME_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"
SKILL_NAME_PATTERN = r"^[a-z0-9-]+$"
# Plain-language meaning of each pattern, for error messages.
PATTERN_HELP = {
    NAME_PATTERN: "lowercase letters, digits and '-', starting with a letter, 2-63 characters",
    SKILL_NAME_PATTERN: "lowercase letters, digits and '-'",
    r"^[a-z0-9][a-z0-9_-]*$": "lowercase letters, digits, '-' and '_'",
}
PRIORITIES = ("LOW", "MEDIUM", "HIGH")

_TEXT = {"type": "string", "minLength": 1}
_EXPR = {"type": "string", "minLength": 1}
_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$"}  # check ids: see PATTERN_HELP
_NAMES = {"type": "array", "items": _TEXT, "uniqueItems": True}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


SOP_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_closed(
        {
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "title": _TEXT,
            "description": _TEXT,
            "object": {"enum": sorted(OBJECT_FIELDS)},
            "applies_when": _EXPR,
            "include": _NAMES,
            "triggers": {
                "type": "array",
                "items": _closed(
                    {"event": _TEXT, "property": _TEXT, "schedule": _TEXT, "where": _EXPR}
                ),
            },
            "context": {
                "type": "array",
                "items": {"enum": list(CONTEXT_NAMES)},
                "uniqueItems": True,
            },
            "skills": _NAMES,
            "offline": _TEXT,
            "output": {"type": "object"},
            "evidence": _NAMES,
            "acceptance": {
                "type": "array",
                "items": _closed(
                    {
                        "id": _ID,
                        "check": _EXPR,
                        "judge": _TEXT,
                        "message": _TEXT,
                        "when_unavailable": {"enum": ["auto", "escalate", "skip"]},
                    },
                    ["id", "message"],
                ),
            },
            "rubric": _closed(
                {
                    "compare": {
                        "type": "array",
                        "minItems": 1,
                        "items": _closed(
                            {
                                "field": _TEXT,
                                "tolerance": {"type": "number", "minimum": 0},
                                "order": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "minItems": 2,
                                    "uniqueItems": True,
                                },
                            },
                            ["field"],
                        ),
                    }
                },
                ["compare"],
            ),
            "escalate_when": {
                "type": "array",
                "items": _closed(
                    {"id": _ID, "when": _EXPR, "message": _TEXT}, ["id", "when", "message"]
                ),
            },
            "write_back": {
                "type": "array",
                "items": {
                    **_closed(
                        {
                            "set_property": _closed(
                                {"name": _TEXT, "value": _EXPR, "when": _EXPR}, ["name", "value"]
                            ),
                            "note": _closed({"template": _TEXT, "when": _EXPR}, ["template"]),
                            "task": _closed(
                                {
                                    "subject": _TEXT,
                                    "template": _TEXT,
                                    "when": _EXPR,
                                    "due_in_business_days": {"type": "integer", "minimum": 0},
                                    "due_date": _EXPR,
                                    "priority": {"enum": list(PRIORITIES)},
                                },
                                ["subject"],
                            ),
                        }
                    ),
                    "minProperties": 1,
                    "maxProperties": 1,
                },
            },
            "model": _closed(
                {
                    "model": _TEXT,
                    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
                    "max_turns": {"type": "integer", "minimum": 1, "maximum": 50},
                    "max_tokens": {"type": "integer", "minimum": 1},
                    "budget_tokens_per_run": {"type": "integer", "minimum": 1},
                    "budget_usd_per_run": {"type": "number", "exclusiveMinimum": 0},
                }
            ),
        },
        ["name", "title", "description", "object", "output"],
    ),
}

FRAGMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_closed(
        {
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "title": _TEXT,
            # Company-wide checks every includer inherits (expressions only: no judges).
            "acceptance": {
                "type": "array",
                "items": _closed(
                    {"id": _ID, "check": _EXPR, "message": _TEXT}, ["id", "check", "message"]
                ),
            },
        },
        ["name", "title"],
    ),
}

# Agent Skills SKILL.md front matter (agentskills.io specification).
SKILL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_closed(
        {
            "name": {"type": "string", "pattern": SKILL_NAME_PATTERN, "maxLength": 64},
            "description": {"type": "string", "minLength": 1, "maxLength": 1024},
            "license": {"type": "string"},
            "compatibility": {"type": "string", "maxLength": 500},
            "allowed-tools": {"type": "string"},
            "metadata": {"type": "object"},
        },
        ["name", "description"],
    ),
}

# Front matter keys in the order render_sop writes them (the order of docs/sop-format.md).
SOP_KEY_ORDER: tuple[str, ...] = (
    "name",
    "title",
    "description",
    "object",
    "applies_when",
    "include",
    "triggers",
    "context",
    "skills",
    "offline",
    "output",
    "evidence",
    "acceptance",
    "rubric",
    "escalate_when",
    "write_back",
    "model",
)
