"""Salesforce API calls per run of each shipped SOP (rules engine), from the emulator's log.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_salesforce \
           .venv/bin/python bench/salesforce_runs.py [--records 3] [--write]
(without DATABASE_URL: a throwaway SQLite file). The Salesforce emulator (in this process)
holds the seeded sample org; a `salesforce` Connection (JWT bearer) points at it and the
mirror is synced (as a deployment would have). Each SOP then runs on its first `--records`
sample records with write-back on, one run at a time, and every REST request the emulator
received during the run is counted by kind. `--write` records the figures in
docs/benchmarks.md (section "salesforce-runs").
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import now_stamp, results_section_write, rules_bench_start, runs_table
from bench.salesforce_report import env_prefix

SOPS = ("lead-qualification", "follow-up", "deal-review")
KINDS = ("record reads", "history reads", "activity reads", "writes", "other")
_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


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
        results_section_write("salesforce-runs", body)


def measure(per_sop: int) -> list[dict[str, Any]]:
    """Per SOP: the runs' states and the emulator's REST requests per run, by kind."""
    from connectors.base import RecordRef
    from salesops.models import Connection, Sop
    from salesops.services.connections import connection_credentials_set, connections_reset
    from salesops.services.runs import run_create, run_execute
    from salesops.services.sops import sop_library_load
    from salesops.services.sync import connection_sync
    from tests.connectors.salesforce_seed import OUTBOUND_SECRET, emulator_start

    loaded = sop_library_load()
    assert not loaded.issues, loaded.issues
    emu = emulator_start(seed=True)
    try:
        store = emu.org()
        slug = f"bench-salesforce-runs-{os.getpid()}"
        connection = Connection.objects.create(
            kind="salesforce", slug=slug, account_id=store.org_id
        )
        connection_credentials_set(
            connection,
            {
                "login_url": emu.base_url,
                "consumer_key": emu.consumer_key,
                "username": store.username,
                "private_key": emu.private_key_pem,
                "ca_cert": emu.ca_path,
                "outbound_secret": OUTBOUND_SECRET,
            },
        )
        connections_reset()
        synced = connection_sync(connection=connection)
        assert not synced.errors, synced.errors
        rows = []
        for name in SOPS:
            sop = Sop.objects.get(name=name)
            ids = [v for (kind, _), v in store.sample_ids.items() if kind == sop.object_type]
            states: Counter[str] = Counter()
            per_run: list[Counter[str]] = []
            for record_id in ids[:per_sop]:
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
                rest = [r for r in emu.requests if r.path.startswith("/services/data/")]
                per_run.append(Counter(request_kind(r.method, r.path, r.query) for r in rest))
            rows.append({"sop": name, "runs": len(per_run), "states": states, "per_run": per_run})
            print(rows[-1], file=sys.stderr)
        return rows
    finally:
        emu.stop()


def request_kind(method: str, path: str, query: dict[str, list[str]]) -> str:
    """A REST request's kind: a SOQL read of records, history or activities, or a write."""
    if method in ("POST", "PATCH", "DELETE"):
        return "writes"
    soql = " ".join(query.get("q", []))
    if not soql:
        return "other"
    sobjects = set(_FROM.findall(soql))
    if sobjects & {"Task", "Event"}:
        return "activity reads"
    if any(s.endswith("FieldHistory") for s in sobjects):
        return "history reads"
    return "record reads"


def report(rows: list[dict[str, Any]], label: str, per_sop: int) -> str:
    """The docs section for runs: calls per run by kind, mean and range."""
    lines = [
        "### API calls per SOP run on Salesforce",
        "",
        f"Date: {now_stamp()}. Backend: {label}. Command: "
        f"`{env_prefix()}python bench/salesforce_runs.py --records {per_sop} --write`. Rules "
        f"engine, write-back on, the first {per_sop} sample records of each SOP's object type "
        "(the seeded sample org: contacts are Leads or Contacts by lifecycle stage), one run "
        "at a time; REST requests counted at the emulator (the OAuth token request is not an "
        "API call). Record reads: SOQL on the record and its context (`get_many`: the record, "
        "its Account, contacts, opportunities and contact roles); history reads: "
        "OpportunityFieldHistory; activity reads: SOQL on Task and Event; writes: composite "
        "upserts and updates (notes and tasks as Tasks on `Salesops_Key__c`, field updates); "
        "the reads a write makes first (the record, the Task key) count as reads. "
        "Skipped runs (the SOP's `applies_when` is false) read the record and its context, "
        "then stop.",
        "",
        *runs_table(rows, KINDS),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
