"""The one simple_salesforce client of a connection: session renewal, bounded retries, a
concurrency cap, the daily budget from `Sforce-Limit-Info`, and the one error translation.

Every request goes through `SalesforceClient._call`: simple_salesforce exceptions and
requests' transport errors never escape; they become connectors.base errors. 5xx, 429,
timeouts and UNABLE_TO_LOCK_ROW are retried here for a few seconds at most (tenacity), then
raised as RetriableCRMError for the platform's own retry policy. Every call the client makes
is idempotent (queries, reads, upserts by external id, updates), so a retry after a lost
answer is safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from connectors.base import CRMError, PermanentCRMError, RecordNotFound, RetriableCRMError
from connectors.salesforce.auth import DEFAULT_LOGIN_URL, Authenticator, Session

DEFAULT_API_VERSION = "61.0"
# Bounded in-call retrying: the platform's retry policy (services/run_state.py) takes over.
RETRY_ATTEMPTS = 4
RETRY_BUDGET = 5.0  # seconds of waiting across one call's retries
MAX_IN_CALL_WAIT = 2.0  # a longer Retry-After is raised, not slept through
# Salesforce's daily request limit is a rolling 24-hour window: without a Retry-After, wait
# an hour for the oldest calls of the window to age out.
DAILY_LIMIT_WAIT = 3600.0
# Salesforce allows 25 concurrent long (>20 s) requests per production org; one process
# stays well below so other connections and integrations of the org keep their share.
DEFAULT_CONCURRENCY = 4
RETRIABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT"})


class DailyLimitExceeded(RetriableCRMError):
    """The org's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED)."""

    limit_exceeded = True


class SessionExpired(PermanentCRMError):
    """INVALID_SESSION_ID that re-authenticating did not cure (or could not: a given token)."""


def _status_error(cls: type[CRMError], message: str, status: int, **kw: Any) -> CRMError:
    exc = cls(message, **kw)
    exc.status = status  # type: ignore[attr-defined]  # the limiter reads it (429s)
    return exc


