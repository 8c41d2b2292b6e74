"""Re-encrypt every connection's credentials under the newest SALESOPS_ENCRYPTION_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesops.services.credentials import CredentialsError, connections_credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every connection's credentials under the first (newest) key of "
        "SALESOPS_ENCRYPTION_KEYS, in one transaction; then the older keys can be dropped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rotated = connections_credentials_rotate()
        except CredentialsError as exc:
            raise CommandError(str(exc)) from None
        noun = "connection" if rotated == 1 else "connections"
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the credentials of {rotated} {noun} under the newest key. "
                "Remove the older keys from SALESOPS_ENCRYPTION_KEYS once every process "
                "runs with the new list."
            )
        )
