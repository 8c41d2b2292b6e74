"""Verify candidate results (JSON files or a folder of cases) against an SOP and a record."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from connectors.base import CRMError
from connectors.local.sample import relative_time_resolve
from salesops.services.batches import sop_get
from salesops.services.trials import CandidateCheck, result_verify

MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "escalate": "ESCALATE",
    "skipped": "SKIP",
    "error": "ERROR",
}
# Exit codes, one per verdict; a batch exits with the most serious one present.
EXIT = {"written": 0, "not written": 1, "out of scope": 1, "escalate": 2, "bad input": 3}
SERIOUS = ("bad input", "not written", "out of scope", "escalate", "written")
VERDICT_TEXT = {
    "written": "would be written",
    "not written": "would NOT be written",
    "escalate": "would escalate to a human",
    "out of scope": "would be skipped",
}


@dataclass
class Checked:
    """One file's outcome: its verdict (or the bad-input reason) and what the case expected."""

    path: Path
    sop: str = ""
    record: str = ""
    expect: str = ""
    check: CandidateCheck | None = None
    error: str = ""

    @property
    def verdict(self) -> str:
        return "bad input" if self.check is None else self.check.verdict


class Command(BaseCommand):
    help = (
        "Check candidate results against an SOP and a record, as a run would (scope, schema, "
        "grounding, claims, policy, acceptance, judges when a model engine is configured, "
        "escalations). Each file is the bare result (with --sop and --record) or a case "
        '{"sop", "record": {"id"}, "result"} as in sop_library/cases/; a folder means every '
        "*.json in it. Exit 0: would be written; 1: would not be written (or out of scope); "
        "2: would escalate; 3: bad input. Several files exit with the most serious code "
        "(3, then 1, then 2)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="JSON files or folders of cases")
        parser.add_argument("--sop", help="SOP name (default: from each case file)")
        parser.add_argument("--record", help="record id (default: from each case file)")
        parser.add_argument(
            "--origin",
            choices=["model", "rules", "human"],
            default="model",
            help="who wrote the result; with no model to judge, a model's result escalates "
            "(default: model)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        paths = _expand(files)
        checked = [self._check(path, options) for path in paths]
        if options["json"]:
            self.stdout.write(json.dumps([_as_json(c) for c in checked], indent=2))
        elif len(checked) == 1:
            self._print_one(checked[0])
        else:
            for one in checked:
                self._print_one(one, heading=True)
            self._print_table(checked)
        worst = min(checked, key=lambda c: SERIOUS.index(c.verdict)).verdict
        if len(checked) == 1 and worst == "bad input" and not options["json"]:
            raise CommandError(checked[0].error, returncode=EXIT["bad input"])
        if EXIT[worst]:
            sys.exit(EXIT[worst])

    def _check(self, path: Path, options: dict[str, Any]) -> Checked:
        one = Checked(path=path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            one.error = f"{path}: cannot read: {exc}"
            return one
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            one.error = f"{path}: not valid JSON: {exc}"
            return one
        is_case = isinstance(data, dict) and "result" in data and "sop" in data
        case = data if is_case else {}
        one.sop = options.get("sop") or str(case.get("sop") or "")
        raw_record = case.get("record")
        record = raw_record if isinstance(raw_record, dict) else {}
        one.record = options.get("record") or str(record.get("id") or "")
        one.expect = str(case.get("expect") or "")
        if not one.sop or not one.record:
            one.error = f"{path}: give --sop and --record, or a case file that names them"
            return one
        try:
            one.check = result_verify(
                sop=sop_get(name=one.sop),
                record_id=one.record,
                result=relative_dates_resolve(data["result"] if is_case else data),
                origin=options["origin"],
            )
        except (ValueError, CRMError) as exc:
            one.error = f"{path}: {exc}"
        return one

    def _print_one(self, one: Checked, *, heading: bool = False) -> None:
        if heading:
            self.stdout.write(self.style.MIGRATE_HEADING(f"{one.path}"))
        if one.check is None:
            self.stdout.write(self.style.ERROR(f"bad input: {one.error}"))
            return
        if one.check.out_of_scope:
            self.stdout.write(f"SKIP     scope      {one.check.out_of_scope}")
        for outcome in one.check.report.outcomes:
            mark = MARKS.get(outcome.status, outcome.status.upper())
            self.stdout.write(
                f"{mark:<8} {outcome.kind:<10} {outcome.id:<28} {outcome.message}".rstrip()
            )
        text = VERDICT_TEXT[one.verdict]
        style = self.style.SUCCESS if one.verdict == "written" else self.style.WARNING
        self.stdout.write(style(f"verdict: {text}"))

    def _print_table(self, checked: list[Checked]) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'file':<58} {'sop':<20} {'record':<8} {'verdict':<14} expected")
        for one in checked:
            name = one.path.name if len(one.path.name) <= 58 else one.path.name[:55] + "..."
            self.stdout.write(
                f"{name:<58} {one.sop:<20} {one.record:<8} {one.verdict:<14} {one.expect}".rstrip()
            )
        counts = {v: sum(c.verdict == v for c in checked) for v in SERIOUS}
        self.stdout.write(", ".join(f"{n} {v}" for v, n in counts.items() if n))


def _expand(files: list[Path]) -> list[Path]:
    """Files as given; a folder becomes its *.json files, sorted."""
    paths: list[Path] = []
    for path in files:
        paths.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    if not paths:
        raise CommandError("no JSON files found", returncode=EXIT["bad input"])
    return paths


def _as_json(one: Checked) -> dict[str, Any]:
    report = one.check.report if one.check else None
    return {
        "file": str(one.path),
        "sop": one.sop,
        "record": one.record,
        "verdict": one.verdict,
        "exit_code": EXIT[one.verdict],
        "expected": one.expect or None,
        "error": one.error or None,
        "out_of_scope": (one.check.out_of_scope or None) if one.check else None,
        "checks": [
            {"id": o.id, "kind": o.kind, "status": o.status, "message": o.message}
            for o in (report.outcomes if report else [])
        ],
    }


_RELATIVE = re.compile(r"^(now|today)([+-]\d+[wdhm])+$")


def relative_dates_resolve(value: Any) -> Any:
    """Cases in sop_library/cases/ write dates as "today+1d" (like the sample data) so they
    never go stale; resolve them the way the sample loader does."""
    if isinstance(value, dict):
        return {k: relative_dates_resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_dates_resolve(v) for v in value]
    if isinstance(value, str) and _RELATIVE.match(value):
        kind = "date" if value.startswith("today") else "timestamp"
        resolved = relative_time_resolve(value, kind, now=timezone.now(), where="result")
        return resolved.isoformat()
    return value


_resolve_relative = relative_dates_resolve  # the name bench/eval_cases.py imports
