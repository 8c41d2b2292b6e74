"""Loopback emulator of HubSpot's CRM APIs for connector tests and benchmarks.

Drive it with the real `hubspot-api-client` (`HubSpot(access_token=..., host=emu.base_url)`).
Portals (accounts) hold records seeded from the sample data; tokens map to a portal and scopes.
Built on the emulator framework: `fail(...)` faults render in HubSpot's error JSON, `calls`
counts requests per endpoint, and `tier=` turns on HubSpot's limits and X-HubSpot-RateLimit-*
headers (burst per 10 s and daily per portal; search 5/s on its own).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.emulators.framework import (
    Clock,
    Decision,
    Emulator,
    FakeClock,
    HttpError,
    RateLimited,
    RecordStore,
    RenderedFault,
    Request,
    Response,
    ServerError,
    SessionExpired,
    Window,
    WindowLimiter,
    json_response,
    retry_after_value,
)
from tests.emulators.hubspot_model import OBJECT_TYPES
from tests.emulators.hubspot_routes_meta import register_meta_routes
from tests.emulators.hubspot_routes_objects import register_object_routes
from tests.emulators.hubspot_seed import seed as seed_portal
from tests.emulators.hubspot_store import PortalStore
from tests.emulators.hubspot_webhooks import webhook_deliver, webhook_payload

# Requests per 10 s (private apps) and per day, by HubSpot subscription tier.
TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 650_000),
    "enterprise": (190, 1_000_000),
}
SEARCH_PER_SECOND = 5
ALL_SCOPES = tuple(
    sorted(
        {f"{o.scope}.{rw}" for o in OBJECT_TYPES.values() for rw in ("read", "write")}
        | {
            f"crm.schemas.{t}.{rw}"
            for t in ("contacts", "companies", "deals")
            for rw in ("read", "write")
        }
        # HubSpot has no schema write scope for engagements (crm.schemas.contacts.write
        # covers their properties), only read ones (its OpenAPI specs' security lists).
        | {f"crm.schemas.{t}.read" for t in ("notes", "tasks", "calls", "emails", "meetings")}
        | {"crm.objects.owners.read", "oauth"}
    )
)
# Ids per portal: the second portal's start this far after the first's, and so on.
PORTAL_ID_SPAN = 500_000
_POLICY = {"burst": "TEN_SECONDLY_ROLLING", "daily": "DAILY", "search": "SECONDLY"}


@dataclass
class Token:
    """An access token: its portal, scopes and (for OAuth) expiry."""

    portal_id: int
    scopes: tuple[str, ...] = ALL_SCOPES
    expires_at: datetime | None = None  # None: a private-app token, which never expires
    refresh_token: str | None = None
    user: str = "integration@example.com"
    meta: dict[str, Any] = field(default_factory=dict)


class HubSpotEmulator(Emulator):
    """HubSpot's CRM v3/v4 APIs on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        *,
        portal_id: int = 111,
        token: str = "pat-na1-test",
        scopes: tuple[str, ...] = ALL_SCOPES,
        seed: bool = True,
        tier: str | None = None,
        search_lag: float = 0.0,
        second_pipeline: bool = False,
        app_id: int = 424242,
        client_secret: str = "hubspot-client-secret",
        tls: bool = False,
        clock: Clock | None = None,
    ) -> None:
        clock = clock or FakeClock()
        limiter = None
        if tier is not None:
            burst, daily = TIERS[tier]
            limiter = WindowLimiter(
                clock, Window("burst", burst, 10), Window("daily", daily, 86_400)
            )
        super().__init__(tls=tls, clock=clock, limiter=limiter)
        self.search_limiter = (
            WindowLimiter(clock, Window("search", SEARCH_PER_SECOND, 1)) if tier else None
        )
        self.app_id, self.client_secret = app_id, client_secret
        self.search_lag, self.second_pipeline = search_lag, second_pipeline
        self.portals: dict[int, PortalStore] = {}
        self.tokens: dict[str, Token] = {}
        self.add_portal(portal_id, token=token, scopes=scopes, seed=seed)
        register_object_routes(self)
        register_meta_routes(self)

    # -- portals and tokens ----------------------------------------------------------------
    def add_portal(
        self,
        portal_id: int,
        *,
        token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        seed: bool = True,
        id_offset: int | None = None,
    ) -> PortalStore:
        """A new portal (seeded from the sample data unless `seed=False`), with a token.

        Its record ids start `id_offset` after the first portal's (default: `PORTAL_ID_SPAN`
        per portal already added), so no two portals share an id, as in HubSpot."""
        if id_offset is None:
            id_offset = PORTAL_ID_SPAN * len(self.portals)
        store = PortalStore(
            portal_id,
            self.clock,
            search_lag=self.search_lag,
            second_pipeline=self.second_pipeline,
            id_offset=id_offset,
        )
        if seed:
            seed_portal(store, RecordStore.from_sample(clock=self.clock))
        self.portals[portal_id] = store
        if token:
            self.tokens[token] = Token(portal_id, tuple(scopes))
        return store

    def portal(self, portal_id: int | None = None) -> PortalStore:
        """A portal's store (the first portal when none is named)."""
        return (
            self.portals[portal_id] if portal_id is not None else next(iter(self.portals.values()))
        )

    def oauth_token(
        self, portal_id: int, *, lifetime: float = 1800, scopes: tuple[str, ...] = ALL_SCOPES
    ) -> tuple[str, str]:
        """Issue an OAuth access token (expiring after `lifetime` s) and its refresh token."""
        access, refresh = f"oauth-{uuid.uuid4().hex}", f"refresh-{uuid.uuid4().hex}"
        self.tokens[access] = Token(
            portal_id, tuple(scopes), self.clock.now() + timedelta(seconds=lifetime), refresh
        )
        return access, refresh

    def expire_token(self, token: str) -> None:
        """Make a token expired from now on (401 EXPIRED_AUTHENTICATION)."""
        self.tokens[token].expires_at = self.clock.now() - timedelta(seconds=1)

    def token_of(self, req: Request) -> Token | None:
        """The token a request carries, if known."""
        return self.tokens.get(req.bearer)

    def store_for(self, req: Request) -> PortalStore:
        """The portal a (authenticated) request acts on."""
        token = self.token_of(req)
        assert token is not None, "before() lets no unknown token through"
        return self.portals[token.portal_id]

    # -- errors ----------------------------------------------------------------------------
    def error(
        self,
        status: int,
        message: str,
        category: str,
        *,
        context: dict | None = None,
        errors: list | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Response:
        """An error in HubSpot's shape: status, message, correlationId, category."""
        payload: dict[str, Any] = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }
        if context:
            payload["context"] = context
        if errors:
            payload["errors"] = errors
        return json_response(status, payload, headers)

    def missing_scopes(self, req: Request, *needed: str) -> Response | None:
        """403 MISSING_SCOPES unless the token holds one of `needed`."""
        token = self.token_of(req)
        if token is None or any(s in token.scopes for s in needed):
            return None
        return self.error(
            403,
            "This app hasn't been granted all required scopes to make this call. Read more "
            "about required scopes here: https://developers.hubspot.com/scopes.",
            "MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": list(needed)},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        )

    # -- framework hooks -------------------------------------------------------------------
    def before(self, req: Request) -> Response | None:
        """Bearer token check (token introspection and OAuth routes are open), then JSON."""
        if not req.path.startswith("/oauth/"):
            token = self.token_of(req)
            if token is None:
                return self.error(
                    401,
                    "Authentication credentials not found. This API supports OAuth 2.0 "
                    "authentication and you can find more details at "
                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION",
                )
            if token.expires_at is not None and self.clock.now() >= token.expires_at:
                return self._expired(token)
        form = req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if req.bad_json and not form:
            return self.error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
        return None

    def _expired(self, token: Token | None = None) -> Response:
        ago = 0
        if token is not None and token.expires_at is not None:
            ago = max(0, int((self.clock.now() - token.expires_at).total_seconds() // 60))
        return self.error(
            401,
            f"The OAuth token used to make this call expired {ago} minute(s) ago.",
            "EXPIRED_AUTHENTICATION",
        )

    def render_fault(self, fault: RenderedFault, req: Request) -> Response:
        """Framework faults (scripted and the limiter's) in HubSpot's error JSON."""
        if isinstance(fault, RateLimited):
            window = fault.decision.blocked_by if fault.decision is not None else "burst"
            policy = _POLICY.get(window or "burst", "TEN_SECONDLY_ROLLING")
            headers = {}
            if fault.decision is None:  # a scripted 429 says when to come back
                headers["Retry-After"] = retry_after_value(fault.retry_after)
            return self.error(
                429,
                fault.message or f"You have reached your {policy.lower()} limit.",
                "RATE_LIMITS",
                headers=headers,
                errorType="RATE_LIMIT",
                policyName=policy,
            )
        if isinstance(fault, SessionExpired):
            return self._expired()
        if isinstance(fault, ServerError):
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = retry_after_value(fault.retry_after)
            return self.error(
                fault.status, fault.message or "internal error", "INTERNAL_ERROR", headers=headers
            )
        assert isinstance(fault, HttpError)
        category = {404: "OBJECT_NOT_FOUND", 409: "CONFLICT", 403: "MISSING_SCOPES"}.get(
            fault.status, "VALIDATION_ERROR"
        )
        return self.error(fault.status, fault.message or "error", category, headers=fault.headers)

    def rate_limit_key(self, req: Request) -> str | None:
        """Limits are per portal; search has its own limiter, token routes none."""
        token = self.token_of(req)
        if token is None or req.path.endswith("/search") or req.path.startswith("/oauth/"):
            return None
        return f"portal:{token.portal_id}"

    def rate_limit_headers(self, decision: Decision, req: Request) -> dict[str, str]:
        """X-HubSpot-RateLimit-* from the burst and daily windows."""
        burst, daily = decision.usage["burst"], decision.usage["daily"]
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(burst.window.seconds * 1000)),
            "X-HubSpot-RateLimit-Max": str(burst.window.limit),
            "X-HubSpot-RateLimit-Remaining": str(burst.remaining),
            "X-HubSpot-RateLimit-Daily": str(daily.window.limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(daily.remaining),
        }

    def search_refused(self, req: Request) -> Response | None:
        """429 (SECONDLY) when the portal spent its search requests this second."""
        token = self.token_of(req)
        if self.search_limiter is None or token is None:
            return None
        decision = self.search_limiter.hit(f"portal:{token.portal_id}")
        if decision.allowed:
            return None
        return self.render_fault(RateLimited(decision.retry_after, decision=decision), req)

    def finish(self, req: Request, resp: Response) -> None:
        """Every answer carries a correlation id (the error body's, when there is one); its
        `Date` header is the emulator's clock (the framework's handler writes it)."""
        correlation = None
        if resp.status >= 400 and resp.body:
            try:
                correlation = json.loads(resp.body).get("correlationId")
            except (ValueError, AttributeError):
                correlation = None
        resp.headers.setdefault("X-HubSpot-Correlation-Id", correlation or str(uuid.uuid4()))

    # -- inspection and webhooks -----------------------------------------------------------
    def calls_total(self, prefix: str = "") -> int:
        """Requests received whose endpoint key starts with `prefix` ("POST /crm/v3")."""
        return sum(n for key, n in self.calls.items() if key.startswith(prefix))

    def drain_events(self, portal_id: int | None = None) -> list[dict[str, Any]]:
        """The portal's change journal since the last drain (creation, propertyChange, ...)."""
        store = self.portal(portal_id)
        with store.lock:
            events, store.events = store.events, []
        return events

    def webhook_payload(
        self, events: list[dict[str, Any]], portal_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Journal events (or hand-made ones) as HubSpot's webhook event array."""
        return webhook_payload(
            events, portal_id=self.portal(portal_id).portal_id, app_id=self.app_id
        )

    def webhook_deliver(self, url: str, events: list[dict[str, Any]], **kw: Any) -> Any:
        """POST a signed v3 delivery of `events` to `url` (see `hubspot_webhooks`)."""
        return webhook_deliver(url, self.webhook_payload(events), self.client_secret, **kw)
