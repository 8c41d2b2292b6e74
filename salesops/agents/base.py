"""The engine contract: turn (SOP, record document) into a proposed result plus an audit trail.

Engines never write to a CRM; they only propose. Verification and write-back happen outside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from salesops.specs.model import KnowledgeSkill, SopSpec
from salesops.verify.report import VerificationReport


@dataclass
class StepRecord:
    """One audited step of a run: a model call, a tool call, a check, a write or a note."""

    kind: str  # "model_call" | "tool_call" | "check" | "write" | "info"
    name: str
    status: str = "ok"  # "ok" | "failed" | "skipped" | "escalate"
    input: Any = None
    output: Any = None
    message: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0


@dataclass
class RunInput:
    """Everything an engine needs for one run, already fetched from the CRM."""

    sop: SopSpec
    sop_version: int
    record: dict[str, Any]  # the record document (connectors/record_model.py)
    now: datetime
    knowledge: dict[str, KnowledgeSkill] = field(default_factory=dict)
    run_id: str = ""


@dataclass
class EngineResult:
    """What an engine proposes. `output` is None when it could not produce a result."""

    engine: str
    output: dict[str, Any] | None
    error: str = ""
    model: str = ""
    # The engine's final verification (engines that re-ask verify inside their loop).
    report: VerificationReport | None = None


StepSink = Callable[[StepRecord], None]
Verifier = Callable[[dict[str, Any]], VerificationReport]


class Engine(Protocol):
    """An agent engine. `verify` lets an engine re-ask on failed checks; `record_step` is the
    audit sink, called in order as each step happens (so a crash leaves a trail)."""

    name: str

    def run(self, run_input: RunInput, *, verify: Verifier, record_step: StepSink) -> EngineResult:
        """Produce a proposed result for `run_input`; never raises for model or data errors."""
        ...
