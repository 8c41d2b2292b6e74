"""Tool skills: typed, read-only functions with a JSON Schema for their input. Pure Python.

Tools read the record document of the run; none of them writes anywhere (writes belong to
write-back, after verification).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from salesops.skills.context import document_path_get, parse_date

ToolHandler = Callable[[dict[str, Any], dict[str, Any]], Any]


class ToolError(Exception):
    """A tool could not answer (bad input, a path that does not exist); the message says why."""


class ToolInputError(ToolError):
    """The tool's arguments do not match its input schema."""


@dataclass(frozen=True)
class Tool:
    """A read-only tool: name, description for the model, JSON Schema input, and a handler."""

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: ToolHandler


ACTIVITY_KINDS = ["call", "email", "meeting", "note", "task"]
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}"


def _get_field(args: dict[str, Any], record: dict[str, Any]) -> Any:
    """Return the value at a record-document path."""
    try:
        return {"path": args["path"], "value": document_path_get(record, args["path"])}
    except KeyError as exc:
        raise ToolError(str(exc)) from None


def _list_activities(args: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """Newest-first activities, optionally of one kind, at most `limit`."""
    kind = args.get("kind")
    limit = args.get("limit", 10)
    items = [a for a in record.get("activities") or [] if kind is None or a.get("kind") == kind]
    return items[:limit]


def _get_related(args: dict[str, Any], record: dict[str, Any]) -> Any:
    """The related company (object or None) or the contacts / deals lists."""
    kind = args["kind"]
    if kind not in record:
        raise ToolError(f"a {record.get('object', 'record')} has no related {kind}")
    return record[kind]


def _date_arg(args: dict[str, Any], name: str) -> date:
    """Parse a YYYY-MM-DD (or ISO timestamp) argument, with a clear error."""
    parsed = parse_date(args[name])
    if parsed is None:
        raise ToolInputError(f"{name}: {args[name]!r} is not a date (YYYY-MM-DD)")
    return parsed


def business_days_add(start: date, days: int) -> date:
    """Move `days` business days (Mon-Fri) from `start`; negative moves backwards."""
    step = 1 if days >= 0 else -1
    current = start
    remaining = abs(days)
    while remaining:
        current += timedelta(days=step)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _business_days_add(args: dict[str, Any], record: dict[str, Any]) -> str:
    """Tool form of business_days_add."""
    return business_days_add(_date_arg(args, "date"), args["days"]).isoformat()


def _days_between(args: dict[str, Any], record: dict[str, Any]) -> int:
    """Calendar days from start to end (negative when end is earlier)."""
    return (_date_arg(args, "end") - _date_arg(args, "start")).days


_DATE_SCHEMA = {"type": "string", "pattern": _DATE_PATTERN, "description": "YYYY-MM-DD"}

GET_FIELD = Tool(
    name="get_field",
    description=(
        "Read one value from the CRM record by its dotted path, e.g. `job_title`, "
        "`company.employees`, `activities.a-104.body` (list items are addressed by id)."
    ),
    input_schema={
        "type": "object",
        "properties": {"path": {"type": "string", "minLength": 1}},
        "required": ["path"],
        "additionalProperties": False,
    },
    handler=_get_field,
)

LIST_ACTIVITIES = Tool(
    name="list_activities",
    description="List the record's logged activities, newest first, optionally of one kind.",
    input_schema={
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ACTIVITY_KINDS},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        },
        "additionalProperties": False,
    },
    handler=_list_activities,
)

GET_RELATED = Tool(
    name="get_related",
    description="Read the records related to this one: its company, contacts or deals.",
    input_schema={
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": ["company", "contacts", "deals"]}},
        "required": ["kind"],
        "additionalProperties": False,
    },
    handler=_get_related,
)

BUSINESS_DAYS_ADD = Tool(
    name="business_days_add",
    description="Add a number of business days (Mon-Fri) to a date; returns YYYY-MM-DD.",
    input_schema={
        "type": "object",
        "properties": {
            "date": _DATE_SCHEMA,
            "days": {"type": "integer", "minimum": -365, "maximum": 365},
        },
        "required": ["date", "days"],
        "additionalProperties": False,
    },
    handler=_business_days_add,
)

DAYS_BETWEEN = Tool(
    name="days_between",
    description="Calendar days from start to end (negative when end is before start).",
    input_schema={
        "type": "object",
        "properties": {"start": _DATE_SCHEMA, "end": _DATE_SCHEMA},
        "required": ["start", "end"],
        "additionalProperties": False,
    },
    handler=_days_between,
)
