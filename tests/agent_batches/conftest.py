"""Batch fixtures: the Messages API emulator, the anthropic engine pointed at it, lead runs.

The emulator answers like a careful model: it reads the record out of the request and submits
what the SOP's deterministic offline skill makes of it, so results verify like real ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from connectors.base import RecordRef
from salesops.agents import assembly
from salesops.models import Run, Sop
from salesops.services.runs import run_create
from salesops.services.sops import sop_spec_get
from salesops.skills.registry import OFFLINE_SKILLS
from tests.emulators.anthropic_api import AnthropicEmulator, reply, tool_use

MODEL = "claude-sonnet-4-6"
_RECORD = re.compile(r"<crm_record [^>]*>\n(.*)\n</crm_record>", re.S)
_TIME = re.compile(r"The time of this run is (\S+)\.")


def model_answer(spec: Any):
    """A responder: submit_result with the offline skill's result; the judge says pass."""

    def respond(request: dict[str, Any]):
        if (request.get("tool_choice") or {}).get("name") == assembly.VERDICT_TOOL:
            return reply(tool_use(assembly.VERDICT_TOOL, {"pass": True, "reasons": ["specific"]}))
        first = request["messages"][0]["content"][0]["text"]
        record = json.loads(_RECORD.search(first).group(1))
        now = datetime.fromisoformat(_TIME.search(first).group(1))
        output = OFFLINE_SKILLS[spec.offline](record, now, spec)
        return reply(tool_use(assembly.SUBMIT_TOOL, output))

    return respond


@pytest.fixture
def lead_spec(library):
    return sop_spec_get(Sop.objects.get(name="lead-qualification").published_version)


@pytest.fixture
def emulator(lead_spec) -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(responder=model_answer(lead_spec)) as emu:
        yield emu


@pytest.fixture
def claude(settings, emulator):
    """The anthropic engine against the emulator, quick to give up."""
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENGINE": "anthropic",
        "ANTHROPIC": {
            "API_KEY": "test-key",
            "BASE_URL": emulator.base_url,
            "MODEL": MODEL,
            "TIMEOUT": 5.0,
            "MAX_RETRIES": 0,
        },
    }
    return emulator


@pytest.fixture
def lead_runs(library, sample_crm) -> list[Run]:
    """One queued, not enqueued run per sample lead."""
    from connectors.local import models as crm

    sop = Sop.objects.get(name="lead-qualification")
    runs = []
    for contact in crm.Contact.objects.filter(lifecycle_stage="lead").order_by("id"):
        run, _ = run_create(
            sop=sop,
            ref=RecordRef("contact", contact.id),
            trigger=Run.Trigger.SCHEDULE,
            event_key="bulk-test",
            enqueue=False,
        )
        runs.append(run)
    return runs
