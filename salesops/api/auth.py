"""Token authentication for service accounts, against hashed tokens (services.api_tokens)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from salesops.env import env_str
from salesops.services.api_tokens import token_user


class HashedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>`; the secret is hashed before it is looked up."""

    def authenticate_credentials(self, key: str) -> tuple[Any, str]:
        user = token_user(secret=key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        # request.auth is the string "token": throttling tells service accounts by it.
        return user, "token"


class TokenRateThrottle(SimpleRateThrottle):
    """A per-account request rate for token clients (SALESOPS_API_RATE, e.g. "600/min").

    People in a browser session are not throttled: the limit guards against a runaway
    integration. The count lives in Django's cache, so it is per process without a shared one.
    """

    scope = "token"
    rate = env_str("SALESOPS_API_RATE", "600/min") or None

    def get_rate(self) -> str | None:
        return None  # SALESOPS_API_RATE set empty: no limit

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth != "token" or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
