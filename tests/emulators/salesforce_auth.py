"""OAuth for the Salesforce emulator: the token endpoint (JWT bearer and refresh-token grants),
userinfo / identity, and the sessions (access tokens) it issues per org.

The JWT bearer grant verifies the RS256 assertion with PyJWT against the connected app's trusted
public key: iss = consumer key, sub = username, aud = the login URL, exp in the future. Token
responses have Salesforce's shape: access_token, instance_url, id (.../id/<orgId>/<userId>),
token_type, issued_at (ms), signature (HMAC-SHA256 of id + issued_at with the client secret),
scope. Errors are {"error", "error_description"} with status 400 (401 for a bad client).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulators.framework import Request, Response, json_response

if TYPE_CHECKING:
    from tests.emulators.salesforce_api import SalesforceEmulator

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Audiences Salesforce accepts besides the emulator's own URL (production and sandbox login).
STANDARD_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class Session:
    """An issued access token: whose org and user, and whether it still works."""

    org_id: str
    user_id: str
    valid: bool = True


def key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as PEM text: (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response(status, {"error": error, "error_description": description})


class Auth:
    """Sessions and refresh tokens of one emulator, and its OAuth routes."""

    def __init__(self, emu: SalesforceEmulator) -> None:
        self.emu = emu
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (org id, user id)

    def register(self) -> None:
        """Add the OAuth routes to the emulator's router."""
        router = self.emu.router
        router.add("POST", "/services/oauth2/token", self.token)
        router.add("GET", "/services/oauth2/userinfo", self.userinfo)
        router.add("GET", "/id/{org}/{user}", self.identity)

    # -- sessions --------------------------------------------------------------------------
    def issue(self, org_id: str, user_id: str) -> str:
        """A new access token for a user of an org (the "00D...!..." shape)."""
        token = f"{org_id[:15]}!AQ{secrets.token_urlsafe(60)}"
        self.sessions[token] = Session(org_id, user_id)
        return token

    def session(self, req: Request) -> Session | None:
        """The valid session a request's bearer token names, if any."""
        found = self.sessions.get(req.bearer)
        return found if found is not None and found.valid else None

    def expire_all(self) -> None:
        """Every token issued so far answers 401 INVALID_SESSION_ID from now on."""
        for session in self.sessions.values():
            session.valid = False

    def refresh_token(self, org_id: str) -> str:
        """A refresh token for the API user of an org."""
        token = f"5Aep{secrets.token_urlsafe(60)}"
        self.refresh_tokens[token] = (org_id, self.emu.org(org_id).user_id)
        return token

    # -- routes ----------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        """POST /services/oauth2/token (form-encoded)."""
        form = {k: v[0] for k, v in parse_qs(req.raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        if grant == JWT_GRANT:
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _jwt_grant(self, assertion: str) -> Response:
        emu = self.emu
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if unverified.get("iss") != emu.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        try:
            claims = jwt.decode(
                assertion,
                emu.public_key_pem,
                algorithms=["RS256"],
                audience=[emu.base_url, *STANDARD_AUDIENCES],
                options={"require": ["exp", "sub", "aud", "iss"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "expired authorization code")
        except jwt.InvalidAudienceError:
            return _oauth_error("invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        found = emu.org_of_username(str(claims.get("sub", "")))
        if found is None:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return self._grant(found.org_id, found.user_id)

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        emu = self.emu
        if form.get("client_id") != emu.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != emu.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        owner = self.refresh_tokens.get(form.get("refresh_token", ""))
        if owner is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        return self._grant(*owner)

    def _grant(self, org_id: str, user_id: str) -> Response:
        emu = self.emu
        issued = str(int(emu.clock.time() * 1000))
        identity = f"{emu.base_url}/id/{org_id}/{user_id}"
        digest = hmac.new(
            emu.client_secret.encode(), (identity + issued).encode(), hashlib.sha256
        ).digest()
        return json_response(
            200,
            {
                "access_token": self.issue(org_id, user_id),
                "instance_url": emu.base_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued,
                "signature": base64.b64encode(digest).decode(),
                "scope": "api refresh_token",
            },
        )

    def _user(self, req: Request) -> tuple[Session, dict[str, Any]] | Response:
        session = self.session(req)
        if session is None:
            return json_response(
                403 if not req.bearer else 401,
                "Bad_OAuth_Token" if req.bearer else "Missing_OAuth_Token",
            )
        user = self.emu.org(session.org_id).get("User", session.user_id) or {}
        return session, user

    def userinfo(self, req: Request) -> Response:
        """GET /services/oauth2/userinfo: the OpenID Connect claims of the token's user."""
        found = self._user(req)
        if isinstance(found, Response):
            return found
        session, user = found
        return json_response(
            200,
            {
                "sub": f"{self.emu.base_url}/id/{session.org_id}/{session.user_id}",
                "user_id": session.user_id,
                "organization_id": session.org_id,
                "preferred_username": user.get("Username"),
                "nickname": user.get("Alias") or user.get("FirstName"),
                "name": user.get("Name"),
                "email": user.get("Email"),
                "email_verified": True,
                "given_name": user.get("FirstName"),
                "family_name": user.get("LastName"),
                "zoneinfo": "America/Los_Angeles",
                "active": True,
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "urls": self._urls(session),
            },
        )

    def identity(self, req: Request) -> Response:
        """GET /id/<org>/<user>: the identity URL a token response names."""
        found = self._user(req)
        if isinstance(found, Response):
            return found
        session, user = found
        if (req.params["org"], req.params["user"]) != (session.org_id, session.user_id):
            return json_response(403, "Bad_Id")
        return json_response(
            200,
            {
                "id": f"{self.emu.base_url}/id/{session.org_id}/{session.user_id}",
                "user_id": session.user_id,
                "organization_id": session.org_id,
                "username": user.get("Username"),
                "display_name": user.get("Name"),
                "email": user.get("Email"),
                "active": True,
                "user_type": "STANDARD",
                "urls": self._urls(session),
            },
        )

    def _urls(self, session: Session) -> dict[str, str]:
        base, v = self.emu.base_url, self.emu.api_version
        return {
            "rest": f"{base}/services/data/v{{version}}/",
            "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
            "query": f"{base}/services/data/v{{version}}/query/",
            "profile": f"{base}/{session.user_id}",
            "custom_domain": base,
            "api_version": v,
        }
