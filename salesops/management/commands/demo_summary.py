"""The main job's summary table: one row per SOP, each column one meaning.

- runs: the runs counted; written + escalated + rejected + skipped + failed = runs once all
  are final.
- written: the run's result reached the CRM (directly, or after a reviewer approved it).
- escalated: waiting for a person, or decided without a write (superseded by a newer run).
- rejected: a reviewer rejected the result; nothing was written (counted apart from escalated).
- writes: CRM writes these runs have made, all of them (cumulative like the other columns; a
  write the CRM already had is not counted again).
- machine s: time the machine spent, the sum of each run's processing (claim to finish).
- waiting s: time runs waited for a person, escalation opened to decided (or to now if open).

`manage.py demo_summary` prints the table again for every run of the main job's SOPs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from salesops.models import Escalation, Run, WriteBack
from salesops.services.record_labels import record_labels

DEMO_SOPS = ("lead-qualification", "follow-up", "deal-review")
COLUMNS = (
    ("runs", 5),
    ("written", 8),
    ("escalated", 10),
    ("rejected", 9),
    ("skipped", 8),
    ("failed", 7),
    ("writes", 7),
    ("machine s", 10),
    ("waiting s", 10),
)
SOP_WIDTH = 20
# A run in any other state is not final yet: it counts in `runs` only.
COUNTED_STATES = {Run.State.WRITTEN, Run.State.ESCALATED, Run.State.SKIPPED, Run.State.FAILED}
_ROW = re.compile(r"^(\S+)((?:\s+[\d.]+){" + str(len(COLUMNS)) + "})$")


@dataclass
class SummaryRow:
    """One SOP's line of the table."""

    sop: str
    runs: int = 0
    written: int = 0
    escalated: int = 0
    rejected: int = 0
    skipped: int = 0
    failed: int = 0
    writes: int = 0
    machine_seconds: float = 0.0
    waiting_seconds: float = 0.0


def summary_rows(run_ids: Iterable[int], *, now: datetime | None = None) -> list[SummaryRow]:
    """The table's rows for these runs, by SOP name, in three queries."""
    ids = list(run_ids)
    now = now or timezone.now()
    rows: dict[str, SummaryRow] = {}
    runs = Run.objects.filter(pk__in=ids).values_list(
        "sop__name", "state", "started_at", "finished_at", "escalation__status"
    )
    for sop, state, started, finished, escalation in runs:
        row = rows.setdefault(sop, SummaryRow(sop))
        row.runs += 1
        if state == Run.State.ESCALATED and escalation == Escalation.Status.REJECTED:
            row.rejected += 1
        elif state in COUNTED_STATES:
            setattr(row, state, getattr(row, state) + 1)
        if started and finished and finished >= started:
            row.machine_seconds += (finished - started).total_seconds()
    writes = (
        WriteBack.objects.filter(run_id__in=ids, status=WriteBack.Status.DONE)
        .exclude(result="exists")
        .values_list("run__sop__name", flat=True)
    )
    for sop in writes:
        rows[sop].writes += 1
    waits = Escalation.objects.filter(run_id__in=ids).values_list(
        "run__sop__name", "created_at", "decided_at"
    )
    for sop, opened, decided in waits:
        rows[sop].waiting_seconds += max(0.0, ((decided or now) - opened).total_seconds())
    return [rows[name] for name in sorted(rows)]


def shorten(text: str, width: int) -> str:
    """`text` cut at a word boundary to about `width` characters."""
    return textwrap.shorten(text, width, placeholder="...")


def review_lines(run_ids: Iterable[int], *, limit: int = 10) -> list[str]:
    """The open escalations among these runs, each record by name: "  sop  Name (Co) - why"."""
    escalations = list(
        Escalation.objects.filter(run_id__in=list(run_ids), status=Escalation.Status.OPEN)
        .select_related("run__sop")
        .defer("checks", "edited_output", "run__input", "run__output")
        .order_by("run__sop__name", "run_id")
    )
    labels = record_labels(e.run for e in escalations)
    lines = [
        f"  {e.run.sop.name:<{SOP_WIDTH}} {labels[e.run_id].text}: {shorten(e.reason, 70)}"
        for e in escalations[:limit]
    ]
    if len(escalations) > limit:
        lines.append(f"  ... and {len(escalations) - limit} more")
    return lines


def summary_table(rows: list[SummaryRow]) -> str:
    """The rows as a fixed-width table with its header and rule."""
    header = f"{'SOP':<{SOP_WIDTH}}" + "".join(f" {name:>{width}}" for name, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        values = [getattr(row, f.name) for f in fields(row)][1:]
        cells = [
            f" {value:>{width}.1f}" if isinstance(value, float) else f" {value:>{width}}"
            for value, (_, width) in zip(values, COLUMNS, strict=True)
        ]
        lines.append(f"{row.sop:<{SOP_WIDTH}}" + "".join(cells))
    return "\n".join(lines)


def summary_parse(text: str) -> dict[str, dict[str, float]]:
    """The table back from printed text: SOP -> {column: value}; for tests and scripts."""
    found: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match:
            values = [float(v) for v in match.group(2).split()]
            found[match.group(1)] = dict(zip((n for n, _ in COLUMNS), values, strict=True))
    return found


class Command(BaseCommand):
    help = "Print the main job's summary table for every run of its SOPs (all connections)."

    def handle(self, *args: Any, **opts: Any) -> None:
        ids = Run.objects.filter(sop__name__in=DEMO_SOPS).values_list("pk", flat=True)
        self.stdout.write(summary_table(summary_rows(ids)))
