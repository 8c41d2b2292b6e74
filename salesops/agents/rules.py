"""The `rules` engine: runs the SOP's deterministic offline skill; no model, no network.

It is honest about what it is: results carry engine="rules", and the single audited step names
the offline skill that produced the output.
"""

from __future__ import annotations

import time
from typing import Any

from salesops.agents.base import EngineResult, RunInput, StepRecord, StepSink, Verifier
from salesops.skills.context import iso_timestamp
from salesops.skills.registry import OFFLINE_SKILLS


class RulesEngine:
    """Offline, deterministic engine: one offline-skill call, verified once."""

    name = "rules"
    origin = "rules"  # deterministic and reproducible: an unavailable judge may be skipped
    in_process = True  # no I/O: the service may run it inside one database transaction

    def run(self, run_input: RunInput, *, verify: Verifier, record_step: StepSink) -> EngineResult:
        """Run the SOP's offline skill on the record document; never raises for data errors."""
        spec = run_input.sop
        skill_name = spec.offline
        if not skill_name:
            return self._error(
                f"SOP '{spec.name}' names no offline skill; the rules engine cannot run it"
            )
        skill = OFFLINE_SKILLS.get(skill_name)
        if skill is None:
            known = ", ".join(sorted(OFFLINE_SKILLS))
            return self._error(f"unknown offline skill '{skill_name}' (known: {known})")

        summary = self._input_summary(run_input)
        started = time.perf_counter()
        try:
            output = skill(run_input.record, run_input.now, spec)
        except Exception as exc:  # a skill bug or odd record must become a reviewable error
            latency = (time.perf_counter() - started) * 1000
            message = f"offline skill '{skill_name}' failed: {type(exc).__name__}: {exc}"
            record_step(
                StepRecord(
                    kind="tool_call",
                    name=skill_name,
                    status="failed",
                    input=summary,
                    message=message,
                    latency_ms=latency,
                )
            )
            return self._error(message)
        latency = (time.perf_counter() - started) * 1000
        record_step(
            StepRecord(
                kind="tool_call", name=skill_name, input=summary, output=output, latency_ms=latency
            )
        )
        try:
            report = verify(output)
        except Exception as exc:  # verification is the caller's; still never raise from run()
            return EngineResult(
                engine=self.name,
                output=output,
                error=f"verification failed: {type(exc).__name__}: {exc}",
            )
        return EngineResult(engine=self.name, output=output, report=report)

    def _error(self, message: str) -> EngineResult:
        """A result with no output and the reason."""
        return EngineResult(engine=self.name, output=None, error=message)

    @staticmethod
    def _input_summary(run_input: RunInput) -> dict[str, Any]:
        """What the step saw, short enough to store on every run."""
        record = run_input.record
        return {
            "sop": run_input.sop.name,
            "sop_version": run_input.sop_version,
            "record": f"{record.get('object', '?')}:{record.get('id', '?')}",
            "activities": len(record.get("activities") or []),
            "now": iso_timestamp(run_input.now),
        }