def error_detail(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a Salesforce error body: a list of errors, or one dict."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, dict):
        code = str(first.get("errorCode") or first.get("error") or "")
        message = str(first.get("message") or first.get("error_description") or "")
        return code, message
    if isinstance(content, bytes):
        content = content.decode(errors="replace")
    return "", str(content or "")[:200]


def retry_after_seconds(headers: Any) -> float | None:
    """The Retry-After header in seconds, None when absent or not a number."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def translate(exc: SalesforceError, headers: Any = None) -> CRMError:
    """The connectors.base error for a simple_salesforce exception (`headers`: the failed
    response's, for Retry-After)."""
    code, message = error_detail(exc.content)
    status = int(exc.status or 0)
    text = f"Salesforce {status}: {code + ': ' if code else ''}{message or 'no message'}"
    wait = retry_after_seconds(headers)
    # The same code names the concurrent-request limit (ConcurrentPerOrgLongTxn): that one
    # clears in seconds, so only the daily total waits for the window.
    if code == "REQUEST_LIMIT_EXCEEDED" and status != 429 and "Concurrent" not in message:
        return _status_error(
            DailyLimitExceeded, text, status, retry_after=DAILY_LIMIT_WAIT if wait is None else wait
        )
    if status == 429 or status >= 500 or code in RETRIABLE_CODES:
        return _status_error(RetriableCRMError, text, status, retry_after=wait)
    if status == 401:
        return _status_error(SessionExpired, text, status)
    if status == 404 or code in ("NOT_FOUND", "ENTITY_IS_DELETED"):
        return _status_error(RecordNotFound, text, status)
    return _status_error(PermanentCRMError, text, status)


class SalesforceClient:
    """One org's REST client over simple_salesforce (see the module docstring).

    `sleep` is what retries wait with (tests pass a recorder). The session is obtained on
    the first call (or `login()`), and again once per call on INVALID_SESSION_ID when the
    authenticator can renew it.
    """

    def __init__(
        self,
        auth: Authenticator,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        ca_cert: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_attempts: int = RETRY_ATTEMPTS,
        retry_budget: float = RETRY_BUDGET,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.auth, self.api_version, self.timeout = auth, api_version, timeout
        self.ca_cert = ca_cert
        self.retry_attempts, self.retry_budget = retry_attempts, retry_budget
        self._sleep = sleep
        self.calls = 0
        self.retries = 0
        self._gate = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._local = threading.local()  # the last response this thread saw (its headers)
        self._sf: Salesforce | None = None
        self._session: Session | None = None
        self._usage: dict[str, int | None] = {"daily_used": None, "daily_max": None}
        self._identity: dict[str, str] | None = None
        self.http = _Session()
        if ca_cert:
            self.http.verify = ca_cert
        self.http.hooks["response"].append(self._seen)

    @classmethod
    def connect(
        cls,
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
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        ca_cert: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> SalesforceClient:
        """A client and its authenticator from a connection's options (see Authenticator)."""
        auth = Authenticator(
            login_url=login_url,
            instance_url=instance_url,
            access_token=access_token,
            consumer_key=consumer_key,
            username=username,
            private_key=private_key,
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            verify=ca_cert or True,
        )
        return cls(auth, api_version=api_version, timeout=timeout, ca_cert=ca_cert, sleep=sleep)

    # -- session ---------------------------------------------------------------------------

    def login(self) -> Session:
        """The current session, logging in first when there is none yet."""
        with self._lock:
            if self._session is None:
                self._install(self.auth.login())
            assert self._session is not None
            return self._session

    def _install(self, session: Session) -> None:
        self._session = session
        self._sf = Salesforce(
            instance_url=session.instance_url,
            session_id=session.access_token,
            session=self.http,
            version=self.api_version,
            object_pairs_hook=dict,
        )

    def _renew(self, used: Salesforce) -> None:
        # After INVALID_SESSION_ID: log in again unless another thread already did.
        with self._lock:
            if self._sf is used:
                self._install(self.auth.login())

    @property
    def sf(self) -> Salesforce:
        """The simple_salesforce client of the current session."""
        self.login()
        assert self._sf is not None
        return self._sf

    # -- identity --------------------------------------------------------------------------

    @property
    def org_id(self) -> str:
        return self.identity()["org_id"]

    @property
    def user_id(self) -> str:
        return self.identity()["user_id"]

    @property
    def username(self) -> str:
        return self.identity()["username"]

    def identity(self) -> dict[str, str]:
        """org_id, user_id, username (and name): from the token response's id URL, and
        userinfo for whatever it lacks; read once."""
        if self._identity is None:
            session = self.login()
            found = {
                "org_id": session.org_id,
                "user_id": session.user_id,
                "username": self.auth.username,
                "name": "",
            }
            if not all(found[k] for k in ("org_id", "user_id", "username")):
                info = self._call(lambda sf: sf.oauth2("userinfo")) or {}
                found["org_id"] = found["org_id"] or str(info.get("organization_id") or "")
                found["user_id"] = found["user_id"] or str(info.get("user_id") or "")
                found["username"] = found["username"] or str(info.get("preferred_username") or "")
                found["name"] = str(info.get("name") or "")
            self._identity = found
        return self._identity

    # -- calls -----------------------------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool = False) -> dict:
        """One page of a SOQL query: {"totalSize", "done", "records", ["nextRecordsUrl"]}."""
        return dict(
            self._call(
                lambda sf: sf.query(soql, include_deleted=include_deleted, timeout=self.timeout)
            )
        )

    def query_more(self, next_records_url: str) -> dict:
        """The page at a previous page's `nextRecordsUrl`."""
        path = urlparse(next_records_url).path if "://" in next_records_url else next_records_url
        return dict(
            self._call(lambda sf: sf.query_more(path, identifier_is_url=True, timeout=self.timeout))
        )

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict]:
        """Every record of a query, following `nextRecordsUrl` (for small result sets)."""
        page = self.query(soql, include_deleted=include_deleted)
        records = list(page.get("records", []))
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.query_more(str(page["nextRecordsUrl"]))
            records.extend(page.get("records", []))
        return records

    def get(self, path: str, params: dict | None = None) -> Any:
        """GET a path under /services/data/vXX.X/ ("sobjects/Account/describe", "limits")."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        """POST JSON to a path under /services/data/vXX.X/."""
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH JSON to a path under /services/data/vXX.X/."""
        return self.request("PATCH", path, body=body)

    def request(
        self, method: str, path: str, *, params: dict | None = None, body: Any = None
    ) -> Any:
        """Any REST call under /services/data/vXX.X/; the parsed JSON (None when empty)."""
        extra: dict[str, Any] = {} if body is None else {"json": body}
        return self._call(
            lambda sf: sf.restful(
                path.lstrip("/"), params=params, method=method, timeout=self.timeout, **extra
            )
        )

    def usage(self) -> dict[str, int | None]:
        """{"daily_used", "daily_max"} from the last Sforce-Limit-Info header seen."""
        return dict(self._usage)

    def _call(self, fn: Callable[[Salesforce], Any]) -> Any:
        retrying = Retrying(
            retry=retry_if_exception(_worth_retrying),
            stop=stop_after_attempt(self.retry_attempts) | stop_after_delay(self.retry_budget),
            wait=_wait,
            reraise=True,
            before_sleep=self._count_retry,
            sleep=self._sleep or time.sleep,
        )
        return retrying(self._attempt, fn)

    def _count_retry(self, state: RetryCallState) -> None:
        self.retries += 1

    def _attempt(self, fn: Callable[[Salesforce], Any]) -> Any:
        sf = self.sf
        try:
            return self._send(sf, fn)
        except SessionExpired:
            if not self.auth.renewable:
                raise
        self._renew(sf)
        try:
            return self._send(self.sf, fn)
        except SessionExpired as exc:
            raise SessionExpired(f"{exc} (again after logging in anew)") from None

    def _send(self, sf: Salesforce, fn: Callable[[Salesforce], Any]) -> Any:
        self._local.headers = None
        with self._gate:
            self.calls += 1
            try:
                return fn(sf)
            except SalesforceExpiredSession as exc:
                raise translate(exc) from None
            except SalesforceError as exc:
                raise translate(exc, self._local.headers) from None
            except requests.Timeout:
                raise _status_error(RetriableCRMError, "Salesforce timed out", 0) from None
            except requests.ConnectionError as exc:
                raise _status_error(
                    RetriableCRMError, f"Salesforce unreachable: {type(exc).__name__}", 0
                ) from None
            except ValueError:
                # requests' JSONDecodeError: a 2xx whose body is not JSON.
                raise _status_error(
                    PermanentCRMError, "Salesforce answered with a body that is not JSON", 0
                ) from None

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # Every response, errors included (simple_salesforce parses the header only on
        # success): the limiter wants the budget even from a REQUEST_LIMIT_EXCEEDED.
        self._local.headers = response.headers
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            usage = Salesforce.parse_api_usage(info).get("api-usage")
            if usage is not None:
                self._usage = {"daily_used": usage.used, "daily_max": usage.total}


class _Session(requests.Session):
    """A requests session whose own CA bundle wins over REQUESTS_CA_BUNDLE: requests lets
    the environment replace `session.verify`, and simple_salesforce never passes `verify`
    per request."""

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if verify is None and isinstance(self.verify, str):
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, DailyLimitExceeded) or not isinstance(exc, RetriableCRMError):
        return False
    return exc.retry_after is None or exc.retry_after <= MAX_IN_CALL_WAIT


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    given = getattr(exc, "retry_after", None)
    if given is not None:
        return float(given)
    return float(min(MAX_IN_CALL_WAIT, 0.1 * 2 ** (state.attempt_number - 1)))
