"""Sync of 10k and 100k Salesforce records through the platform: API calls per 1,000 records
by kind, records/s against the emulator's bare query throughput, peak memory.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_salesforce \
       REDIS_URL=redis://127.0.0.1:6379/6 \
           .venv/bin/python bench/salesforce_sync.py [--sizes 10000,100000] [--write]
(without DATABASE_URL: a throwaway SQLite file; the PostgreSQL database is created if
missing). Per size, the Salesforce emulator runs in a child process (HTTPS, real clock), its
default org seeded directly; a `salesforce` Connection (JWT bearer) points at it and
`connection_sync` does the rest. Measured: the bare ceiling (keyset SOQL pages of 2,000 read
with plain `requests`, nothing stored), the backfill (timed), an incremental sync after 10%
edits and 1% deletes, and a full re-sync under tracemalloc (peak Python memory of this
process). `--write` records the figures in docs/benchmarks.md (section "salesforce-sync").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start, results_section_write
from bench.salesforce_emulator import EmulatorProcess
from bench.salesforce_report import report
from bench.sync_passes import passes_after_backfill

API = "v61.0"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if os.environ.get("DATABASE_URL"):
        _database_ensure(os.environ["DATABASE_URL"])
        label = "PostgreSQL (" + os.environ["DATABASE_URL"].rsplit("/", 1)[-1] + ")"
    else:
        label = database_setup("sqlite")
    limiter_store = "Redis" if os.environ.get("REDIS_URL") else "the database"
    load_before = os.getloadavg()
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = [measure(n, memory=not args.no_memory) for n in sizes]
    body = report(rows, label, limiter_store, load_before, os.getloadavg())
    print(body)
    if args.write:
        results_section_write("salesforce-sync", body)


def _database_ensure(url: str) -> None:
    """Create the scratch database named by `url` when it does not exist yet."""
    base, name = url.rsplit("/", 1)
    found = subprocess.run(
        ["psql", f"{base}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not found:
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)


def measure(n: int, *, memory: bool) -> dict[str, Any]:
    """Ceiling, backfill, incremental and (optionally) traced full re-sync of `n` records."""
    from salesops.models import Connection, CrmRecordMirror
    from salesops.services.connections import connection_credentials_set, connections_reset
    from salesops.services.sync import connection_sync

    emu = EmulatorProcess(records=n)
    print(f"{n}: seeded {emu.seeded} in {emu.seed_seconds:.1f} s", file=sys.stderr)
    try:
        result: dict[str, Any] = {"n": n, "seeded": emu.seeded}
        result["ceiling"] = bare_read(emu)
        print(f"  ceiling {result['ceiling']}", file=sys.stderr)
        slug = f"bench-salesforce-{n}-{os.getpid()}"
        connection = Connection.objects.create(kind="salesforce", slug=slug, account_id=emu.org_id)
        connection_credentials_set(connection, dict(emu.credentials))
        connections_reset()

        emu.call("reset")
        start = time.perf_counter()
        first = connection_sync(connection=connection)
        seconds = time.perf_counter() - start
        assert first.records == n and not first.errors, (first.records, first.errors)
        result["backfill"] = _pass(emu, first.records, first.deleted, seconds)
        mirrored = CrmRecordMirror.objects.filter(connection=connection).count()
        assert mirrored == n, (mirrored, n)

        result.update(passes_after_backfill(emu, connection, n, _pass, memory=memory))
        return result
    finally:
        emu.stop()


def bare_read(emu: EmulatorProcess) -> dict[str, float]:
    """Every seeded row read by keyset SOQL pages of 2,000 with plain `requests` (the same
    fields the connector selects, nothing parsed or stored): the emulator's own throughput."""
    import requests

    from connectors.salesforce.fields import select_fields
    from connectors.salesforce.soql import SfId, bind, names

    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
    session.verify = emu.credentials["ca_cert"]
    session.headers["Authorization"] = f"Bearer {emu.call('token')}"
    url = f"{emu.base_url}/services/data/{API}/query"
    calls = rows = 0
    start = time.perf_counter()
    for sobject in emu.seeded:
        head = f"SELECT {names(select_fields(sobject))} FROM {sobject} "
        where = ""
        while True:
            soql = head + where + "ORDER BY SystemModstamp, Id LIMIT 2000"
            answer = session.get(url, params={"q": soql}, timeout=60)
            answer.raise_for_status()
            records = answer.json()["records"]
            calls, rows = calls + 1, rows + len(records)
            if len(records) < 2000:
                break
            last = records[-1]
            stamp = last["SystemModstamp"].replace("+0000", "Z")
            where = bind(
                "WHERE (SystemModstamp > :t OR (SystemModstamp = :t AND Id > :id)) ",
                t=_parse(stamp),
                id=SfId(last["Id"]),
            )
    seconds = time.perf_counter() - start
    return {"records": rows, "calls": calls, "seconds": seconds, "rate": rows / seconds}


def _parse(stamp: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(stamp)


def _pass(emu: EmulatorProcess, records: int, deleted: int, seconds: float) -> dict[str, Any]:
    kinds: dict[str, int] = emu.call("kinds")
    statuses: dict[int | None, int] = emu.call("statuses")
    print(f"  {records} records in {seconds:.1f} s: {sorted(kinds.items())}", file=sys.stderr)
    return {
        "records": records,
        "deleted": deleted,
        "seconds": seconds,
        "calls": sum(v for k, v in kinds.items() if k != "auth"),
        "by_kind": kinds,
        "errors": sum(v for k, v in statuses.items() if k is None or k >= 400),
        "rate": (records + deleted) / seconds if seconds else 0.0,
    }


if __name__ == "__main__":
    main()
