"""HubSpot API calls per run of each shipped SOP (rules engine), from the emulator's counters.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hubspot \
           .venv/bin/python bench/hubspot_runs.py [--records 3] [--write]
(without DATABASE_URL: a throwaway SQLite file). The HubSpot emulator (in this process, no
rate limit) holds the sample data; a `hubspot` Connection points at it with our properties
provisioned and the mirror synced (as a deployment would have). Each SOP then runs on its
first `--records` sample records with write-back on, one run at a time, and every request the
emulator received during the run is counted: record reads (`get_many`: batch reads of the
record and its context), activity reads (association reads and batch reads of engagements),
and writes. `--write` records the figures in docs/benchmarks.md (section "hubspot-runs").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import now_stamp, results_section_write, rules_bench_start, runs_table

ENGAGEMENTS = ("calls", "emails", "meetings", "notes", "tasks")
SOPS = ("lead-qualification", "follow-up", "deal-review")
KINDS = ("record reads", "association reads", "activity reads", "searches", "writes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    label = rules_bench_start()
    rows = measure(args.records)
    body = report(rows, label, args.records)
    print(body)
    if args.write:
        results_section_write("hubspot-runs", body)


def measure(per_sop: int) -> list[dict[str, Any]]:
    """Per SOP: the runs' states and the emulator's requests per run, by kind."""
    from connectors.base import RecordRef
    from salesops.models import Connection, Sop
    from salesops.services.connections import (
        connection_connector,
        connection_credentials_set,
        connections_reset,
    )
    from salesops.services.runs import run_create, run_execute
    from salesops.services.sops import sop_library_load
    from salesops.services.sync import connection_sync
    from tests.connectors.hubspot_seed import PORTAL, TOKEN, emulator_start

    report = sop_library_load()
    assert not report.issues, report.issues
    emu = emulator_start(seed=True)
    try:
        slug = f"bench-hubspot-runs-{os.getpid()}"
        connection = Connection.objects.create(kind="hubspot", slug=slug, account_id=str(PORTAL))
        connection_credentials_set(
            connection,
            {"access_token": TOKEN, "base_url": emu.base_url, "client_secret": emu.client_secret},
        )
        connections_reset()
        connection_connector(connection).check(provision=True)
        synced = connection_sync(connection=connection)
        assert not synced.errors, synced.errors
        store = emu.portal(PORTAL)
        rows = []
        for name in SOPS:
            sop = Sop.objects.get(name=name)
            hs_type = {"contact": "contacts", "deal": "deals", "company": "companies"}
            ids = [o.id for o in store.live(hs_type[sop.object_type])][:per_sop]
            states: Counter[str] = Counter()
            per_run: list[Counter[str]] = []
            for record_id in ids:
                run, _ = run_create(
                    sop=sop,
                    ref=RecordRef(sop.object_type, record_id),
                    trigger="manual",
                    event_key=f"bench-{record_id}",
                    connection=connection,
                    enqueue=False,
                )
                emu.reset_log()
                run = run_execute(run_id=run.pk)
                states[run.state] += 1
                per_run.append(Counter(_kind(r.method, r.path) for r in emu.requests))
            rows.append({"sop": name, "runs": len(ids), "states": states, "per_run": per_run})
            print(rows[-1], file=sys.stderr)
        return rows
    finally:
        emu.stop()


def _kind(method: str, path: str) -> str:
    parts = path.split("?")[0].strip("/").split("/")
    if method == "POST" and path.endswith("/search"):
        return "searches"
    if parts[:3] == ["crm", "v4", "associations"] and parts[-1] == "read":
        return "activity reads" if parts[4] in ENGAGEMENTS else "association reads"
    if method == "GET" or (method == "POST" and parts[-1] == "read"):
        is_engagement = len(parts) > 3 and parts[3] in ENGAGEMENTS
        return "activity reads" if is_engagement else "record reads"
    return "writes"


def report(rows: list[dict[str, Any]], label: str, per_sop: int) -> str:
    """The docs section for runs: calls per run by kind, mean and range."""
    lines = [
        "### API calls per SOP run on HubSpot",
        "",
        f"Date: {now_stamp()}. Backend: {label}. Command: "
        f"`{_env()}python bench/hubspot_runs.py --records {per_sop} --write`. Rules engine, "
        f"write-back on, the first {per_sop} sample records of each SOP's object type, one "
        "run at a time; requests counted at the emulator. Record reads: batch reads of the "
        "record and its context (`get_many`); association reads: associations v4 batch "
        "reads between contacts, companies and deals; activity reads: association reads to "
        "the five engagement types and their batch reads; writes: creates, upserts and "
        "updates (notes, tasks, properties, associations); the idempotency checks before "
        "them are batch reads, counted as reads. Skipped runs (the SOP's `applies_when` is "
        "false) read the record and its context, then stop.",
        "",
        *runs_table(rows, KINDS),
    ]
    return "\n".join(lines)


def _env() -> str:
    """The DATABASE_URL / REDIS_URL the bench ran with, as a command prefix."""
    names = ("DATABASE_URL", "REDIS_URL")
    return "".join(f"{n}={os.environ[n]} " for n in names if os.environ.get(n))


if __name__ == "__main__":
    main()
