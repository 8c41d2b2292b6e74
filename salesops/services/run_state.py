"""Small shared steps of the run pipeline: end a run in a recorded state, sum its spend."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.utils import timezone

from salesops.models import Run

TOTALS = [
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cost_usd",
]


def run_finish(run: Run, state: str, *, reason: str = "", **fields: Any) -> Run:
    """Put the run in a final `state` with its reason, now."""
    run.state = state
    run.reason = reason
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def run_totals(run: Run) -> None:
    """Tokens and cost over every step of the run, earlier attempts included (all were billed)."""
    sums = run.steps.aggregate(**{name: Sum(name) for name in TOTALS})
    for name in TOTALS:
        setattr(run, name, sums[name] or 0)
