"""Peak memory of a selection at 1k, 10k and 100k contacts: `run_sop --where` and a schedule
tick (issue 13: flat within 10% from 1k to 100k).

Usage: .venv/bin/python bench/select_bench.py [--sizes 1000,10000,100000] [--write]
(with DATABASE_URL/REDIS_URL set: that PostgreSQL database and Redis, emptied per size; else a
throwaway SQLite file per size with the ORM broker). Each size is seeded with that many lead
contacts in the local CRM and synced into the mirror; then each measured step runs in a fresh
process whose peak RSS (ru_maxrss) is reported, with the RSS before the step (Django and the
imports) beside it. `run_sop` is measured up to the wait: selection, run creation and enqueue
(no qcluster runs, so it is given `--timeout 0`); the tick is lead-qualification's Tuesday
07:00 slot. `--write` records the figures in docs/benchmarks.md (section "select-memory").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start, machine, now_stamp, results_section_write

TUESDAY_0701 = datetime(2026, 11, 24, 7, 1, tzinfo=UTC)
WHERE = "record.lifecycle_stage == 'lead'"
STEPS = ("run_sop", "tick")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed)
        return
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    rows = [_size(int(n)) for n in args.sizes.split(",")]
    body = _table(rows)
    print(body)
    if args.write:
        results_section_write("select-memory", body)


def _size(n: int) -> dict[str, Any]:
    """Seed `n` lead contacts in a fresh database, then measure each step in its own process."""
    if os.environ.get("DATABASE_URL"):
        label = "PostgreSQL + Redis"
        _postgres_reset(os.environ["DATABASE_URL"])
    else:
        label = database_setup("sqlite")
    env = dict(os.environ)
    env["SALESOPS_Q_NAME"] = f"salesops-select-bench-{os.getpid()}-{n}"
    env["SALESOPS_ENGINE"] = "rules"
    env.pop("SALESOPS_JUDGE_ENGINE", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--seed", str(n)], env=env, check=True)
    row: dict[str, Any] = {"n": n, "backend": label, "seed_s": time.perf_counter() - start}
    for step in STEPS:
        done = subprocess.run(
            [sys.executable, __file__, "--child", step], env=env, stdout=subprocess.PIPE, text=True
        )
        # A step that dies is reported as such (the old tick did at 100k), not hidden.
        row[step] = (
            json.loads(done.stdout.strip().splitlines()[-1]) if not done.returncode else None
        )
        print(n, step, row[step], file=sys.stderr)
    print(row, file=sys.stderr)
    return row


def _postgres_reset(url: str) -> None:
    base, name = url.rsplit("/", 1)
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True)


def seed(n: int) -> None:
    """The SOP library, `n` lead contacts in the local CRM (no events), mirrored."""
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from connectors.local import models as crm
    from connectors.local.signals import events_suppressed
    from salesops.services.connections import connection_default
    from salesops.services.sops import sop_library_load
    from salesops.services.sync import connection_sync

    assert not sop_library_load().issues
    with events_suppressed():
        for lo in range(0, n, 2000):
            crm.Contact.objects.bulk_create(
                crm.Contact(
                    id=f"b-c-{i:07d}",
                    email=f"person{i}@bench.example",
                    job_title="Head of Sales",
                    lifecycle_stage="lead",
                    lead_status="NEW",
                )
                for i in range(lo, min(lo + 2000, n))
            )
    assert connection_sync(connection=connection_default(), force=True).records == n


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(step: str) -> dict[str, Any]:
    """Run one step in this fresh process; its peak RSS and the RSS before it."""
    django_start()
    from django.core.management import CommandError, call_command

    # Imported before the baseline, so the baseline holds what any command loads.
    import salesops.management.commands.run_sop  # noqa: F401
    from salesops.models import Run
    from salesops.services.schedules import schedule_tick

    before = _rss_mb()
    start = time.perf_counter()
    if step == "run_sop":
        try:
            call_command("run_sop", "lead-qualification", "--where", WHERE, "--timeout", "0")
        except CommandError as exc:  # no qcluster here: the runs are created and queued
            assert "still pending" in str(exc), exc
        runs = Run.objects.filter(trigger="manual").count()
    else:
        runs = schedule_tick(now=TUESDAY_0701)
    return {
        "runs": runs,
        "seconds": time.perf_counter() - start,
        "rss_before_mb": before,
        "peak_mb": _rss_mb(),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    backend = rows[0]["backend"] if rows else ""
    lines = [
        f"### Selection memory ({backend})",
        "",
        f"{machine()}; {now_stamp()}. Command: `python bench/select_bench.py --write`. Peak RSS "
        "of a fresh process (ru_maxrss); `run_sop --where` up to its wait (selection, run "
        "creation, enqueue), the schedule tick for one slot selecting every contact.",
        "",
        "| contacts | step | runs | time | RSS before | peak RSS | peak vs 1k |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in STEPS:
        first = next((r[step]["peak_mb"] for r in rows if r[step]), 0.0)
        for r in rows:
            m = r[step]
            if m is None:
                lines.append(f"| {r['n']:,} | {step} | crashed | | | | |")
                continue
            lines.append(
                f"| {r['n']:,} | {step} | {m['runs']:,} | {m['seconds']:.1f} s | "
                f"{m['rss_before_mb']:.0f} MB | {m['peak_mb']:.0f} MB | "
                f"{(m['peak_mb'] / first - 1) * 100:+.0f}% |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
