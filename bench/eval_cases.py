"""Verify every case in sop_library/cases/ on a throwaway database; score it (`make eval`).

Each case is {"sop", "record", "result", "expect": "pass"|"fail"|"escalate", "class", "why"}.
A bad case ("fail") is stopped when a check fails or escalates it, or the SOP does not apply to
the record; a good case ("pass") must be written; an "escalate" case must be escalated by a check
that is not a judge. Judges need a model: a good case held only by a judge that could not run is
counted under "judge n/a", not as a miss. Exit 1 when any case is missed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "sop_library" / "cases"
CLASSES = ("claims", "injection", "policy", "severity", "rubric", "baseline")


@dataclass
class Verdict:
    """One case's expectation, what the verifier did with it, and how that scores."""

    name: str
    sop: str
    cls: str
    expect: str
    got: str = "error"
    score: str = "miss"  # "ok", "miss" or "judge n/a"
    lines: list[str] = field(default_factory=list)


def setup() -> None:
    """A private SQLite database with the library and the sample CRM loaded."""
    tmp = tempfile.mkdtemp(prefix="salesops-eval-")
    os.environ["SALESOPS_SQLITE_PATH"] = str(Path(tmp) / "eval.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from connectors.local.sample import sample_data_load
    from salesops.services.sops import library_dir, sop_library_load

    call_command("migrate", interactive=False, verbosity=0)
    report = sop_library_load()
    for issue in report.issues:
        print(f"library: {issue}")
    sample_data_load(library_dir() / "sample_data" / "crm.json")


def judge_unavailable(outcome: Any) -> bool:
    """A judge that could not run (no model): it escalates or errors instead of giving a verdict."""
    return bool(outcome.kind == "judge" and outcome.status in ("escalate", "error"))


def evaluate(path: Path) -> Verdict:
    from connectors.base import CRMError
    from salesops.management.commands.verify_result import MARKS, relative_dates_resolve
    from salesops.services.batches import sop_get
    from salesops.services.trials import result_verify

    case = json.loads(path.read_text())
    verdict = Verdict(path.stem, case["sop"], case.get("class") or "baseline", case["expect"])
    try:
        check = result_verify(
            sop=sop_get(name=case["sop"]),
            record_id=case["record"]["id"],
            result=relative_dates_resolve(case["result"]),
        )
    except (ValueError, LookupError, CRMError) as exc:  # unknown SOP or record, bad case
        verdict.lines = [f"ERROR    {type(exc).__name__}: {exc}"]
        return verdict
    outcomes = check.report.outcomes
    out_of_scope = str(getattr(check, "out_of_scope", "") or "")  # applies_when is false
    verdict.lines = [f"SKIP     scope      {out_of_scope}"] if out_of_scope else []
    verdict.lines += [
        f"{MARKS.get(o.status, o.status.upper()):<8} {o.kind:<10} {o.id:<28} {o.message}".rstrip()
        for o in outcomes
    ]
    blocking = [o for o in outcomes if o.blocks_write and not judge_unavailable(o)]
    judge_only = not blocking and any(judge_unavailable(o) for o in outcomes)
    if out_of_scope:
        verdict.got = "skipped"
    elif check.would_write:
        verdict.got = "pass"
    elif check.report.passed:
        verdict.got = "escalate"
    else:
        verdict.got = "fail"
    if verdict.expect == "pass":
        verdict.score = "ok" if check.would_write else "judge n/a" if judge_only else "miss"
    elif verdict.expect == "fail":
        verdict.score = "ok" if blocking or out_of_scope else "miss"
    else:
        escalated = any(o.status == "escalate" for o in blocking)
        verdict.score = "ok" if escalated and check.report.passed else "miss"
    return verdict


def cell(ok: int, total: int) -> str:
    return f"{ok}/{total}" if total else "-"


def table(title: str, groups: dict[str, list[Verdict]]) -> None:
    columns = f"{'bad stopped':>12} {'good passed':>12} {'judge n/a':>10} {'escalated':>10}"
    head = f"{title:<28} {columns}"
    print(head)
    print("-" * len(head))
    for key, items in groups.items():
        counts: Counter[tuple[str, str]] = Counter((v.expect, v.score) for v in items)

        def column(expect: str, c: Counter[tuple[str, str]] = counts) -> str:
            return cell(c[expect, "ok"], sum(n for (e, _), n in c.items() if e == expect))

        judge = counts["pass", "judge n/a"]
        print(
            f"{key:<28} {column('fail'):>12} {column('pass'):>12} "
            f"{(str(judge) if judge else '-'):>10} {column('escalate'):>10}"
        )
    print()


def main() -> int:
    setup()
    verdicts = [evaluate(path) for path in sorted(CASES_DIR.glob("*.json"))]
    sops = sorted({v.sop for v in verdicts})
    classes = [c for c in CLASSES if any(v.cls == c for v in verdicts)]
    classes += sorted({v.cls for v in verdicts} - set(classes))
    print(f"{len(verdicts)} cases in {CASES_DIR.relative_to(ROOT)}\n")
    for sop in sops:
        mine = [v for v in verdicts if v.sop == sop]
        groups = {c: [v for v in mine if v.cls == c] for c in classes}
        table(sop, {**{c: g for c, g in groups.items() if g}, "all": mine})
    by_class = {c: [v for v in verdicts if v.cls == c] for c in classes}
    table("all SOPs", {**by_class, "all": verdicts})
    judged = [v for v in verdicts if v.score == "judge n/a"]
    if judged:
        print(
            f"judge n/a: {len(judged)} good case(s) held only by a judge check that could not run "
            "(no model engine configured); not counted as misses.\n"
        )
    misses = [v for v in verdicts if v.score == "miss"]
    print(f"misses: {len(misses)}")
    for v in misses:
        print(f"\n{v.name}  [{v.cls}] expected {v.expect}, got {v.got}")
        for line in v.lines:
            print(f"    {line}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
