"""Check that a connection (or every one) is ready for the SOPs that run on it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import CheckLine
from salesops.models import Connection
from salesops.services.connection_checks import connection_check
from salesops.services.connections_env import ConnectionEnvError, connections_env_apply
from salesops.services.credentials import CredentialsError

_STYLE = {"ok": "SUCCESS", "warning": "WARNING", "problem": "ERROR"}


class Command(BaseCommand):
    help = (
        "Check identity, permissions, the properties the SOPs write, pick-list mapping and "
        "rate-limit headroom of a connection (no SLUG: all); exits non-zero when a problem "
        "blocks runs. --provision creates what the connector may create itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", metavar="SLUG", help="only this connection")
        parser.add_argument(
            "--provision",
            action="store_true",
            help="let the connector create what it may (custom properties), then check",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The environment's connections (HUBSPOT_ACCESS_TOKEN, ...) are checked as set now.
            connections_env_apply()
        except (ConnectionEnvError, CredentialsError) as exc:
            raise CommandError(str(exc)) from None
        connections = Connection.objects.order_by("slug")
        if options["slug"]:
            connections = connections.filter(slug=options["slug"])
            if not connections.exists():
                known = ", ".join(Connection.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no connection {options['slug']!r} (known: {known})")
        blocked = []
        for connection in connections:
            report = connection_check(connection, provision=options["provision"])
            account = report.account_id or "unknown account"
            who = f", as {report.user}" if report.user else ""
            self.stdout.write(f"{connection.slug} ({connection.kind}, {account}{who})")
            for line in report.lines:
                self._line(line)
            if report.blocking:
                blocked.append(connection.slug)
        if blocked:
            raise CommandError(f"runs are blocked on: {', '.join(blocked)}")

    def _line(self, line: CheckLine) -> None:
        style = getattr(self.style, _STYLE[line.status])
        blocks = "  (blocks runs)" if line.blocking else ""
        self.stdout.write(f"  {style(f'{line.status:<9}')}{line.topic:<15}{line.message}{blocks}")
        if line.fix and line.status != "ok":
            self.stdout.write(f"  {'':<9}{'':<15}fix: {line.fix}")
