"""Typed, validated form of an SOP file (docs/sop-format.md). Pure Python, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class SpecIssue:
    """One validation problem: which file, which field (dotted path), what is wrong."""

    source: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"


class SpecError(ValueError):
    """An SOP, fragment or skill failed validation.

    Carries every issue found, not just the first.
    """

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class CompiledExpression(Protocol):
    """A CEL expression compiled and type-checked at load time."""

    source: str  # the expression text

    def evaluate(self, activation: dict[str, Any]) -> Any:
        """Evaluate against plain JSON-like values (`record`, `result`, `now`, `event`).

        Raises ExpressionError when evaluation fails (e.g. a missing key, a type error).
        """
        ...


class ExpressionError(ValueError):
    """A CEL expression failed to compile, type-check or evaluate."""


@dataclass(frozen=True)
class Trigger:
    """When an SOP runs: on a CRM event (optionally one property), or on a cron schedule.

    `where` filters the records (schedule) or the events (event triggers).
    """

    event: str | None = None
    property: str | None = None
    schedule: str | None = None
    where: CompiledExpression | None = None


@dataclass(frozen=True)
class Check:
    """An acceptance check. Either an expression (`check`) or a rubric for a judge model."""

    id: str
    message: str
    check: CompiledExpression | None = None
    judge: str | None = None  # rubric text; run only by the anthropic engine
    # With no model to judge: "auto" escalates a model's result and skips the rules engine's.
    when_unavailable: Literal["auto", "escalate", "skip"] = "auto"
    # "policy": inherited from an included fragment (id "policy:<id>"), the same for every SOP.
    kind: Literal["acceptance", "policy"] = "acceptance"


@dataclass(frozen=True)
class EscalationRule:
    """A condition under which a human must review before anything is written."""

    id: str
    when: CompiledExpression
    message: str


@dataclass(frozen=True)
class WriteBackRule:
    """One allowed write. `kind` is "set_property", "note" or "task"."""

    kind: Literal["set_property", "note", "task"]
    when: CompiledExpression | None = None
    # set_property
    property: str | None = None
    value: CompiledExpression | None = None
    # note / task: a template under templates/ (Django template), or inline text
    template: str | None = None
    # task
    subject: str | None = None  # Django template string rendered with record/result
    due_in_business_days: int | None = None
    due_date: CompiledExpression | None = None  # alternative: an expression yielding "YYYY-MM-DD"
    priority: str = "MEDIUM"


@dataclass(frozen=True)
class ModelPolicy:
    """Limits for the model engine on one run."""

    model: str | None = None
    max_attempts: int = 2
    max_turns: int = 8
    max_tokens: int = 2000
    budget_tokens_per_run: int = 60000
    budget_usd_per_run: float = 0.10


@dataclass(frozen=True)
class Fragment:
    """A shared block of prose (tone, compliance) that several SOPs include."""

    name: str
    title: str
    body: str
    source: str = ""
    # Raw `acceptance` items ({id, check, message}); each includer compiles them in its own scope.
    acceptance: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class RubricCompare:
    """One result field compared with the SOP's offline rubric; a larger gap escalates.

    Numbers differ by at most `tolerance`; enum values by at most `tolerance` steps of `order`
    (values outside `order`, or with no `order`, must be equal).
    """

    field: str
    tolerance: float = 0
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeSkill:
    """An Agent Skills `SKILL.md`: name and description always shown, body loaded on demand."""

    name: str
    description: str
    body: str
    source: str = ""


@dataclass(frozen=True)
class SopSpec:
    """A parsed, validated SOP. Immutable; one per SOP version."""

    name: str
    title: str
    object: str
    description: str
    triggers: tuple[Trigger, ...]
    context: tuple[str, ...]
    skills: tuple[str, ...]
    offline: str | None
    output: dict[str, Any]  # JSON Schema of the result
    evidence: tuple[str, ...]  # result paths holding evidence items, e.g. "risks.*.evidence"
    acceptance: tuple[Check, ...]
    escalate_when: tuple[EscalationRule, ...]
    write_back: tuple[WriteBackRule, ...]
    model: ModelPolicy
    includes: tuple[str, ...]
    sections: dict[str, str]  # "goal", "constraints", "what_good_looks_like", ... -> markdown
    body: str  # the whole markdown body
    front_matter: dict[str, Any] = field(default_factory=dict)  # raw, for render/diff
    fragments: tuple[Fragment, ...] = ()  # resolved includes
    source: str = ""
    # When false for a record, the run is recorded as skipped before any engine call.
    applies_when: CompiledExpression | None = None
    # Fields compared with the offline rubric for results not made by the rules engine.
    rubric: tuple[RubricCompare, ...] = ()
