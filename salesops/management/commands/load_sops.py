"""Load the SOP library (fragments, SOPs) into the database; a new version only on change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesops.services.eval_files import EvalCasesLoadReport, eval_cases_load
from salesops.services.sops import (
    FragmentLoadOutcome,
    LibraryLoadReport,
    SopLoadOutcome,
    library_dir,
    sop_library_load,
)

HOW_TO_PUBLISH = (
    "To make it active, publish v{n} in admin (SOP versions > Publish selected version) "
    "or run load_sops --publish."
)
SOURCES = {"admin": "in admin", "api": "through the API", "library": "in admin"}


def _manager(o: SopLoadOutcome) -> str:
    """E.g. "v2 published in admin", naming the manager's text behind a fragment upgrade."""
    where = SOURCES.get(o.manager_source, f"from {o.manager_source}")
    if o.manager_text_version == o.manager_version:
        return f"v{o.manager_version} published {where}"
    return (
        f"v{o.manager_version} (the text of v{o.manager_text_version} published {where}, "
        "fragment updated)"
    )


def sop_line(o: SopLoadOutcome) -> tuple[str, str]:
    """One output line for one SOP and its level: "success", "warning", "notice" or "quiet"."""
    if o.state == "unchanged":
        return "quiet", f"{o.name} v{o.version}: unchanged"
    if o.state == "published":
        what = "new version published" if o.created else "published again (the file matches it)"
        if o.manager_version is not None:
            what += f"; it replaces {_manager(o)}, as --publish asks"
        return "success", f"{o.name} v{o.version}: {what}"
    if o.state == "draft":
        stored = "stored as a draft" if o.created else f"the same as v{o.version}, not active"
        return "warning", (
            f"{o.name} v{o.version}: the library file changed, but {_manager(o)} stays active "
            f"(a manager published it after the last library load); the library's text is "
            f"{stored}. " + HOW_TO_PUBLISH.format(n=o.version)
        )
    library = "not stored" if o.version is None else f"v{o.version}"
    if o.version is not None and not o.version_was_published:
        library += ", a draft"
    line = (
        f"{o.name}: {_manager(o)} stays active; the library file has not changed since it was "
        f"last loaded (library version {library})."
    )
    if o.version is not None:
        line += " To use the library's version, publish it in admin or run load_sops --publish."
    return "notice", line


def fragment_line(o: FragmentLoadOutcome) -> tuple[str, str] | None:
    """One output line for one fragment (None when nothing happened)."""
    if o.state == "new":
        return "success", f"fragment {o.name}: new"
    if o.state == "changed":
        upgraded = ", ".join(o.upgraded) or "no published SOP includes it"
        return "success", f"fragment {o.name}: changed, includers upgraded ({upgraded})"
    if o.state == "conflict":
        return "warning", (
            f"fragment {o.name}: the library file changed, but the text edited in admin stays; "
            "the library's text was not applied. Run load_sops --publish to apply it."
        )
    if o.state == "kept":
        return "notice", (
            f"fragment {o.name}: the text edited in admin stays (the library file has not "
            "changed since it was last loaded)"
        )
    return None


def report_lines(report: LibraryLoadReport) -> list[tuple[str, str]]:
    """Every line `load_sops` prints for a load, fragments first."""
    lines = [line for o in report.fragments if (line := fragment_line(o))]
    return lines + [sop_line(o) for o in report.sops]


def eval_lines(report: EvalCasesLoadReport) -> list[tuple[str, str]]:
    """The lines `load_sops` prints for the eval cases it read (none when nothing changed)."""
    lines = [("success", f"eval case {name}: new") for name in report.created]
    lines += [("success", f"eval case {name}: updated") for name in report.updated]
    if report.unchanged:
        lines.append(("quiet", f"{len(report.unchanged)} eval case(s) unchanged"))
    return lines


class Command(BaseCommand):
    help = (
        "Load sop_library/: a new version only when a file changed since the last load. A file "
        "changed beside a version a manager published since is stored as a draft."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--path", type=Path, help="library folder (default: SALESOPS_LIBRARY_DIR)"
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="make the library's versions active even over versions published in admin",
        )

    def handle(
        self, *args: Any, path: Path | None = None, publish: bool = False, **options: Any
    ) -> None:
        if path is not None and not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        report = sop_library_load(root=path, publish=publish)
        # After the SOPs: a case file names its SOP by folder, which must exist by now.
        cases = eval_cases_load(root=path or library_dir())
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        for level, line in report_lines(report) + eval_lines(cases):
            self.stdout.write(styles.get(level, str)(line))
        issues = report.issues + cases.issues
        if issues:
            lines = "\n".join(f"  {issue}" for issue in issues)
            raise CommandError(
                f"{len(issues)} problem(s); files with problems were not loaded and their "
                f"previous versions stay active:\n{lines}"
            )
