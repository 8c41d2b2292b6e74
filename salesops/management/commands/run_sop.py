"""Run one SOP by hand on a record or a selection of records, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from salesops.services.batches import (
    records_missing,
    records_select_iter,
    run_execute_inline,
    runs_in_order,
    runs_start_ids,
    runs_wait_ids,
    sop_get,
)
from salesops.specs.model import SpecError


class Command(BaseCommand):
    help = "Run an SOP on records: --record ID (repeatable), --where EXPR or --all."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("sop", help="SOP name, e.g. lead-qualification")
        parser.add_argument("--record", action="append", default=[], help="record id")
        parser.add_argument("--where", help="CEL selector over mirrored records")
        parser.add_argument("--all", action="store_true", help="every record of the SOP's object")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="shadow: full run and checks, nothing written to the CRM",
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="run here instead of through the queue (no qcluster needed)",
        )
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait")

    def handle(self, *args: Any, **opts: Any) -> None:
        chosen = sum(bool(x) for x in (opts["record"], opts["where"], opts["all"]))
        if chosen != 1:
            raise CommandError("give exactly one of --record, --where or --all")
        try:
            sop = sop_get(name=opts["sop"])
            if sop.published_version is None:
                raise CommandError(f"SOP {sop.name} has no published version")
            named: list[str] = opts["record"]
            missing = records_missing(sop=sop, record_ids=named) if named else []
            if missing:
                raise CommandError(f"no {sop.object_type} with id {', '.join(missing)} in the CRM")
            # A selection is streamed into the runs a chunk at a time, never held whole.
            ids = named or records_select_iter(sop=sop, where=opts["where"])
        except (ValueError, SpecError) as exc:
            raise CommandError(str(exc)) from exc
        run_ids = runs_start_ids(
            sop=sop, record_ids=ids, shadow=opts["dry_run"], enqueue=not opts["sync"]
        )
        if not run_ids:
            self.stdout.write("no records selected")
            return
        with tqdm(total=len(run_ids), desc=sop.name, unit="run", file=self.stderr._out) as bar:
            if opts["sync"]:
                for run_id in run_ids:
                    run_execute_inline(run_id)
                    bar.update(1)
            else:
                finished = runs_wait_ids(
                    run_ids,
                    timeout=opts["timeout"],
                    on_progress=lambda done: bar.update(done - bar.n),
                )
                if not finished:
                    raise CommandError(
                        f"runs still pending after {opts['timeout']:.0f}s: is a qcluster running? "
                        "(python manage.py qcluster, or use --sync)"
                    )
        for run in runs_in_order(run_ids):
            line = f"{run.object_type}:{run.record_id:<8} {run.state:<10} {run.reason[:100]}"
            self.stdout.write(line.rstrip())
