"""Sync of 10k and 100k HubSpot records through the platform: API calls per 1,000 records,
records/s against the Professional tier's limit, 429s received, peak memory.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hubspot \
           .venv/bin/python bench/hubspot_sync.py [--sizes 10000,100000] [--write] [--sync-history]
(without DATABASE_URL: a throwaway SQLite file). Per size, the HubSpot emulator runs in a
child process (Professional tier: 190 requests per 10 s per portal and search 5/s, on the real
clock), its portal seeded directly; a `hubspot` Connection points at it and
`connection_sync` does the rest, so the platform's shared limiter and the emulator's limits
both apply. Measured: the backfill (timed), an incremental sync after edits and deletes, and
a full re-sync under tracemalloc (peak Python memory of this process; the emulator's is its
own). `--write` records the figures in docs/benchmarks.md (section "hubspot-sync"; with
`--sync-history`, the connection's `sync_history` on: section "hubspot-sync-history").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_setup, django_start, machine, now_stamp, results_section_write
from bench.hubspot_emulator import CLIENT_SECRET, PORTAL, TOKEN, EmulatorProcess
from bench.sync_passes import passes_after_backfill

BURST, PER_SECONDS = 190, 10.0  # the emulator's Professional tier, per portal
# The most records one list call carries: 100, and with sync_history 50 for deals, whose
# pages then ask for property history (HubSpot's cap with propertiesWithHistory).
FULL_PAGE = {"companies": 100, "contacts": 100, "deals": 100}
HISTORY_PAGE = {**FULL_PAGE, "deals": 50}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--sync-history", action="store_true", help="sync pages carry history")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if os.environ.get("DATABASE_URL"):
        label = "PostgreSQL (" + os.environ["DATABASE_URL"].rsplit("/", 1)[-1] + ")"
    else:
        label = database_setup("sqlite")
    limiter_store = "Redis" if os.environ.get("REDIS_URL") else "the database"
    load_before = os.getloadavg()
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    history = args.sync_history
    rows = [measure(n, memory=not args.no_memory, history=history) for n in sizes]
    load_after = os.getloadavg()
    body = report(rows, label, limiter_store, load_before, load_after, history=history)
    print(body)
    if args.write:
        results_section_write("hubspot-sync-history" if history else "hubspot-sync", body)


def measure(n: int, *, memory: bool, history: bool = False) -> dict[str, Any]:
    """Backfill, incremental and (optionally) traced full re-sync of `n` records."""
    from salesops.models import Connection, CrmRecordMirror
    from salesops.services.connections import connection_credentials_set, connections_reset
    from salesops.services.sync import connection_sync

    emu = EmulatorProcess(records=n)
    print(f"{n}: seeded {emu.seeded} in {emu.seed_seconds:.1f} s", file=sys.stderr)
    try:
        slug = f"bench-hubspot-{n}-{os.getpid()}"
        connection = Connection.objects.create(kind="hubspot", slug=slug, account_id=str(PORTAL))
        connection_credentials_set(
            connection,
            {
                "access_token": TOKEN,
                "base_url": emu.base_url,
                "client_secret": CLIENT_SECRET,
                "sync_history": history,
            },
        )
        connections_reset()
        result: dict[str, Any] = {"n": n}

        emu.call("reset")
        start = time.perf_counter()
        first = connection_sync(connection=connection)
        seconds = time.perf_counter() - start
        assert first.records == n and not first.errors, (first.records, first.errors)
        result["backfill"] = _pass(emu, first.records, first.deleted, seconds)
        result["ceiling"] = ceiling(emu.seeded, HISTORY_PAGE if history else FULL_PAGE)
        mirrored = CrmRecordMirror.objects.filter(connection=connection).count()
        assert mirrored == n, (mirrored, n)

        result.update(passes_after_backfill(emu, connection, n, _pass, memory=memory))
        return result
    finally:
        emu.stop()


def ceiling(seeded: dict[str, int], full_page: dict[str, int]) -> float:
    """Records/s if every call the limit allows carried a full page of its type."""
    calls = sum(-(-n // full_page[t]) for t, n in seeded.items())
    return BURST / PER_SECONDS * sum(seeded.values()) / calls


def _pass(emu: EmulatorProcess, records: int, deleted: int, seconds: float) -> dict[str, Any]:
    calls: dict[str, int] = emu.call("calls")
    statuses: dict[int | None, int] = emu.call("statuses")
    limited = sum(v for k, v in calls.items() if not k.endswith("/search"))
    kinds: Counter[str] = Counter()
    for key, count in calls.items():
        kinds[_kind(key)] += count
    print(f"  {records} records in {seconds:.1f} s: {sorted(calls.items())}", file=sys.stderr)
    return {
        "records": records,
        "deleted": deleted,
        "seconds": seconds,
        "calls": sum(calls.values()),
        "limited_calls": limited,
        "by_kind": dict(kinds),
        "throttled": statuses.get(429, 0),
        "rate": (records + deleted) / seconds if seconds else 0.0,
    }


def _kind(endpoint: str) -> str:
    method, _, path = endpoint.partition(" ")
    if path.endswith("/search"):
        return "search"
    if "/associations/" in path:
        return "associations"
    if "/batch/" in path:
        return "batch"
    return "list" if method == "GET" else f"{method} other"


def report(
    rows: list[dict[str, Any]],
    label: str,
    limiter_store: str,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    *,
    history: bool = False,
) -> str:
    """The docs section: machine, command, the tables."""
    flag = " --sync-history" if history else ""
    if history:
        deals = (
            "deals' property history by batch read (the connection's `sync_history` on), the "
            "archived list for deletes"
        )
        page = "100 records; 50 for deals, whose pages carry property history, HubSpot's cap"
        heading = ["### The same with `sync_history` on (sync pages carry property history)"]
    else:
        deals = "the archived list for deletes; `sync_history` off, the default, so no history"
        page = "100 records, deals too: `sync_history` off, their pages carry no history"
        heading = [
            "## HubSpot connector (issue 10)",
            "",
            "### Sync through the platform against the Professional-tier limit",
        ]
    calls = sum(
        -(-100_000 * share // (50 if history and t == "deals" else 100))
        for t, share in (("companies", 0.2), ("contacts", 0.5), ("deals", 0.3))
    )
    lines = [
        *heading,
        "",
        f"Machine: {machine()}, nproc {os.cpu_count()}. Date: {now_stamp()}. Backend: {label};"
        f" shared limiter state in {limiter_store}. Load average (1, 5, 15 min) before / "
        f"after: {_load(load_before)} / {_load(load_after)}.",
        "",
        f"Command: `{_env()}python bench/hubspot_sync.py --write{flag}`.",
        "",
        "A `hubspot` Connection on a scratch database, synced by `connection_sync` (the "
        "platform's shared limiter in front of the connector) from the HubSpot emulator in its "
        "own process, on the real clock with the Professional tier's limits (190 requests per "
        "10 s per portal, search 5/s; a request past them is a 429). Records: 20% companies, "
        "50% contacts, 30% deals, cloned from the sample data and seeded straight into the "
        "emulator's store, a second apart, days ago. Passes: the first sync (a backfill of list "
        "pages with associations), then an incremental sync after 10% of the records were "
        "edited and 1% deleted (search on `hs_lastmodifieddate`, associations v4 batch reads, "
        f"{deals}), then a full re-sync under tracemalloc. The ceiling: 190 calls / 10 s, each "
        f"carrying a full page ({page}), so for this mix ({calls:,.0f} calls per 100,000 "
        f"records) **{rows[0]['ceiling']:,.0f} records/s**.",
        "",
        "| records | pass | records stored | tombstones | API calls | per 1,000 records | "
        "by kind | 429s received | wall s | records/s | % of ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        passes = [("backfill", r["backfill"]), ("incremental", r["incremental"])]
        if "traced" in r:
            passes.append(("full re-sync, traced", r["traced"]))
        for name, p in passes:
            if name == "incremental":
                name = f"incremental ({p['edits']:,} edits, {p['deletes']:,} deletes)"
            changes = p["records"] + p["deleted"]
            per = p["calls"] / changes * 1000 if changes else 0.0
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(p["by_kind"].items()))
            share = f"{p['rate'] / r['ceiling']:.0%}" if name == "backfill" else "-"
            lines.append(
                f"| {r['n']:,} | {name} | {p['records']:,} | {p['deleted']:,} | "
                f"{p['calls']:,} | {per:.1f} | {kinds} | {p['throttled']} | "
                f"{p['seconds']:.1f} | {p['rate']:,.0f} | {share} |"
            )
    lines += [
        "",
        "| records | peak Python memory (tracemalloc, full re-sync; the syncing process) |",
        "|---|---|",
    ]
    for r in rows:
        if "peak_mb" in r:
            lines.append(f"| {r['n']:,} | {r['peak_mb']:.1f} MB |")
    return "\n".join(lines)


def _env() -> str:
    """The DATABASE_URL / REDIS_URL the bench ran with, as a command prefix."""
    names = ("DATABASE_URL", "REDIS_URL")
    return "".join(f"{n}={os.environ[n]} " for n in names if os.environ.get(n))


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in load)


if __name__ == "__main__":
    main()
