"""Enqueue cost of N run tasks: one `async_task` per run (the path before issue 13, with and
without a cached broker) against `runs_enqueue` (one RPUSH / one INSERT per chunk).

Usage: python bench/enqueue_bench.py [--runs 5000] [--rounds 5]
On the database and broker the environment names (DATABASE_URL / REDIS_URL, else SQLite);
it migrates that database and uses its own queue name, purged after each round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["SALESOPS_Q_NAME"] = f"salesops-enqueue-bench-{os.getpid()}"
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(measure(args.runs, args.rounds)))


def measure(n: int, rounds: int) -> dict[str, object]:
    from django.conf import settings
    from django_q.brokers import Broker, get_broker, redis_broker
    from django_q.tasks import async_task

    from salesops.tasks_enqueue import RUN_TASK, queue_broker, runs_enqueue

    broker = queue_broker()
    ids = list(range(1, n + 1))

    def per_task(make: Callable[[], Broker]) -> None:
        for i in ids:
            async_task(RUN_TASK, i, task_name=f"run-{i}", group="sop:1", broker=make())

    paths = {
        # get_broker() per task: what async_task does without broker= (on Redis, with
        # salesops.services.queue.Redis: a new broker object over the process's one client)
        "async_task_get_broker": lambda: per_task(get_broker),
        "async_task_cached_broker": lambda: per_task(lambda: broker),
        "runs_enqueue": lambda: runs_enqueue(ids, sop_id=1),
    }
    if settings.REDIS_URL:  # django-q2's own Redis broker: a new client per task (before)
        paths["async_task_stock_redis_broker"] = lambda: per_task(redis_broker.Redis)
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):  # interleaved, so load on the machine hits every path alike
        for name, path in paths.items():
            started = time.perf_counter()
            path()
            times[name].append(time.perf_counter() - started)
            assert broker.queue_size() == n, name
            broker.purge_queue()
    return {
        "broker": type(broker).__module__ + "." + type(broker).__name__,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "n": n,
        "rounds": rounds,
        **{
            name: {
                "tasks_per_s_median": n / statistics.median(t),
                "tasks_per_s_min": n / max(t),
                "tasks_per_s_max": n / min(t),
            }
            for name, t in times.items()
        },
    }


if __name__ == "__main__":
    main()
