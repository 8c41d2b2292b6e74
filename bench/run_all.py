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
        f"Machine: {machine()}. Date: {now_stamp()}. Command: `python bench/run_all.py"
        + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
        + "`.",
        "",
        "Runs of `lead-qualification` (rules engine, shadow: the full run and its checks, no "
        "CRM write) through a real `qcluster`, beside django-q2's throughput for a no-op task "
        "on the same broker, cluster and settings, in interleaved rounds (no-op, runs, no-op, "
        "runs, ...), each phase from an emptied result table: median of the rounds, range in "
        "brackets. Both include enqueueing. The CPU ceiling is cores / the CPU seconds of one "
        "run in process (time.process_time, engine included), measured in the same process.",
        "",
        "| backend | tasks x rounds | no-op tasks/s | runs/s | CPU per run ms | CPU ceiling "
        "runs/s | runs / no-op | runs / CPU ceiling |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        noop, runs = r["noop"], r["runs"]
        lines.append(
            f"| {r['backend']} | {r['n']} x {r['rounds']} | {noop['median']:.0f} "
            f"[{noop['min']:.0f}-{noop['max']:.0f}] | {runs['median']:.0f} "
            f"[{runs['min']:.0f}-{runs['max']:.0f}] | {r['cpu_ms_per_run']:.1f} | "
            f"{r['cpu_ceiling']:.0f} | {r['share_of_noop']:.0%} | {r['share_of_cpu']:.0%} |"
        )
    lines += [
        "",
        "Outcome counts of the queued runs: "
        + "; ".join(f"{r['backend'].split(' ')[0]}: {r['states']}" for r in rows),
    ]
    body = "\n".join(lines)
    results_section_write("queue", "## Run pipeline through the queue (issues 3 and 13)\n\n" + body)
    print(body)


if __name__ == "__main__":
    main()
