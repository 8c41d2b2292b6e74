"""Runs per second through the real queue (rules engine) beside django-q2's no-op ceiling.

Usage: python bench/queue_bench.py {sqlite|postgres} [--runs 300] [--workers 2]
Each backend runs in its own process (settings are read once per process).
`python bench/run_all.py` runs both and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    import os

    os.environ["SALESOPS_Q_WORKERS"] = str(args.workers)
    label = database_setup(args.backend)
    django_start()
    print(json.dumps({"backend": label, **measure(args.runs)}))


def _wait(predicate, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("benchmark timed out")
        time.sleep(0.05)


def measure(n: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.utils import timezone
    from django_q.models import Task
    from django_q.tasks import async_task

    from connectors.local.sample import sample_data_load
    from salesops.models import Run
    from salesops.selectors import runs_pending
    from salesops.services.batches import records_select, runs_execute_inline, runs_start, sop_get
    from salesops.services.sops import library_dir, sop_library_load
    from salesops.services.workers import worker_start, worker_stop

    call_command("migrate", verbosity=0)
    sop_library_load()
    sample_data_load(library_dir() / "sample_data" / "crm.json")
    sop = sop_get(name="deal-review")
    contacts_sop = sop_get(name="lead-qualification")
    ids = records_select(sop=contacts_sop)

    # Overhead in-process: the whole run minus the engine's own step (the offline skill).
    overheads, totals = [], []
    for i in range(60):
        runs, _ = runs_start(
            sop=contacts_sop,
            record_ids=[ids[i % len(ids)]],
            batch=f"inline-{i}",
            shadow=True,
            enqueue=False,
        )
        started = time.perf_counter()
        (run,) = runs_execute_inline(runs)
        total = (time.perf_counter() - started) * 1000
        engine_ms = sum(s.latency_ms for s in run.steps.filter(kind="tool_call"))
        totals.append(total)
        overheads.append(total - engine_ms)

    worker = worker_start()
    try:
        for i in range(10):  # warm-up: the cluster is up and polling
            async_task("bench.noop.noop", i, group="warm")
        _wait(lambda: Task.objects.filter(group="warm").count() == 10)

        started = time.perf_counter()
        for i in range(n):
            async_task("bench.noop.noop", i, group="noop")
        noop_enqueue_seconds = time.perf_counter() - started
        _wait(lambda: Task.objects.filter(group="noop").count() == n)
        noop_seconds = time.perf_counter() - started

        record_ids = [ids[i % len(ids)] for i in range(n)]
        started = time.perf_counter()
        run_ids = []
        for i in range(0, n, len(ids)):
            chunk = record_ids[i : i + len(ids)]
            runs, _ = runs_start(sop=contacts_sop, record_ids=chunk, batch=f"q-{i}", shadow=True)
            run_ids += [r.pk for r in runs]
        enqueue_seconds = time.perf_counter() - started
        _wait(lambda: runs_pending(run_ids) == 0)
        runs_seconds = time.perf_counter() - started
        states = dict.fromkeys(["verified", "escalated", "failed"], 0)
        for state in Run.objects.filter(pk__in=run_ids).values_list("state", flat=True):
            states[state] = states.get(state, 0) + 1
    finally:
        worker_stop(worker)
    del sop, timezone
    return {
        "n": n,
        "noop_per_s": n / noop_seconds,
        "runs_per_s": n / runs_seconds,
        "share": (n / runs_seconds) / (n / noop_seconds),
        "inline_total_ms_p50": statistics.median(totals),
        "overhead_ms_p50": statistics.median(overheads),
        "overhead_ms_p95": sorted(overheads)[int(len(overheads) * 0.95)],
        "states": states,
        "enqueue_s": enqueue_seconds,
        "noop_enqueue_s": noop_enqueue_seconds,
    }


if __name__ == "__main__":
    main()
