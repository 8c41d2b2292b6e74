"""Time from a cluster's restart to its first completed run after a SIGKILL mid-batch, with the
queue settings before issue 8 (prefetch 50 + 10, no sweeper) and with ours.

Usage: python bench/crash_recovery_bench.py {sqlite|postgres} [--runs 60] [--cap 420]
Writes its section of docs/benchmarks.md. Production timeouts (300 s task timeout) on both sides.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start, machine, results_section_write


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--cap", type=float, default=420, help="give up waiting after (s)")
    args = parser.parse_args()
    label = database_setup(args.backend)
    django_start()
    from django.core.management import call_command

    from tests.e2e.chaos import DELAY

    call_command("migrate", verbosity=0)
    rows = [
        (mode, measure(args.runs, legacy=mode == "before", cap=args.cap))
        for mode in ("before", "after")
    ]
    lines = [
        f"### Crash recovery ({label})",
        "",
        f"{machine()}, {datetime.date.today().isoformat()}; {args.runs} runs, "
        f"{DELAY} s engine step, 2 workers, the cluster killed with SIGKILL after 5 runs, "
        "restarted at once.",
        "",
        "| settings | restart to first completed run | runs lost at the cap |",
        "|---|---|---|",
    ]
    for mode, (first, lost) in rows:
        shown = f"{first:.1f} s" if first is not None else f"none in {args.cap:.0f} s"
        lines.append(f"| {mode} | {shown} | {lost} |")
    print("\n".join(lines))
    results_section_write(f"crash-recovery-{args.backend}", "\n".join(lines))


def measure(n: int, *, legacy: bool, cap: float) -> tuple[float | None, int]:
    from django.utils import timezone
    from django_q.brokers import get_broker

    from connectors.local.sample import sample_data_load
    from salesops.models import Run
    from salesops.selectors import runs_pending
    from salesops.services.batches import records_select, runs_start, sop_get
    from salesops.services.schedules import schedules_install
    from salesops.services.sops import sop_library_load
    from salesops.services.workers import worker_stop
    from tests.e2e.chaos import cluster_kill, cluster_start

    get_broker().purge_queue()
    Run.objects.all().delete()
    sop_library_load()
    sample_data_load(Path(__file__).resolve().parent.parent / "sop_library/sample_data/crm.json")
    sop = sop_get(name="lead-qualification")
    contacts = records_select(sop=sop)
    ids: list[int] = []
    tag = f"{'before' if legacy else 'after'}-{time.time_ns()}"
    for i in range(0, n, len(contacts)):
        runs, _ = runs_start(sop=sop, record_ids=contacts[: n - i], batch=f"{tag}-{i}")
        ids += [r.pk for r in runs]
    if not legacy:
        schedules_install()
    cluster = cluster_start(legacy=legacy)
    while n - runs_pending(ids) < 5:
        time.sleep(0.05)
    cluster_kill(cluster)
    restarted, clock = timezone.now(), time.monotonic()
    cluster = cluster_start(legacy=legacy)
    first = None
    try:
        while time.monotonic() - clock < cap and runs_pending(ids):
            if first is None and Run.objects.filter(pk__in=ids, finished_at__gt=restarted).exists():
                first = time.monotonic() - clock
            time.sleep(0.1)  # "after": the sweeper runs on its schedule inside the cluster
        lost = runs_pending(ids)
    finally:
        worker_stop(cluster)
    return first, lost


if __name__ == "__main__":
    main()
