"""Pull CRM changes into the record mirror that scheduled triggers select from (resumable)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connectors.base import OBJECT_TYPES
from salesops.models import Connection
from salesops.services.connections import connection_default, connection_get
from salesops.services.sync import connection_sync


class Command(BaseCommand):
    help = (
        "Sync the record mirror from each enabled connection (or one), resuming from the "
        "saved cursor; --full starts over from the beginning."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", metavar="SLUG", help="only this connection")
        parser.add_argument(
            "--object-type",
            action="append",
            metavar="TYPE",
            help=f"only this object type ({', '.join(OBJECT_TYPES)}); may be repeated",
        )
        parser.add_argument(
            "--full", action="store_true", help="start from no cursor (records not seen stay)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="take over the lease of a sync that looks running (one killed moments ago)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        types = options["object_type"] or None
        unknown = sorted(set(types or ()) - set(OBJECT_TYPES))
        if unknown:
            raise CommandError(
                f"unknown object type {', '.join(unknown)} (known: {', '.join(OBJECT_TYPES)})"
            )
        connections = self._connections(options["connection"])
        failed = []
        for connection in connections:
            bar = tqdm(
                desc=f"sync {connection.slug}",
                unit=" records",
                disable=options["no_progress"],
                file=self.stderr._out,
                mininterval=0.5,
            )
            try:
                result = connection_sync(
                    connection=connection,
                    object_types=types,
                    full=options["full"],
                    progress=bar.update,
                    force=options["force"],
                )
            finally:
                bar.close()
            if result.skipped:
                raise CommandError(f"{connection.slug}: {result.skipped} (--force)")
            for obj in result.objects:
                state = "caught up" if obj.caught_up else f"stopped: {obj.error}"
                self.stdout.write(
                    f"{connection.slug} {obj.object_type}: {obj.records} record(s), "
                    f"{obj.deleted} deleted, {obj.pages} page(s), {state}"
                )
            failed += [f"{connection.slug} {e}" for e in result.errors]
        if failed:
            raise CommandError("sync stopped on a CRM error: " + "; ".join(failed))

    def _connections(self, slug: str | None) -> list[Connection]:
        if slug:
            try:
                return [connection_get(slug)]
            except Connection.DoesNotExist:
                known = ", ".join(Connection.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no connection {slug!r} (known: {known})") from None
        found = list(Connection.objects.filter(enabled=True))
        if not found:
            found = [connection_default()]
        return found
