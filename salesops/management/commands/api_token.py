"""Issue (or revoke) the REST API token of a user, typically a service account."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesops.services.api_tokens import token_issue, token_revoke


class Command(BaseCommand):
    help = (
        "Print a new API token for USERNAME (replacing its old one) for the header "
        "'Authorization: Token <token>'; it is stored hashed and shown only now. "
        "--revoke removes it instead. The user needs is_staff and model permissions as in the "
        "admin; --create makes a staff service account without a password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="remove the user's token")
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the user first (staff, no usable password) if it does not exist",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        name = options["username"]
        user = users.objects.filter(**{users.USERNAME_FIELD: name}).first()
        if user is None and options["create"] and not options["revoke"]:
            user = users.objects.create_user(name, is_staff=True)
            user.set_unusable_password()
            user.save()
            self.stderr.write(f"created staff user {name!r}; grant it permissions in the admin")
        if user is None:
            raise CommandError(f"no user {name!r} (--create makes a service account)")
        if options["revoke"]:
            gone = token_revoke(user=user)
            self.stderr.write(f"token of {name!r} revoked" if gone else f"{name!r} had no token")
            return
        if not user.is_staff:
            self.stderr.write(f"warning: {name!r} is not staff; the API will refuse it")
        self.stdout.write(token_issue(user=user))
