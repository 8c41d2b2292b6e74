"""Run the queue benchmark on both backends and write docs/benchmarks.md (by hand, not in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, now_stamp, results_section_write


def main() -> None:
    rows = []
    for backend in ("sqlite", "postgres"):
        out = subprocess.run(
            [sys.executable, str(Path(__file__).parent / "queue_bench.py"), backend, *sys.argv[1:]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    lines = [
        f"Machine: {machine()}. Date: {now_stamp()}. Command: `python bench/run_all.py`.",
        "",
        "Runs of `lead-qualification` (rules engine, shadow: full run and checks, no CRM write) "
        "through a real `qcluster` (4 workers on 2 cores: runs wait on the database), beside "
        "django-q2's own throughput for a no-op task on the same broker and cluster in the same "
        "process run (the ceiling for this stack). Both include enqueueing.",
        "",
        "| backend | tasks | no-op ceiling tasks/s | runs/s | share of ceiling | "
        "in-process run p50 ms | orchestration overhead p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['n']} | {r['noop_per_s']:.1f} | {r['runs_per_s']:.1f} | "
            f"{r['share']:.0%} | {r['inline_total_ms_p50']:.1f} | "
            f"{r['overhead_ms_p50']:.1f} / {r['overhead_ms_p95']:.1f} |"
        )
    lines += [
        "",
        "Outcome counts of the queued runs: "
        + "; ".join(f"{r['backend'].split(' ')[0]}: {r['states']}" for r in rows),
    ]
    body = "\n".join(lines)
    results_section_write("queue", "## Run pipeline through the queue (issue 3)\n\n" + body)
    print(body)


if __name__ == "__main__":
    main()
