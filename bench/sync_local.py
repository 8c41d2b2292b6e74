"""Sync of 10k, 50k and 100k local CRM records: time per 1,000 records and peak memory.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sync \
           .venv/bin/python bench/sync_local.py [--sizes 10000,50000,100000] [--write]
(without DATABASE_URL: a throwaway SQLite file). Each size gets its own local account and
connection, bulk-seeded with no events. The first sync is timed; a second, full pass runs
under tracemalloc for the peak of Python allocations, which must not grow with the count.
`--write` records the figures in docs/benchmarks.md (section "sync-local").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start, machine, now_stamp, results_section_write


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if os.environ.get("DATABASE_URL"):
        label = "PostgreSQL (" + os.environ["DATABASE_URL"].rsplit("/", 1)[-1] + ")"
    else:
        label = database_setup("sqlite")
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = [measure(n) for n in sizes]
    lines = [
        f"### Sync of local records ({label})",
        "",
        f"{machine()}; {_lscpu()}; {now_stamp()}. Command: `python bench/sync_local.py"
        f" --write`. Pages of 500 (the local connector's default), one transaction per page "
        "(one bulk upsert of the mirror rows, the tombstones, the cursor).",
        "",
        "| records | first sync | per 1,000 records | full re-sync | peak Python memory "
        "(tracemalloc, full re-sync) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['first_s']:.1f} s | {r['per_1000_ms']:.0f} ms | "
            f"{r['full_s']:.1f} s | {r['peak_mb']:.1f} MB |"
        )
    body = "\n".join(lines)
    print(body)
    if args.write:
        results_section_write("sync-local", body)


def measure(n: int) -> dict[str, float]:
    from salesops.models import Connection, CrmRecordMirror
    from salesops.services.connections import connection_credentials_set, connections_reset
    from salesops.services.sync import connection_sync
    from tests.sync.seed import crm_seed

    account = f"bench-{n}-{os.getpid()}"
    connection = Connection.objects.create(kind="local", slug=account, account_id=account)
    connection_credentials_set(connection, {"account": account})
    connections_reset()
    crm_seed(n, account=account, prefix=account)

    start = time.perf_counter()
    first = connection_sync(connection=connection)
    first_s = time.perf_counter() - start
    assert first.records == n and not first.errors, (first.records, first.errors)

    tracemalloc.start()
    start = time.perf_counter()
    full = connection_sync(connection=connection, full=True)
    full_s = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert full.records == n
    assert CrmRecordMirror.objects.filter(connection=connection).count() == n
    result = {
        "n": n,
        "first_s": first_s,
        "per_1000_ms": first_s / n * 1000 * 1000,
        "full_s": full_s,
        "peak_mb": peak / 2**20,
    }
    print(result, file=sys.stderr)
    return result


def _lscpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "lscpu unavailable"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip() + f", nproc {os.cpu_count()}"
    return f"nproc {os.cpu_count()}"


if __name__ == "__main__":
    main()
