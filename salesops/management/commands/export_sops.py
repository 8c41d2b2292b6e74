"""Write SOPs from the database back to Markdown files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesops.models import Sop
from salesops.services.eval_files import eval_cases_export
from salesops.services.sops import sop_export


class Command(BaseCommand):
    help = (
        "Export each SOP's published version to <out>/<name>.md and its eval cases to "
        "<out>/evals/<name>/<case>.json."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, required=True, help="folder to write into")
        parser.add_argument("names", nargs="*", help="SOP names (default: all)")

    def handle(self, *args: Any, out: Path, names: list[str], **options: Any) -> None:
        unknown = sorted(set(names) - set(Sop.objects.values_list("name", flat=True)))
        if unknown:
            raise CommandError(f"unknown SOP(s): {', '.join(unknown)}")
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a folder")
        for path in sop_export(directory=out, names=names or None):
            self.stdout.write(str(path))
        # The cases travel with their SOP: the library folder is the durable asset.
        for path in eval_cases_export(directory=out, names=names or None):
            self.stdout.write(str(path))
