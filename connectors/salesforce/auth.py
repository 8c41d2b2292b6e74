"""Salesforce OAuth 2.0 sessions: JWT bearer, refresh token, or a given access token.

simple_salesforce's own login is hard-wired to *.salesforce.com domains, so the token call
is made here with requests against the configured login URL (My Domain, sandbox, or the
loopback emulator in tests). Secrets never reach messages or logs: only Salesforce's own
`error` / `error_description` do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import jwt
import requests

from connectors.base import PermanentCRMError, RetriableCRMError

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce refuses an assertion valid for longer than a few minutes.
ASSERTION_LIFETIME = timedelta(minutes=3)


@dataclass(frozen=True)
class Session:
    """An access token and where to use it, with the org and user the token belongs to."""

    instance_url: str
    access_token: str
    org_id: str = ""
    user_id: str = ""
    identity_url: str = ""


def audience(login_url: str) -> str:
    """The JWT `aud` Salesforce expects for a login URL.

    Production and My Domain logins want https://login.salesforce.com, sandboxes
    https://test.salesforce.com; any other host (an Experience Cloud site, an emulator)
    wants its own origin.
    """
    parsed = urlparse(login_url)
    host = (parsed.hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return "https://login.salesforce.com"
    return f"{parsed.scheme}://{parsed.netloc}"


def jwt_assertion(
    *, consumer_key: str, username: str, private_key: str, login_url: str, now: datetime
) -> str:
    """The RS256-signed assertion of the JWT bearer flow (iss, sub, aud, exp)."""
    payload = {
        "iss": consumer_key,
        "sub": username,
        "aud": audience(login_url),
        "exp": int((now + ASSERTION_LIFETIME).timestamp()),
    }
    try:
        return jwt.encode(payload, private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        # The key's own text must not leak into the message.
        raise PermanentCRMError(
            f"Salesforce JWT login: the private key cannot sign ({type(exc).__name__})"
        ) from None


def ids_from_identity_url(url: str) -> tuple[str, str]:
    """(org id, user id) from a token response's `id` URL (.../id/<orgId>/<userId>)."""
    parts = [p for p in urlparse(url).path.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "id":
        return parts[-2], parts[-1]
    return "", ""


class Authenticator:
    """Obtains sessions for one connection; `renewable` says whether `login()` can run again.

    Give either `consumer_key` + `username` + `private_key` (JWT bearer), or
    `refresh_token` + `client_id` + `client_secret`, or `instance_url` + `access_token`
    (used as is; no renewal possible once it expires).
    """

    def __init__(
        self,
        *,
        login_url: str = DEFAULT_LOGIN_URL,
        instance_url: str | None = None,
        access_token: str = "",
        consumer_key: str = "",
        username: str = "",
        private_key: str = "",
        refresh_token: str = "",
        client_id: str = "",
        client_secret: str = "",
        timeout: float = 30.0,
        verify: str | bool = True,
        clock: Callable[[], datetime] | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.login_url = (login_url or DEFAULT_LOGIN_URL).rstrip("/")
        self.instance_url = (instance_url or "").rstrip("/")
        self.access_token = access_token
        self.consumer_key, self.username, self.private_key = consumer_key, username, private_key
        self.refresh_token, self.client_id = refresh_token, client_id
        self.client_secret = client_secret
        self.timeout, self.verify = timeout, verify
        self.clock = clock or (lambda: datetime.now(UTC))
        self.http = http or requests.Session()
        self.logins = 0
        if not self.renewable and not (self.instance_url and self.access_token):
            raise ValueError(
                "a Salesforce connection needs consumer_key + username + private_key (JWT "
                "bearer), refresh_token + client_id + client_secret, or instance_url + "
                "access_token"
            )

    @property
    def flow(self) -> str:
        """ "jwt", "refresh" or "token" (a given access token)."""
        if self.consumer_key and self.username and self.private_key:
            return "jwt"
        if self.refresh_token and self.client_id and self.client_secret:
            return "refresh"
        return "token"

    @property
    def renewable(self) -> bool:
        return self.flow != "token"

    def login(self) -> Session:
        """A fresh session (or the given token's, when not renewable).

        Raises:
            PermanentCRMError: the grant was refused (Salesforce's error_description).
            RetriableCRMError: the login host is unreachable or answered 5xx.
        """
        if self.flow == "token":
            return Session(self.instance_url, self.access_token)
        if self.flow == "jwt":
            assertion = jwt_assertion(
                consumer_key=self.consumer_key,
                username=self.username,
                private_key=self.private_key,
                login_url=self.login_url,
                now=self.clock(),
            )
            form = {"grant_type": JWT_GRANT, "assertion": assertion}
        else:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        body = self._token_call(form)
        self.logins += 1
        identity = str(body.get("id") or "")
        org_id, user_id = ids_from_identity_url(identity)
        return Session(
            instance_url=str(body.get("instance_url") or self.instance_url).rstrip("/"),
            access_token=str(body["access_token"]),
            org_id=org_id,
            user_id=user_id,
            identity_url=identity,
        )

    def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        url = f"{self.login_url}/services/oauth2/token"
        try:
            response = self.http.post(
                url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                verify=self.verify,
            )
        except requests.RequestException as exc:
            raise RetriableCRMError(f"Salesforce login unreachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:
            raise RetriableCRMError(f"Salesforce login {response.status_code}")
        if response.status_code != 200 or not body.get("access_token"):
            error = str(body.get("error") or f"HTTP {response.status_code}")
            description = str(body.get("error_description") or "no description")
            raise PermanentCRMError(
                f"Salesforce login refused ({self.flow}): {error}: {description}"
            )
        return body
