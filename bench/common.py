"""Shared bench plumbing: a throwaway database, Django set-up, machine facts, results file."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"


def database_setup(backend: str) -> str:
    """Point this process at a fresh database for `backend` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="salesops-bench-")) / "bench.sqlite3"
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        os.environ["SALESOPS_SQLITE_PATH"] = str(path)
        return f"SQLite file + django-q2 ORM broker ({path.name})"
    name = "salesops_bench"
    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    subprocess.run(
        ["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/5")
    os.environ["SALESOPS_Q_NAME"] = f"salesops-bench-{os.getpid()}"
    return "PostgreSQL 15 + django-q2 Redis broker"


def django_start() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
    import django

    django.setup()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def results_section_write(marker: str, body: str) -> None:
    """Replace the section between `<!-- marker:start -->` and `<!-- marker:end -->`."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def rules_bench_start() -> str:
    """Start Django for a bench on the rules engine (no judge): the database from
    DATABASE_URL (else a throwaway SQLite file), migrated; returns its label."""
    if os.environ.get("DATABASE_URL"):
        label = "PostgreSQL (" + os.environ["DATABASE_URL"].rsplit("/", 1)[-1] + ")"
    else:
        label = database_setup("sqlite")
    os.environ["SALESOPS_ENGINE"] = "rules"
    os.environ.pop("SALESOPS_JUDGE_ENGINE", None)
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return label


def runs_table(rows: list[dict], kinds: tuple[str, ...]) -> list[str]:
    """The per-SOP table of a runs bench: API calls per run by kind, mean and min-max."""
    lines = [
        "| SOP | runs | outcomes | " + " | ".join(kinds) + " | total per run (mean, min-max) |",
        "|---|---|---|" + "---|" * len(kinds) + "---|",
    ]
    for r in rows:
        runs = max(r["runs"], 1)
        cells = [f"{sum(c[k] for c in r['per_run']) / runs:.1f}" for k in kinds]
        totals = [sum(c.values()) for c in r["per_run"]] or [0]
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["states"].items()))
        lines.append(
            f"| {r['sop']} | {r['runs']} | {outcomes} | " + " | ".join(cells) + " | "
            f"{sum(totals) / runs:.1f} ({min(totals)}-{max(totals)}) |"
        )
    return lines
