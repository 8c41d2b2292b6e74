"""Loopback emulator of Salesforce's REST API (and OAuth) for connector tests and benchmarks.

Drive it with `requests` or `simple_salesforce` over HTTPS (trust `ca_path`). One emulator holds
orgs (`org`, `org_add`), each an `OrgStore`; the default org can be seeded from the sample CRM
data. A token from the JWT bearer or refresh-token grant acts as its org's integration user.
Every REST call spends one of the org's daily API requests and answers `Sforce-Limit-Info`;
`fault_next` scripts Salesforce's failures (500/503, INVALID_SESSION_ID, UNABLE_TO_LOCK_ROW,
REQUEST_LIMIT_EXCEEDED, ...) in its error shape: a JSON list of {message, errorCode, fields}.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.emulators.framework import (
    Clock,
    Emulator,
    FakeClock,
    HttpError,
    RateLimited,
    RenderedFault,
    Request,
    Response,
    ServerError,
    SessionExpired,
    json_response,
    retry_after_value,
)
from tests.emulators.salesforce_auth import Auth, key_pair
from tests.emulators.salesforce_store import OrgStore

ORG_ID = "00D5g000004SLsfEAG"
USERNAME = "integration@salesops-emulator.example"
CONSUMER_KEY = "3MVG9emulatorConsumerKey.salesops"
CLIENT_ID = CONSUMER_KEY
CLIENT_SECRET = "emulator-client-secret-5F3A"
OLDEST_VERSION = 31.0
_VERSION_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/|$)")
# Faults by name: status, errorCode, message (UNABLE_TO_LOCK_ROW is per record: see writes).
FAULTS: dict[str, tuple[int, str, str]] = {
    "500": (
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
    "503": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."),
    "INVALID_SESSION_ID": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
    "REQUEST_LIMIT_EXCEEDED": (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    "400": (400, "INVALID_INPUT", "The request was invalid."),
    # Salesforce's concurrent-request limit; the emulator answers it as a 429 with Retry-After.
    "429": (429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
}


@dataclass(frozen=True)
class ScriptedFault:
    """One queued failure: what to answer and, optionally, Retry-After seconds."""

    status: int
    code: str
    message: str
    retry_after: float | None = None


@cache
def _trusted_key_pair() -> tuple[str, str]:
    # RSA key generation takes tens of milliseconds: one connected-app key per process.
    return key_pair()


class SalesforceEmulator(Emulator):
    """Salesforce's REST API on 127.0.0.1 over HTTPS; see the module docstring."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: bool = False,
        api_version: str = "61.0",
        daily_limit: int = 100_000,
        page_size: int = 2000,
    ) -> None:
        super().__init__(tls=True, clock=clock or FakeClock())
        self.api_version, self.daily_limit, self.page_size = api_version, daily_limit, page_size
        self.consumer_key, self.username = CONSUMER_KEY, USERNAME
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.private_key_pem, self.public_key_pem = _trusted_key_pair()
        self.orgs: dict[str, OrgStore] = {}
        self._serial = itertools.count(1)
        self._serial_lock = threading.Lock()
        self._faults: deque[ScriptedFault] = deque()
        self.lock_faults = 0  # record writes still to fail with UNABLE_TO_LOCK_ROW
        self.cursors: dict[str, Any] = {}  # query locator -> remaining rows (salesforce_rest)
        self.auth = Auth(self)
        self.auth.register()
        from tests.emulators.salesforce_collections import register_collection_routes
        from tests.emulators.salesforce_rest import register_rest_routes
        from tests.emulators.salesforce_routes_meta import register_meta_routes

        register_meta_routes(self)  # before sobjects/{type}/{id}, which would match .../deleted
        register_rest_routes(self)
        register_collection_routes(self)
        store = self.org_add(ORG_ID, USERNAME)
        if seed:
            from tests.emulators.salesforce_seed import seed_org

            seed_org(store)

    # -- orgs, users, tokens ---------------------------------------------------------------
    def _next_serial(self) -> int:
        with self._serial_lock:
            return next(self._serial)

    def org_add(self, org_id: str, username: str, *, provisioned: bool = True) -> OrgStore:
        """A new, empty org whose integration user is `username` (custom fields created unless
        `provisioned=False`)."""
        store = OrgStore(org_id, username, self.clock, self._next_serial, provisioned=provisioned)
        store.api_max = self.daily_limit
        self.orgs[org_id] = store
        return store

    def org(self, org_id: str | None = None) -> OrgStore:
        """An org's store (the default org when none is named)."""
        return self.orgs[org_id or ORG_ID]

    def org_of_username(self, username: str) -> OrgStore | None:
        """The org whose integration user has this username."""
        return next((o for o in self.orgs.values() if o.username == username), None)

    def access_token(self, org_id: str | None = None) -> str:
        """A valid access token for an org's integration user, without the OAuth dance."""
        store = self.org(org_id)
        return self.auth.issue(store.org_id, store.user_id)

    def refresh_token(self, org_id: str | None = None) -> str:
        """A valid refresh token for an org's integration user."""
        return self.auth.refresh_token(self.org(org_id).org_id)

    def expire_sessions(self) -> None:
        """Every access token issued so far answers 401 INVALID_SESSION_ID."""
        self.auth.expire_all()

    def store_for(self, req: Request) -> OrgStore:
        """The org an authenticated request acts on."""
        session = self.auth.session(req)
        assert session is not None, "before() lets no unknown token through"
        return self.orgs[session.org_id]

    def user_for(self, req: Request) -> str:
        """The user Id an authenticated request writes as."""
        session = self.auth.session(req)
        assert session is not None
        return session.user_id

    @property
    def ca_path(self) -> str:  # type: ignore[override]
        """The CA bundle file to pass as requests' `verify=`."""
        path = super().ca_path
        assert path is not None
        return str(path)

    # -- limits and faults -----------------------------------------------------------------
    def api_usage_set(self, used: int, max: int | None = None, org_id: str | None = None) -> None:
        """Set an org's daily API requests used (and its maximum)."""
        store = self.org(org_id)
        store.api_used = used
        if max is not None:
            store.api_max = max

    def fault_next(self, fault: str, *, times: int = 1, retry_after: float | None = None) -> None:
        """Make the next `times` REST calls fail with a named fault (see FAULTS);
        UNABLE_TO_LOCK_ROW fails the next `times` record writes instead."""
        if fault == "UNABLE_TO_LOCK_ROW":
            self.lock_faults += times
            return
        status, code, message = FAULTS[fault]
        self._faults.extend([ScriptedFault(status, code, message, retry_after)] * times)

    def take_lock_fault(self) -> bool:
        """Whether the next record write fails with UNABLE_TO_LOCK_ROW (consumes one)."""
        with self._serial_lock:
            if self.lock_faults <= 0:
                return False
            self.lock_faults -= 1
            return True

    # -- errors ----------------------------------------------------------------------------
    @staticmethod
    def error(
        status: int,
        code: str,
        message: str,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """An error in Salesforce's shape: [{"message", "errorCode", "fields"?}]."""
        entry: dict[str, Any] = {"message": message, "errorCode": code}
        if fields is not None:
            entry["fields"] = fields
        return json_response(status, [entry], headers)

    def render_fault(self, fault: RenderedFault, req: Request) -> Response:
        """Framework faults (`fail(...)`) rendered as Salesforce errors."""
        if isinstance(fault, SessionExpired):
            return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if isinstance(fault, RateLimited):
            headers = {"Retry-After": retry_after_value(fault.retry_after)}
            return self.error(429, "REQUEST_LIMIT_EXCEEDED", FAULTS["429"][2], headers=headers)
        if isinstance(fault, ServerError):
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = retry_after_value(fault.retry_after)
            code = "SERVER_UNAVAILABLE" if fault.status == 503 else "UNKNOWN_EXCEPTION"
            return self.error(
                fault.status, code, fault.message or FAULTS["500"][2], headers=headers
            )
        assert isinstance(fault, HttpError)
        code = {404: "NOT_FOUND", 403: "FORBIDDEN", 401: "INVALID_SESSION_ID"}.get(
            fault.status, "INVALID_INPUT"
        )
        return self.error(fault.status, code, fault.message or "error", headers=fault.headers)

    # -- framework hooks -------------------------------------------------------------------
    def before(self, req: Request) -> Response | None:
        """REST calls: session, API version, the daily limit (each call spends one), scripted
        faults, then a JSON body check. OAuth and identity routes are open."""
        if not req.path.startswith("/services/data/v"):
            return None
        session = self.auth.session(req)
        if session is None:
            return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        version = _VERSION_PATH.match(req.path)
        if version is None or not OLDEST_VERSION <= float(version[1]) <= float(self.api_version):
            return self.error(404, "NOT_FOUND", "The requested resource does not exist")
        store = self.orgs[session.org_id]
        with store.lock:
            if store.api_used >= store.api_max:
                return self.error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            store.api_used += 1
        if self._faults:
            try:
                fault = self._faults.popleft()
            except IndexError:
                fault = None
            if fault is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = retry_after_value(fault.retry_after)
                return self.error(fault.status, fault.code, fault.message, headers=headers)
        if req.bad_json:
            return self.error(
                400,
                "JSON_PARSER_ERROR",
                "Unexpected character ('" + req.raw[:1].decode("latin-1") + "'): was expecting "
                "a JSON value at [line:1, column:1]",
            )
        return None

    def finish(self, req: Request, resp: Response) -> None:
        """REST answers carry Sforce-Limit-Info: api-usage=<used>/<max> for the token's org."""
        if not req.path.startswith("/services/data"):
            return
        session = self.auth.sessions.get(req.bearer)
        if session is not None:
            store = self.orgs[session.org_id]
            resp.headers["Sforce-Limit-Info"] = f"api-usage={store.api_used}/{store.api_max}"

    # -- outbound messages -----------------------------------------------------------------
    def outbound_message(
        self,
        sobject: str,
        rows: list[dict[str, Any]],
        *,
        org_id: str | None = None,
        session_id: str = "",
        action_id: str = "04k5g000000Xyz1AAC",
        notification_ids: list[str] | None = None,
    ) -> bytes:
        """A SOAP Outbound Message body for rows of one sObject, like Salesforce posts."""
        from tests.emulators.salesforce_outbound import outbound_body

        store = self.org(org_id)
        return outbound_body(
            sobject,
            rows,
            org_id=store.org_id,
            action_id=action_id,
            session_id=session_id,
            base_url=self.base_url if self._server is not None else "https://127.0.0.1",
            api_version=self.api_version,
            notification_ids=notification_ids,
            new_id=lambda: store.new_id("OutboundNotification"),
        )
