"""Verify a candidate result (JSON) for an SOP against a record and print each check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from connectors.base import CRMError
from connectors.local.sample import relative_time_resolve
from salesops.services.batches import sop_get
from salesops.services.trials import result_verify

MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "escalate": "ESCALATE",
    "skipped": "SKIP",
    "error": "ERROR",
}


class Command(BaseCommand):
    help = (
        "Check a candidate result against an SOP and a record. Exit 0 only when the result "
        "would be written without escalation. The file is either the bare result, or a case "
        '{"sop", "record": {"id"}, "result"} as in sop_library/cases/.'
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="JSON file with the result or a case")
        parser.add_argument("--sop", help="SOP name (default: from the case file)")
        parser.add_argument("--record", help="record id (default: from the case file)")

    def handle(
        self, *args: Any, file: Path, sop: str | None, record: str | None, **options: Any
    ) -> None:
        try:
            data = json.loads(file.read_text())
        except OSError as exc:
            raise CommandError(f"{file}: cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file}: not valid JSON: {exc}") from exc
        is_case = isinstance(data, dict) and "result" in data and "sop" in data
        sop_name = sop or (data.get("sop") if is_case else None)
        record_id = record or ((data.get("record") or {}).get("id") if is_case else None)
        if not sop_name or not record_id:
            raise CommandError("give --sop and --record, or a case file that names them")
        result = _resolve_relative(data["result"] if is_case else data)
        try:
            check = result_verify(sop=sop_get(name=sop_name), record_id=record_id, result=result)
        except (ValueError, CRMError) as exc:
            raise CommandError(str(exc)) from exc
        for outcome in check.report.outcomes:
            mark = MARKS.get(outcome.status, outcome.status.upper())
            self.stdout.write(
                f"{mark:<8} {outcome.kind:<10} {outcome.id:<28} {outcome.message}".rstrip()
            )
        if check.would_write:
            self.stdout.write(self.style.SUCCESS("would be written"))
            return
        verdict = "would escalate" if check.report.passed else "would NOT be written"
        raise CommandError(verdict)


_RELATIVE = re.compile(r"^(now|today)([+-]\d+[wdhm])+$")


def _resolve_relative(value: Any) -> Any:
    """Cases in sop_library/cases/ write dates as "today+1d" (like the sample data) so they
    never go stale; resolve them the way the sample loader does."""
    if isinstance(value, dict):
        return {k: _resolve_relative(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_relative(v) for v in value]
    if isinstance(value, str) and _RELATIVE.match(value):
        kind = "date" if value.startswith("today") else "timestamp"
        resolved = relative_time_resolve(value, kind, now=timezone.now(), where="result")
        return resolved.isoformat()
    return value
