"""Runs per second through the real queue (rules engine) beside django-q2's no-op ceiling and
the CPU ceiling, measured fairly (issue 13).

Usage: python bench/queue_bench.py {sqlite|postgres} [--runs 300] [--workers 4] [--rounds 6]
Each backend runs in its own process (settings are read once per process); `python
bench/run_all.py` runs both and writes docs/benchmarks.md.

Fair means: the no-op tasks and the runs go through the same cluster with the same settings,
in interleaved rounds (no-op, runs, no-op, runs, ...), each phase starting from the same
django-q2 result-table size (emptied before it), and neither saves a result row (run tasks
are enqueued with save=False; the no-ops too, counted by a file they append to). Every
figure is the median of the rounds with its range. The CPU ceiling is measured in the same
process: the in-process CPU seconds of one run (`time.process_time`, the engine included);
cores / that = the runs/s two busy cores could do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    os.environ["SALESOPS_Q_WORKERS"] = str(args.workers)
    label = database_setup(args.backend)
    django_start()
    print(json.dumps({"backend": label, **measure(args.runs, args.rounds)}))


def _wait(predicate: Any, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("benchmark timed out")
        time.sleep(0.02)


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(n: int, rounds: int) -> dict[str, Any]:
    from django.core.management import call_command
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
    sop = sop_get(name="lead-qualification")
    ids = records_select(sop=sop)

    # The CPU ceiling: one run's CPU seconds in this process (prepare, engine, checks, audit).
    cpu, wall = [], []
    for i in range(60):
        runs, _ = runs_start(
            sop=sop, record_ids=[ids[i % len(ids)]], batch=f"cpu-{i}", shadow=True, enqueue=False
        )
        started_cpu, started = time.process_time(), time.perf_counter()
        runs_execute_inline(runs)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    cores = os.cpu_count() or 1
    cpu_per_run = statistics.median(cpu[10:])  # past the first runs' warm-up
    cpu_ceiling = cores / cpu_per_run

    noop_rates, run_rates = [], []
    states: dict[str, int] = {}
    worker = worker_start()
    try:
        for i in range(10):  # warm-up: the cluster is up and polling
            async_task("bench.noop.noop", i, group="warm")
        _wait(lambda: Task.objects.filter(group="warm").count() == 10)
        marks = Path(tempfile.mkdtemp(prefix="queue-bench-"))
        for r in range(rounds):
            Task.objects.all().delete()  # the same result-table size for each phase
            # Saved like run tasks are (not at all: save=False), counted by a file's size.
            mark = marks / f"round-{r}"
            started = time.perf_counter()
            for _ in range(n):
                async_task("bench.noop.noop_mark", str(mark), group=f"noop-{r}", save=False)
            _wait(lambda m=mark: m.exists() and m.stat().st_size >= n)
            noop_rates.append(n / (time.perf_counter() - started))

            Task.objects.all().delete()
            record_ids = [ids[i % len(ids)] for i in range(n)]
            started = time.perf_counter()
            run_ids: list[int] = []
            for i in range(0, n, len(ids)):
                chunk = record_ids[i : i + len(ids)]
                runs, _ = runs_start(sop=sop, record_ids=chunk, batch=f"q{r}-{i}", shadow=True)
                run_ids += [run.pk for run in runs]
            _wait(lambda ids_=run_ids: runs_pending(ids_) == 0)
            run_rates.append(n / (time.perf_counter() - started))
            for state in Run.objects.filter(pk__in=run_ids).values_list("state", flat=True):
                states[state] = states.get(state, 0) + 1
    finally:
        worker_stop(worker)
    noop, runs_ = _spread(noop_rates), _spread(run_rates)
    return {
        "n": n,
        "rounds": rounds,
        "cores": cores,
        "cpu_ms_per_run": cpu_per_run * 1000,
        "wall_ms_per_run": statistics.median(wall[10:]) * 1000,
        "cpu_ceiling": cpu_ceiling,
        "noop": noop,
        "runs": runs_,
        "share_of_noop": runs_["median"] / noop["median"],
        "share_of_cpu": runs_["median"] / cpu_ceiling,
        "states": states,
    }


if __name__ == "__main__":
    main()
