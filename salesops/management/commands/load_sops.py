"""Load the SOP library (fragments, SOPs) into the database; a new version only on change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesops.services.sops import sop_library_load


class Command(BaseCommand):
    help = "Load sop_library/ (idempotent: a new version only when an SOP or fragment changed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--path", type=Path, help="library folder (default: SALESOPS_LIBRARY_DIR)"
        )

    def handle(self, *args: Any, path: Path | None = None, **options: Any) -> None:
        if path is not None and not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        report = sop_library_load(root=path)
        for name in report.fragments_changed:
            self.stdout.write(f"fragment {name}: changed, includers upgraded")
        for name in report.created:
            self.stdout.write(self.style.SUCCESS(f"{name}: new version published"))
        for name in report.unchanged:
            self.stdout.write(f"{name}: unchanged")
        if report.issues:
            lines = "\n".join(f"  {issue}" for issue in report.issues)
            raise CommandError(
                f"{len(report.issues)} problem(s); files with problems were not loaded and their "
                f"previous versions stay active:\n{lines}"
            )
