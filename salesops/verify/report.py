"""Outcome types of verification. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CheckKind = Literal[
    "schema",
    "grounding",  # cited evidence items hold against the record
    "claims",  # facts stated in free text hold against the record
    "injection",  # the result neither obeys nor relies on instructions found in CRM text
    "policy",  # company-wide rules every SOP inherits from the policy fragment
    "acceptance",
    "rubric",  # a model's score agrees with the SOP's deterministic rubric
    "judge",
    "escalation",
]
# "overridden": a failed check a named reviewer approved over, with a reason (never "passed");
# "accepted": a met escalation condition a named reviewer approved.
CheckStatus = Literal[
    "passed", "failed", "escalate", "skipped", "error", "overridden", "accepted"
]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict, stored as a RunStep (kind "check") with its id and message."""

    id: str
    kind: CheckKind
    status: CheckStatus
    message: str = ""

    @property
    def blocks_write(self) -> bool:
        return self.status in ("failed", "error", "escalate")


@dataclass
class VerificationReport:
    """All check outcomes of one candidate result, in the order they ran."""

    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.status in ("failed", "error")]

    @property
    def escalations(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.status == "escalate"]

    @property
    def passed(self) -> bool:
        """True when no check failed (escalations may still apply)."""
        return not self.failures

    @property
    def writable(self) -> bool:
        """True when the result may be written without a human: no failure, no escalation."""
        return not any(o.blocks_write for o in self.outcomes)
