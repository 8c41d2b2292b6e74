"""Claim grounding speed: per-result time of `claims_check` (target < 5 ms per result).

Run by hand: `.venv/bin/python bench/claims_bench.py [--write]`. Results are every case in
sop_library/cases/ and every offline-engine result for every sample record (three SOPs), on
record documents built from sop_library/sample_data/crm.json at a fixed instant. No database.
`--write` records the figures in docs/benchmarks.md (section "claims").
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import ROOT, machine, now_stamp, results_section_write

sys.path.insert(0, str(ROOT))

from salesops.skills.registry import OFFLINE_SKILLS, offline_skill_names, tool_skill_names
from salesops.specs.library import load_library
from salesops.verify.claims import claims_check
from tests.skills.conftest import SampleCrm  # the sample CRM as record documents

NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)
ROUNDS = 20


def workload() -> list[tuple[Any, Any, dict[str, Any]]]:
    """(spec, result, record document) for every case and every offline result."""
    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    sops = {name: loaded.spec for name, loaded in library.sops.items()}
    crm = SampleCrm(json.loads((ROOT / "sop_library/sample_data/crm.json").read_text()), NOW)
    items = []
    for path in sorted((ROOT / "sop_library" / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        doc = crm.document(case["record"]["object"], case["record"]["id"])
        items.append((sops[case["sop"]], case["result"], doc))
    for spec in sops.values():
        for record_id in crm.ids(spec.object):
            doc = crm.document(spec.object, record_id)
            items.append((spec, OFFLINE_SKILLS[spec.offline](doc, NOW, spec), doc))
    return items


def measure(items: list[tuple[Any, Any, dict[str, Any]]]) -> tuple[list[float], list[float]]:
    """Per-result CPU milliseconds (this process only, so other processes on a shared machine
    do not count): the first pass (cold caches), and the best of ROUNDS passes."""
    cold: list[float] = []
    best = [float("inf")] * len(items)
    for round_index in range(ROUNDS):
        for index, (spec, result, doc) in enumerate(items):
            start = time.process_time()
            claims_check(spec, result, doc, now=NOW)
            elapsed = (time.process_time() - start) * 1000
            best[index] = min(best[index], elapsed)
            if round_index == 0:
                cold.append(elapsed)
    return cold, best


def row(label: str, times: list[float]) -> str:
    """One table row: mean, p50, p95 and max milliseconds."""
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"| {label} | {len(ordered)} | {statistics.mean(ordered):.2f} "
        f"| {statistics.median(ordered):.2f} | {p95:.2f} | {ordered[-1]:.2f} |"
    )


def main() -> None:
    items = workload()
    cold, warm = measure(items)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n".join([
        "## Claim grounding (issue 7)",
        "",
        f"Machine: {machine()}. Date: {now_stamp()}. Load average while measuring: {load}.",
        "Command: `python bench/claims_bench.py --write`.",
        "",
        "`claims_check` CPU time per result (record facts indexed, every free-text field read),",
        "over every case in sop_library/cases and every offline-engine result for every sample",
        "record (CPU time: the machine is shared, and wall time there measures the neighbours).",
        f"Cold: the first pass, empty caches. Warm: best of {ROUNDS} passes per result.",
        "Target: < 5 ms per result.",
        "",
        "| pass | results | mean ms | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|",
        row("cold", cold),
        row("warm", warm),
    ])  # fmt: skip
    print(body)
    if "--write" in sys.argv:
        results_section_write("claims", body)


if __name__ == "__main__":
    main()
