"""Pull changed CRM records into the mirror that scheduled triggers select from."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from salesops.services.schedules import mirror_sync


class Command(BaseCommand):
    help = "Sync the record mirror from the configured CRM connector."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{mirror_sync()} record(s) synced")
