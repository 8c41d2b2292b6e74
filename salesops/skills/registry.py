"""The skill registry: tool skills (typed, read-only functions) and offline skills. Pure Python.

Knowledge skills (SKILL.md files) live in `sop_library/skills/` and are loaded by the spec
package; this module only knows the skills implemented in code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salesops.skills.offline import deal_review, follow_up, lead_qualification
from salesops.skills.tools import (
    BUSINESS_DAYS_ADD,
    DAYS_BETWEEN,
    GET_FIELD,
    GET_RELATED,
    LIST_ACTIVITIES,
    Tool,
    ToolError,
    ToolInputError,
)
from salesops.specs.model import SopSpec

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "OFFLINE_SKILLS",
    "TOOL_SKILLS",
    "OfflineSkill",
    "Tool",
    "ToolError",
    "ToolInputError",
    "offline_skill_names",
    "tool_call",
    "tool_skill_names",
    "tools_for",
]

OfflineSkill = Callable[[dict[str, Any], datetime, SopSpec], dict[str, Any]]

TOOL_SKILLS: dict[str, tuple[Tool, ...]] = {
    "crm-lookup": (GET_FIELD, LIST_ACTIVITIES, GET_RELATED),
    "calculators": (BUSINESS_DAYS_ADD, DAYS_BETWEEN),
}

OFFLINE_SKILLS: dict[str, OfflineSkill] = {
    "lead_qualification": lead_qualification,
    "follow_up": follow_up,
    "deal_review": deal_review,
}


@functools.cache
def _validators() -> dict[str, tuple[Tool, Draft202012Validator]]:
    # One validator per tool, built once: tools are called in a model's tool loop, often
    # repeatedly. Built on first use, not at import: jsonschema costs ~30 ms of start-up.
    from jsonschema import Draft202012Validator

    return {
        tool.name: (tool, Draft202012Validator(tool.input_schema))
        for tools in TOOL_SKILLS.values()
        for tool in tools
    }


def tool_skill_names() -> set[str]:
    """Names of the tool skills an SOP may list under `skills`."""
    return set(TOOL_SKILLS)


def offline_skill_names() -> set[str]:
    """Names an SOP may give as `offline`."""
    return set(OFFLINE_SKILLS)


def tools_for(skill_names: Iterable[str]) -> list[Tool]:
    """The tools of the named skills, in order, without duplicates; knowledge skills are ignored."""
    seen: set[str] = set()
    tools: list[Tool] = []
    for skill in skill_names:
        for tool in TOOL_SKILLS.get(skill, ()):
            if tool.name not in seen:
                seen.add(tool.name)
                tools.append(tool)
    return tools


def tool_call(tool: Tool, args: Any, record: dict[str, Any]) -> Any:
    """Validate `args` against the tool's input schema, then run it on the record document.

    Raises ToolInputError for arguments that do not fit the schema, ToolError when the tool
    cannot answer (e.g. a path that does not exist).
    """
    if not isinstance(args, dict):
        raise ToolInputError(f"{tool.name}: arguments must be an object, got {type(args).__name__}")
    import jsonschema

    cached = _validators().get(tool.name)
    if cached is not None and cached[0] is tool:
        validator = cached[1]
    else:
        validator = jsonschema.Draft202012Validator(tool.input_schema)
    errors = sorted(validator.iter_errors(args), key=lambda e: e.json_path)
    if errors:
        detail = "; ".join(f"{e.json_path}: {e.message}" for e in errors)
        raise ToolInputError(f"{tool.name}: invalid arguments: {detail}")
    try:
        return tool.handler(args, record)
    except ToolError:
        raise
    except (KeyError, ValueError, TypeError, jsonschema.ValidationError) as exc:
        raise ToolError(f"{tool.name}: {exc}") from exc
