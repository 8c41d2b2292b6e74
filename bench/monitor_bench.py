"""The django-q2 monitor's cost per finished task: `save_task` with save_limit 1000 and 1,000
kept successes (before issue 13), save_limit 200 (other tasks now) and a run task (save=False).

Usage: python bench/monitor_bench.py [--tasks 300] [--rounds 5]
CPU time in this process (less sensitive to a loaded machine than wall time), on the database
the environment names (DATABASE_URL, else SQLite), which it migrates and fills.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["SALESOPS_Q_NAME"] = f"salesops-monitor-bench-{os.getpid()}"
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(measure(args.tasks, args.rounds)))


def measure(n: int, rounds: int) -> dict[str, object]:
    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.humanhash import uuid
    from django_q.models import Success
    from django_q.monitor import save_task

    from salesops.tasks_enqueue import RUN_TASK, queue_broker

    broker = queue_broker()

    def finished(save: bool | None) -> dict[str, object]:
        now = timezone.now()
        tag = uuid()
        task = {"id": tag[1], "name": tag[0], "func": RUN_TASK, "args": (1,), "kwargs": {}}
        task |= {"started": now, "stopped": now, "result": "verified", "success": True}
        return task if save is None else {**task, "save": save}

    def cost(limit: int, save: bool | None) -> float:
        Conf.SAVE_LIMIT = limit
        Success.objects.all().delete()
        for _ in range(limit):  # the table as a long-running cluster keeps it: full
            save_task(finished(None), broker)
        tasks = [finished(save) for _ in range(n)]
        started = time.process_time()
        for task in tasks:
            save_task(task, broker)
        return (time.process_time() - started) * 1000 / n

    cases = {"save_limit_1000": (1000, None), "save_limit_200": (200, None)}
    cases["run_task_save_false"] = (1000, False)
    ms: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (limit, save) in cases.items():
            ms[name].append(cost(limit, save))
    return {
        "tasks": n,
        "rounds": rounds,
        **{
            name: {"cpu_ms_median": statistics.median(v), "min": min(v), "max": max(v)}
            for name, v in ms.items()
        },
    }


if __name__ == "__main__":
    main()
