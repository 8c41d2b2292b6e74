"""Scripted Claude stand-ins for the emulator: answers built from what the engine sent.

The emulator calls a responder with each request body. These responders read the SOP name,
the run's time and the record from the request itself (no database), so they also work when
the engine runs in a qcluster worker process (the benchmarks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from salesops.agents.assembly import SUBMIT_TOOL, VERDICT_TOOL
from salesops.skills.registry import OFFLINE_SKILLS
from salesops.specs.model import SopSpec
from tests.emulators.anthropic_api import Reply, reply, tool_use

_RECORD = re.compile(r"<crm_record [^>]*>\n(.*)\n</crm_record>", re.S)
_SOP = re.compile(r'You run the sales procedure ".*?" \(([\w-]+)\)')
_NOW = re.compile(r"The time of this run is (\S+)\.\n")

Propose = Callable[[dict[str, Any], int], dict[str, Any]]


def first_text(request: dict[str, Any]) -> str:
    """The text of the run's first user message (the record message)."""
    content = request["messages"][0]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def sop_name(request: dict[str, Any]) -> str:
    """The SOP the request runs, from the system prompt's first line."""
    system = request["system"]
    text = system if isinstance(system, str) else system[0]["text"]
    match = _SOP.search(text)
    assert match, "the system prompt does not name its SOP"
    return match.group(1)


def record_of(request: dict[str, Any]) -> dict[str, Any]:
    """The record document the engine sent, parsed back from its <crm_record> block."""
    match = _RECORD.search(first_text(request))
    assert match, "no <crm_record> block in the first message"
    return json.loads(match.group(1))


def run_now(request: dict[str, Any]) -> datetime:
    """The run's time, as the engine stated it."""
    match = _NOW.search(first_text(request))
    assert match, "the first message does not state the run's time"
    return datetime.fromisoformat(match.group(1))


def is_judge(request: dict[str, Any]) -> bool:
    """A judge call forces the verdict tool."""
    return (request.get("tool_choice") or {}).get("name") == VERDICT_TOOL


def submissions(request: dict[str, Any]) -> int:
    """How many submit_result calls the conversation already holds."""
    return sum(
        1
        for m in request["messages"]
        if m["role"] == "assistant" and isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_use" and b.get("name") == SUBMIT_TOOL
    )


def verdict(passed: bool, *reasons: str) -> Reply:
    """A judge's answer through the verdict tool."""
    return reply(tool_use(VERDICT_TOOL, {"pass": passed, "reasons": list(reasons) or ["ok"]}))


class Agent:
    """A well-behaved agent: one crm-lookup call, then the offline skill's result through
    submit_result; judges pass. `propose(output, attempt)` alters a submission; `judge` answers
    judge calls; `lookup=False` submits on the first turn."""

    def __init__(
        self,
        specs: dict[str, SopSpec],
        *,
        lookup: bool = True,
        propose: Propose | None = None,
        judge: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.specs = specs
        self.lookup = lookup
        self.propose = propose
        self.judge = judge or (lambda request: verdict(True, "specific and grounded"))

    def __call__(self, request: dict[str, Any]) -> Reply:
        if is_judge(request):
            return self.judge(request)
        if self.lookup and len(request["messages"]) == 1:
            return reply(
                "Let me read the latest activities.", tool_use("list_activities", {"limit": 3})
            )
        spec = self.specs[sop_name(request)]
        output = OFFLINE_SKILLS[spec.offline or ""](record_of(request), run_now(request), spec)
        if self.propose is not None:
            output = self.propose(output, submissions(request) + 1)
        return reply(tool_use(SUBMIT_TOOL, output))


def never_submits(request: dict[str, Any]) -> Reply:
    """A runaway agent: keeps reading the record and never proposes a result."""
    return reply(tool_use("list_activities", {"limit": 50}))
