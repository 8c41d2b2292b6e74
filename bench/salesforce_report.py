"""The docs/benchmarks.md section of bench/salesforce_sync.py: machine, command, tables."""

from __future__ import annotations

import os
from typing import Any

from bench.common import machine, now_stamp


def report(
    rows: list[dict[str, Any]],
    label: str,
    limiter_store: str,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> str:
    """The "salesforce-sync" section for the measured `rows` (one per size)."""
    lines = [
        "## Salesforce connector (issue 11)",
        "",
        "### Sync through the platform",
        "",
        f"Machine: {machine()}, nproc {os.cpu_count()}. Date: {now_stamp()}. Backend: {label};"
        f" shared limiter state in {limiter_store}. Load average (1, 5, 15 min) before / "
        f"after: {_load(load_before)} / {_load(load_after)}.",
        "",
        f"Command: `{env_prefix()}python bench/salesforce_sync.py --write`.",
        "",
        "A `salesforce` Connection (JWT bearer) on a scratch database, synced by "
        "`connection_sync` (the platform's shared limiter in front of the connector) from the "
        "Salesforce emulator in its own process, over HTTPS on the real clock. Records: 20% "
        "Accounts, 40% Contacts, 10% Leads (the contact feed reads both), 30% Opportunities, "
        "cloned from the seeded sample org into the emulator's store, a second apart, days "
        "ago. Passes: the first sync (keyset SOQL pages of 2,000 on (SystemModstamp, Id); "
        "deal pages add one OpportunityFieldHistory query; contacts read Contact to its end, "
        "then Lead), then an incremental sync after 10% of "
        "the records were edited and 1% (Contacts) deleted (deletes by `queryAll` on "
        "`IsDeleted`), then a full re-sync under tracemalloc. 'auth' is the OAuth token "
        "request (one per connector, not an API call in Salesforce's daily count). The "
        "ceiling: the same rows read with plain `requests`, keyset pages of 2,000 of the same "
        "fields, one sObject after the other, nothing parsed into records or stored: the "
        "emulator's bare query throughput on this machine.",
        "",
        "| records | pass | records stored | tombstones | API calls | per 1,000 records | "
        "by kind | errors | wall s | records/s | % of ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["ceiling"]
        per = c["calls"] / c["records"] * 1000
        lines.append(
            f"| {r['n']:,} | ceiling: bare SOQL pages | {c['records']:,} | - | {c['calls']:,} | "
            f"{per:.2f} | query {c['calls']} | 0 | {c['seconds']:.1f} | {c['rate']:,.0f} | "
            "100% |"
        )
        passes = [("backfill", r["backfill"]), ("incremental", r["incremental"])]
        if "traced" in r:
            passes.append(("full re-sync, traced", r["traced"]))
        for name, p in passes:
            if name == "incremental":
                name = f"incremental ({p['edits']:,} edits, {p['deletes']:,} deletes)"
            changes = p["records"] + p["deleted"]
            per = p["calls"] / changes * 1000 if changes else 0.0
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(p["by_kind"].items()))
            # tracemalloc slows the traced pass several times over: no share of the ceiling.
            share = f"{p['rate'] / c['rate']:.0%}" if name == "backfill" else "-"
            lines.append(
                f"| {r['n']:,} | {name} | {p['records']:,} | {p['deleted']:,} | "
                f"{p['calls']:,} | {per:.2f} | {kinds} | {p['errors']} | "
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


def env_prefix() -> str:
    """The DATABASE_URL / REDIS_URL the bench ran with, as a command prefix."""
    names = ("DATABASE_URL", "REDIS_URL")
    return "".join(f"{n}={os.environ[n]} " for n in names if os.environ.get(n))


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in load)
