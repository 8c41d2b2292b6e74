"""Install the django-q2 schedule that starts scheduled SOP runs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from salesops.services.schedules import schedules_install


class Command(BaseCommand):
    help = "Create the every-minute schedule tick (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        schedules_install()
        self.stdout.write("schedule tick installed")
