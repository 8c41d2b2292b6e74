"""Start-up of management commands on the rules engine: wall and CPU time, and which SDKs load.

Each round starts a fresh `python manage.py <command> --help` (Django set-up, the admin's
autodiscovery, the command module) and records its wall time and its CPU time (user + system,
from the child's rusage: less disturbed than wall time by other work on the machine). Commands
are interleaved round by round so a burst of load hits all of them alike. Median and range are
printed, and written to docs/benchmarks.md with --write.

    python bench/startup_bench.py [--rounds 7] [--write]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

from common import ROOT, machine, now_stamp, results_section_write

COMMANDS = ["run_sop", "sync_crm", "setup_schedules", "load_sops", "demo"]
# Imported by the engines and connectors that are not configured here; none should load.
VENDOR_SDKS = ["anthropic", "hubspot", "simple_salesforce", "playwright", "cel"]
TARGET_S = 0.5

_PROBE = """
import os, sys
sys.argv = ["manage.py", sys.argv[1], "--help"]
from django.core.management import execute_from_command_line
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
stdout = sys.stdout
sys.stdout = open(os.devnull, "w")
try:
    execute_from_command_line(sys.argv)
except SystemExit:
    pass
sys.stdout = stdout
print(",".join(sorted(m for m in {vendors!r} if m in sys.modules)))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["SALESOPS_ENGINE"] = "rules"
    for name in ("SALESOPS_JUDGE_ENGINE", "ANTHROPIC_API_KEY"):
        env.pop(name, None)
    return env


def start_once(command: str) -> tuple[float, float]:
    """Wall and CPU seconds of one `manage.py <command> --help` in a new interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", command, "--help"],
        cwd=ROOT,
        env=_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def vendors_loaded(command: str) -> str:
    """The vendor SDKs in sys.modules after `<command> --help` (comma-separated, '' if none)."""
    probe = _PROBE.format(vendors=VENDOR_SDKS)
    done = subprocess.run(
        [sys.executable, "-c", probe, command],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    commands = args.commands.split(",")

    start_once(commands[0])  # warm the page cache and the .pyc files; not counted
    walls: dict[str, list[float]] = {c: [] for c in commands}
    cpus: dict[str, list[float]] = {c: [] for c in commands}
    for _ in range(args.rounds):
        for command in commands:
            wall, cpu = start_once(command)
            walls[command].append(wall)
            cpus[command].append(cpu)

    load = os.getloadavg()[0]
    lines = [
        f"Machine: {machine()}; {now_stamp()}; load average at the end {load:.2f}.",
        f"`manage.py <command> --help`, SALESOPS_ENGINE=rules, {args.rounds} interleaved rounds;"
        f" median (min-max) seconds; target < {TARGET_S} s.",
        "",
        "| command | wall s | CPU s (user+sys) | vendor SDKs imported |",
        "|---|---|---|---|",
    ]
    for command in commands:
        vendors = vendors_loaded(command) or "none"
        lines.append(
            f"| {command} | {_span(walls[command])} | {_span(cpus[command])} | {vendors} |"
        )
    body = "\n".join(lines)
    print(body)
    if args.write:
        results_section_write("startup", f"## Command start-up\n\n{body}")


if __name__ == "__main__":
    main()
