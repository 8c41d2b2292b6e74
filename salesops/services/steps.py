"""Persist a run's audit steps in order, as they happen."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from salesops.agents.base import StepRecord
from salesops.models import Run, RunStep
from salesops.verify.report import CheckOutcome


def _jsonable(value: Any) -> Any:
    # Steps hold whatever an engine saw (dates, decimals); store them as plain JSON.
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


class StepRecorder:
    """The `record_step` sink handed to engines: writes one RunStep per call, numbered in order."""

    def __init__(self, run: Run, *, fresh: bool = False) -> None:
        self.run = run
        # A run on its first attempt has no steps yet: skip the query on the hot path. It also
        # means every step of the run goes through this recorder, so its sums need no query.
        self.fresh = fresh
        last = None if fresh else run.steps.order_by("-seq").values_list("seq", flat=True).first()
        self.seq = last or 0
        self.totals = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_write_tokens": 0,
            "cache_read_tokens": 0,
        }
        self.cost = Decimal("0")

    def __call__(self, step: StepRecord) -> None:
        self.seq += 1
        RunStep.objects.create(
            run=self.run,
            seq=self.seq,
            kind=step.kind,
            name=step.name[:120],
            status=step.status,
            message=step.message,
            input=_jsonable(step.input),
            output=_jsonable(step.output),
            input_tokens=step.input_tokens,
            output_tokens=step.output_tokens,
            cache_write_tokens=step.cache_write_tokens,
            cache_read_tokens=step.cache_read_tokens,
            latency_ms=step.latency_ms,
            cost_usd=Decimal(str(round(step.cost_usd, 6))),
        )
        self.totals["input_tokens"] += step.input_tokens
        self.totals["output_tokens"] += step.output_tokens
        self.totals["cache_write_tokens"] += step.cache_write_tokens
        self.totals["cache_read_tokens"] += step.cache_read_tokens
        self.cost += Decimal(str(round(step.cost_usd, 6)))

    def sums(self) -> dict[str, Any] | None:
        """The run's token and cost totals when every step of it went through this recorder
        (a fresh run); None when earlier attempts recorded steps too."""
        if not self.fresh:
            return None
        return {**self.totals, "cost_usd": self.cost}

    def checks(self, outcomes: list[CheckOutcome]) -> None:
        """Record a verification's outcomes as `check` steps, in one insert."""
        rows = []
        for outcome in outcomes:
            self.seq += 1
            rows.append(
                RunStep(
                    run=self.run,
                    seq=self.seq,
                    kind="check",
                    name=outcome.id[:120],
                    status=outcome.status,
                    message=outcome.message,
                    input={"kind": outcome.kind},
                )
            )
        RunStep.objects.bulk_create(rows)

    def check(self, outcome: CheckOutcome) -> None:
        """Record one verifier outcome as a `check` step named by the check id."""
        self(
            StepRecord(
                kind="check",
                name=outcome.id,
                status=outcome.status,
                message=outcome.message,
                input={"kind": outcome.kind},
            )
        )

    def info(self, name: str, message: str, status: str = "ok") -> None:
        self(StepRecord(kind="info", name=name, status=status, message=message))
