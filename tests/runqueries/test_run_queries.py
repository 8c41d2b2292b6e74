"""The database queries of one rules-engine run, end to end, are pinned (issue 13).

Counts are of every statement the run sends, as the queue task would (claim included), with
the connector built already (it is cached per process) and the run in the test transaction
(so its own transaction shows as one SAVEPOINT/RELEASE pair).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.base import RecordRef
from salesops.agents.base import StepRecord
from salesops.models import Run, Sop
from salesops.services.run_state import run_totals
from salesops.services.runs import run_create, run_execute
from salesops.services.steps import StepRecorder

pytestmark = pytest.mark.django_db

# Before issue 13: 21 (shadow) and 46 (written). The local CRM's own reads and writes are
# 7 and 7 + 3 per write of these; the rest is the pipeline's.
SHADOW_QUERIES = 15
WRITTEN_QUERIES = 40


@pytest.fixture
def rules(settings):
    settings.SALESOPS = {**settings.SALESOPS, "ENGINE": "rules", "JUDGE_ENGINE": ""}


def _run(record_id: str, *, shadow: bool, key: str) -> Run:
    sop = Sop.objects.get(name="lead-qualification")
    run, _ = run_create(
        sop=sop,
        ref=RecordRef("contact", record_id),
        trigger="manual",
        event_key=key,
        shadow=shadow,
        enqueue=False,
    )
    return run


def _measured(record_id: str, *, shadow: bool) -> tuple[Run, list[str]]:
    run_execute(run_id=_run("c-002", shadow=shadow, key="warm").pk)  # builds the connector
    run = _run(record_id, shadow=shadow, key="measured")
    with CaptureQueriesContext(connection) as ctx:
        done = run_execute(run_id=run.pk)
    return done, [q["sql"] for q in ctx.captured_queries]


def _audit(run: Run) -> list[tuple[str, str]]:
    return list(run.steps.order_by("seq").values_list("kind", "status"))


def test_a_shadow_run_costs_at_most_its_pinned_queries(library, sample_crm, rules):
    run, queries = _measured("c-003", shadow=True)
    assert run.state == Run.State.VERIFIED
    assert len(queries) <= SHADOW_QUERIES, "\n".join(q[:160] for q in queries)
    # The claim is still a conditional UPDATE, and the run's rows are all stored.
    assert "\"state\" = 'queued'" in queries[0] and queries[0].startswith("UPDATE")
    stored = Run.objects.get(pk=run.pk)
    assert stored.state == Run.State.VERIFIED
    assert stored.output == run.output and stored.output is not None
    assert stored.input and stored.input["id"] == "c-003"
    assert stored.engine == "rules" and stored.finished_at is not None
    audit = _audit(stored)
    assert audit[0] == ("tool_call", "ok")
    assert [kind for kind, _ in audit[1:]] and {kind for kind, _ in audit[1:]} == {"check"}


def test_a_written_run_costs_at_most_its_pinned_queries(library, sample_crm, rules):
    run, queries = _measured("c-003", shadow=False)
    assert run.state == Run.State.WRITTEN
    assert len(queries) <= WRITTEN_QUERIES, "\n".join(q[:160] for q in queries)
    stored = Run.objects.get(pk=run.pk)
    assert stored.output == run.output and stored.input["id"] == "c-003"
    writes = list(stored.writes.order_by("seq").values_list("status", flat=True))
    assert writes and set(writes) == {"done"}
    kinds = [kind for kind, _ in _audit(stored)]
    assert kinds.count("write") == len(writes)
    assert kinds.index("tool_call") < kinds.index("check") < kinds.index("write")


def test_a_redelivered_written_run_writes_nothing_again(library, sample_crm, rules):
    run, _ = _measured("c-003", shadow=False)
    steps, writes = run.steps.count(), run.writes.count()
    again = run_execute(run_id=run.pk)
    assert again.state == Run.State.WRITTEN
    assert (run.steps.count(), run.writes.count()) == (steps, writes)


def _step(tokens: int, cost: float) -> StepRecord:
    return StepRecord(
        kind="model_call",
        name="m",
        status="ok",
        message="",
        input_tokens=tokens,
        output_tokens=2 * tokens,
        cost_usd=cost,
    )


def test_a_fresh_recorders_totals_equal_the_stored_steps(library, sample_crm):
    run = _run("c-001", shadow=True, key="totals")
    recorder = StepRecorder(run, fresh=True)
    recorder(_step(10, 0.0015))
    recorder(_step(7, 0.25))
    with CaptureQueriesContext(connection) as ctx:
        run_totals(run, recorder)
    assert ctx.captured_queries == []  # the recorder knew them
    known = (run.input_tokens, run.output_tokens, run.cost_usd)
    run_totals(run)  # from the stored steps
    stored = (run.input_tokens, run.output_tokens, run.cost_usd)
    assert known == stored == (17, 34, Decimal("0.2515"))


def test_a_later_attempts_totals_include_the_earlier_steps(library, sample_crm):
    run = _run("c-001", shadow=True, key="later")
    StepRecorder(run, fresh=True)(_step(10, 0.5))
    later = StepRecorder(run)  # a reclaim: earlier attempts were billed too
    later(_step(5, 0.25))
    assert later.sums() is None
    run_totals(run, later)
    assert (run.input_tokens, run.cost_usd) == (15, Decimal("0.75"))
