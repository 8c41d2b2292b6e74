"""Run an SOP's eval cases: a table, exit code 1 when a case fails, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesops.models import EvalRun, Sop, SopVersion
from salesops.services.evals import DEFAULT_ENGINE, evals_run


def junit_xml(eval_run: EvalRun) -> ET.ElementTree:
    """One <testsuite> for the run, one <testcase> per case; a failed case carries <failure>."""
    version = eval_run.sop_version
    suite = ET.Element(
        "testsuite",
        name=f"{version.sop.name} v{version.number} ({eval_run.engine})",
        tests=str(eval_run.total),
        failures=str(eval_run.failed),
        errors="0",
        skipped="0",
        time=f"{sum(r.latency_ms for r in eval_run.results.all()) / 1000:.3f}",
    )
    for result in eval_run.results.order_by("case_name"):
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"evals.{version.sop.name}",
            name=result.case_name,
            time=f"{result.latency_ms / 1000:.3f}",
        )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(result.differences))
            failure.text = "\n".join([*result.differences, f"reason: {result.reason}"])
    ET.indent(suite)
    return ET.ElementTree(suite)


class Command(BaseCommand):
    help = (
        "Run every eval case of an SOP against a version (default: the published one) with an "
        "engine (default: rules); exit code 1 when a case fails."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # `--version N` names an SOP version (as the issue asks): it replaces Django's
        # --version (the Django version), which "resolve" lets a command's own option do.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="SOP name")
        parser.add_argument("--version", type=int, help="version number (default: published)")
        parser.add_argument("--engine", default=DEFAULT_ENGINE, help="rules (default), anthropic")
        parser.add_argument("--junit", type=Path, help="write JUnit XML to this file")

    def handle(
        self,
        *args: Any,
        name: str,
        version: int | None = None,
        engine: str = DEFAULT_ENGINE,
        junit: Path | None = None,
        **options: Any,
    ) -> None:
        sop = Sop.objects.filter(name=name).select_related("published_version").first()
        if sop is None:
            raise CommandError(f"unknown SOP {name!r}")
        chosen: SopVersion | None = sop.published_version
        if version is not None:
            chosen = sop.versions.filter(number=version).first()
            if chosen is None:
                raise CommandError(f"{name} has no version {version}")
        if chosen is None:
            raise CommandError(f"{name} has no published version; pass --version")
        try:
            eval_run = evals_run(chosen, engine)
        except ValueError as exc:  # an unknown engine
            raise CommandError(str(exc)) from None
        self._table(eval_run)
        if junit is not None:
            junit.parent.mkdir(parents=True, exist_ok=True)
            junit_xml(eval_run).write(junit, encoding="utf-8", xml_declaration=True)
        if eval_run.failed:  # CI reads the exit code (1)
            raise CommandError(
                f"{eval_run.failed} of {eval_run.total} case(s) failed", returncode=1
            )

    def _table(self, eval_run: EvalRun) -> None:
        version = eval_run.sop_version
        results = list(eval_run.results.order_by("case_name"))
        width = max([len("case"), *(len(r.case_name) for r in results)])
        header = f"{'case':<{width}}  {'result':<6}  {'expected':<11}  {'got':<11}  what differed"
        self.stdout.write(f"{version.sop.name} v{version.number}, engine {eval_run.engine}")
        self.stdout.write(header + "\n" + "-" * len(header))
        for r in results:
            mark = self.style.SUCCESS("pass  ") if r.passed else self.style.ERROR("FAIL  ")
            self.stdout.write(
                f"{r.case_name:<{width}}  {mark}  {r.get_expected_verdict_display():<11}  "
                f"{r.get_verdict_display():<11}  {'; '.join(r.differences)}"
            )
        total = f"{eval_run.passed}/{eval_run.total} passed"
        style = self.style.SUCCESS if not eval_run.failed else self.style.ERROR
        self.stdout.write(style(total if eval_run.total else "no eval case for this SOP"))
