"""Dashboard page speed on PostgreSQL with 100,000 runs (target < 300 ms), vs the admin index.

Usage: .venv/bin/python bench/dashboard_bench.py [--runs 100000] [--rounds 15] [--write]
Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_dashboard, created with
psql when missing), seeds it once with realistic runs (three SOPs of two versions, two
connections, 90 days; check steps, model and tool calls, writes, escalations with decisions),
then times the pages through Django's test client, logged in, in this process. `--write`
records the figures in docs/benchmarks.md (section "dashboard").
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_start, machine, now_stamp, results_section_write

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_dashboard"
CHECKS = ["schema", "score-in-range", "tier-matches-score", "claims-grounded", "budget-over-100k"]
STATES = [  # (state, weight): mostly written, some escalated, a few failed / skipped / in queue
    ("written", 70),
    ("escalated", 12),
    ("failed", 8),
    ("skipped", 8),
    ("queued", 1),
    ("running", 0.5),
    ("retrying", 0.5),
]


def database_ensure(url: str) -> None:
    base, name = url.rsplit("/", 1)
    found = subprocess.run(
        ["psql", f"{base}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not found:
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)


def seed(n: int) -> None:
    """n runs over the last 90 days with steps and escalations, in batched inserts."""
    from django.utils import timezone

    from salesops.models import Connection, Escalation, Run, RunStep, Sop, SopVersion, WriteBack

    Run.objects.all().delete()
    rng = random.Random(12)
    connections = [
        Connection.objects.get_or_create(slug=slug, defaults={"kind": "local"})[0]
        for slug in ("local", "local-eu")
    ]
    versions = []
    for name in ("lead-qualification", "deal-risk", "renewal-prep"):
        sop, _ = Sop.objects.get_or_create(
            name=name, defaults={"title": name, "object_type": "contact"}
        )
        for number in (1, 2):
            version, _ = SopVersion.objects.get_or_create(
                sop=sop, number=number, defaults={"text": "x", "content_hash": f"{name}-{number}"}
            )
            versions.append(version)
    # Seeding sets each run's creation time; in production it is always "now".
    Run._meta.get_field("queued_at").auto_now_add = False  # type: ignore[attr-defined]
    now = timezone.now()
    states, weights = zip(*STATES, strict=True)
    batch = 5000
    for start in range(0, n, batch):
        runs = []
        for i in range(start, min(start + batch, n)):
            version = rng.choice(versions)
            state = rng.choices(states, weights)[0]
            queued = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
            took = timedelta(seconds=rng.lognormvariate(2.5, 0.8))
            done = state in ("written", "escalated", "failed", "skipped")
            tokens = rng.randint(800, 4000)
            runs.append(
                Run(
                    sop_id=version.sop_id,
                    sop_version=version,
                    connection=rng.choice(connections),
                    object_type="contact",
                    record_id=f"c-{i % 5000}",
                    trigger=rng.choice(["event", "schedule", "manual"]),
                    idempotency_key=f"bench-{i}",
                    shadow=rng.random() < 0.03,
                    state=state,
                    engine="anthropic",
                    queued_at=queued,
                    started_at=queued + timedelta(seconds=1),
                    finished_at=queued + took if done else None,
                    input_tokens=tokens,
                    output_tokens=tokens // 5,
                    cost_usd=Decimal(tokens) * Decimal("0.000006"),
                )
            )
        Run.objects.bulk_create(runs, batch_size=batch)
        steps, escalations, writes = [], [], []
        for run in runs:
            steps.append(RunStep(run=run, seq=1, kind="model", name="claude", status="ok"))
            steps.append(RunStep(run=run, seq=2, kind="tool", name="crm_read", status="ok"))
            blocking = run.state == "escalated" or (run.state == "written" and rng.random() < 0.05)
            bad = rng.choice(CHECKS) if blocking else None
            for seq, check in enumerate(CHECKS, start=3):
                status = "ok"
                if check == bad:
                    status = "escalate" if check == "budget-over-100k" else "failed"
                steps.append(RunStep(run=run, seq=seq, kind="check", name=check, status=status))
            if run.state == "written":
                steps.append(RunStep(run=run, seq=9, kind="write", name="note", status="ok"))
                writes.append(
                    WriteBack(
                        run=run, seq=1, kind="note", idempotency_key=f"w-{run.pk}", payload={}
                    )
                )
            if blocking:
                decision = rng.choices(["open", "approved", "edited", "rejected"], [3, 4, 2, 1])[0]
                if run.state == "written":
                    decision = rng.choice(["approved", "edited"])
                escalations.append(
                    Escalation(
                        run=run,
                        reason=f"{bad} blocked the write",
                        checks=[{"id": bad, "status": "failed"}],
                        status="approved" if decision == "edited" else decision,
                        edited_output={"edited": True} if decision == "edited" else None,
                        overrides={bad: "ok"} if decision != "open" and rng.random() < 0.3 else {},
                    )
                )
        RunStep.objects.bulk_create(steps, batch_size=batch)
        Escalation.objects.bulk_create(escalations, batch_size=batch)
        WriteBack.objects.bulk_create(writes, batch_size=batch)
        print(f"seeded {start + len(runs):,} runs", flush=True)
    Run._meta.get_field("queued_at").auto_now_add = True  # type: ignore[attr-defined]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(client: Any, url: str, rounds: int) -> tuple[list[float], int]:
    """Wall milliseconds of `rounds` GETs after two warm-ups, and the queries of one."""
    from django.db import connection

    for _ in range(2):
        assert client.get(url).status_code == 200, url
    queries: list[str] = []
    with connection.execute_wrapper(lambda run, sql, *rest: queries.append(sql) or run(sql, *rest)):
        client.get(url)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return times, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.pop("REDIS_URL", None)
    database_ensure(url)
    django_start()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from salesops.models import Run, Sop

    call_command("migrate", verbosity=0)
    if Run.objects.count() != args.runs:
        seed(args.runs)
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    sop = Sop.objects.get(name="lead-qualification")
    pages = [
        ("admin index (bare admin page)", "/admin/"),
        ("dashboard, all SOPs, 30 days", "/admin/salesops/dashboard/"),
        ("dashboard, all SOPs, 90 days", "/admin/salesops/dashboard/?period=90"),
        (
            "dashboard, one SOP v2, 90 days",
            f"/admin/salesops/dashboard/?sop={sop.pk}&version=2&period=90",
        ),
        (
            "version comparison, 90 days",
            f"/admin/salesops/dashboard/compare/?sop={sop.pk}&v1=1&v2=2&period=90",
        ),
    ]
    load = os.getloadavg()
    lines = [
        "## Dashboard (issue 12)",
        "",
        f"Machine: {machine()}. Date: {now_stamp()}. Load average before measuring: "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.",
        f"Command: `python bench/dashboard_bench.py --write` (PostgreSQL, {args.runs:,} runs over "
        "90 days, ~8 steps each, ~13% escalated with reviewer decisions).",
        "",
        "Wall time of one GET through Django's test client, logged in, in one process (no "
        f"network); {args.rounds} rounds after two warm-ups. Target: dashboard < 300 ms. "
        "Queries include the session, the user and the filter form's choices. The failing "
        "checks read the partial index `runstep_blocking` (migration 0010). The machine is "
        "shared (see the load average): the figures are upper bounds.",
        "",
        "| page | queries | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for label, page in pages:
        times, queries = timed(client, page, args.rounds)
        cuts = statistics.quantiles(times, n=20, method="inclusive")
        lines.append(
            f"| {label} | {queries} | {statistics.median(times):.0f} | {cuts[18]:.0f} | "
            f"{max(times):.0f} |"
        )
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.write:
        results_section_write("dashboard", "\n".join(lines))


if __name__ == "__main__":
    main()
