"""The main job's summary table: each column one meaning, counted from the runs' rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from salesops.management.commands.demo_summary import (
    review_lines,
    summary_parse,
    summary_rows,
    summary_table,
)
from salesops.models import Escalation, Run, WriteBack
from salesops.services.connections import connection_local

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def _times(seconds: float) -> dict:
    return {"started_at": T0, "finished_at": T0 + timedelta(seconds=seconds)}


def _write(run: Run, seq: int, status: str = "done", result: str = "created") -> None:
    WriteBack.objects.create(
        run=run,
        seq=seq,
        kind="note",
        idempotency_key=f"k{run.pk}-{seq}",
        payload={},
        status=status,
        result=result,
    )


@pytest.fixture
def deal_runs(sample_crm, make_runs) -> list[Run]:
    """Six deal runs, one of each outcome, with their escalations and writes."""
    local = connection_local()
    ids = ["d-001", "d-002", "d-003", "d-004", "d-005", "d-006"]
    written, approved, open_, rejected, skipped, failed = make_runs(local, "deal", ids)
    for run, state, seconds in [
        (written, "written", 2.0), (approved, "written", 1.0), (open_, "escalated", 3.0),
        (rejected, "escalated", 4.0), (skipped, "skipped", 0.5), (failed, "failed", 0.25),
    ]:  # fmt: skip
        Run.objects.filter(pk=run.pk).update(state=state, **_times(seconds))
    _write(written, 0)
    _write(written, 1, result="updated")
    _write(written, 2, result="exists")  # the CRM had it already: no new write
    _write(approved, 0)
    _write(failed, 0, status="failed")
    opened = T0 + timedelta(seconds=5)
    Escalation.objects.create(run=approved, reason="big deal", status="approved",
                              decided_at=opened + timedelta(seconds=60))  # fmt: skip
    Escalation.objects.create(run=rejected, reason="no evidence", status="rejected",
                              decided_at=opened + timedelta(seconds=30))  # fmt: skip
    Escalation.objects.create(run=open_, reason="low confidence")
    Escalation.objects.filter(run__in=[approved, rejected, open_]).update(created_at=opened)
    return [written, approved, open_, rejected, skipped, failed]


def test_each_column_counts_one_thing(deal_runs) -> None:
    now = T0 + timedelta(seconds=5 + 100)  # the open escalation has waited 100 s
    (row,) = summary_rows([r.pk for r in deal_runs], now=now)
    assert row.sop == "deal-review"
    assert (row.runs, row.written, row.escalated, row.rejected) == (6, 2, 1, 1)
    assert (row.skipped, row.failed) == (1, 1)
    assert row.writes == 3  # done and new: not the one the CRM had, not the failed one
    assert row.machine_seconds == pytest.approx(2 + 1 + 3 + 4 + 0.5 + 0.25)
    assert row.waiting_seconds == pytest.approx(60 + 30 + 100)


def test_writes_are_cumulative_not_only_this_invocations(deal_runs) -> None:
    # A second `make run` finds the same runs done: the table shows the same writes again.
    first = summary_rows([r.pk for r in deal_runs])
    second = summary_rows([r.pk for r in deal_runs])
    assert first[0].writes == second[0].writes == 3


def test_the_printed_table_parses_back(deal_runs) -> None:
    rows = summary_rows([r.pk for r in deal_runs], now=T0 + timedelta(seconds=105))
    text = summary_table(rows)
    header = text.splitlines()[0].split()
    assert header[:8] == ["SOP", "runs", "written", "escalated", "rejected", "skipped", "failed",
                          "writes"]  # fmt: skip
    assert "machine s" in text.splitlines()[0] and "waiting s" in text.splitlines()[0]
    parsed = summary_parse("some output\n" + text + "\nadmin: http://...")
    assert parsed == {
        "deal-review": {
            "runs": 6, "written": 2, "escalated": 1, "rejected": 1, "skipped": 1, "failed": 1,
            "writes": 3, "machine s": 10.8, "waiting s": 190.0,
        }
    }  # fmt: skip


def test_the_records_waiting_for_review_are_named(deal_runs) -> None:
    lines = review_lines([r.pk for r in deal_runs])
    assert len(lines) == 1  # only the open escalation: the rejected one is decided
    assert "deal-review" in lines[0]
    assert "Ostara Biotech - Sales analytics pilot (Ostara Biotech)" in lines[0]
    assert "low confidence" in lines[0]
