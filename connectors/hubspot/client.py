"""The one HubSpot SDK client of a connection: configured host, retries, timeouts, cached API
objects, the daily budget from response headers, and the one error translation.

Every call goes through `HubSpotClient.call`, which asks the SDK for the raw response
(`_preload_content=False`): the status and headers are ours to read (207 multi-status, the
X-HubSpot-RateLimit-* budget), the body is parsed once as JSON (the SDK's model classes cost
more than they give here), and no SDK or urllib3 exception escapes.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from hubspot import HubSpot
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from connectors.base import CRMError, PermanentCRMError, RecordNotFound, RetriableCRMError

DEFAULT_BASE_URL = "https://api.hubapi.com"
# Small and bounded: the platform's own retry policy (services/run_state.py) takes over after.
SDK_RETRIES = 2
# A Retry-After longer than this is not slept through inside a call: it becomes a
# RetriableCRMError with that retry_after, so a worker is not held for a minute.
MAX_IN_CALL_WAIT = 2.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# An OAuth access token (HubSpot's live ~30 min) is renewed once this share of the lifetime
# its token endpoint declared (`expires_in`) has passed: before any call meets a 401.
REFRESH_AT = 0.8


class BoundedRetry(Retry):
    """urllib3's Retry for every verb (search and batch reads are POSTs), honouring
    Retry-After only up to `MAX_IN_CALL_WAIT`; a longer wait returns the response as is."""

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > MAX_IN_CALL_WAIT:
                # raise_on_status=False: the pool hands this response back to the SDK.
                raise MaxRetryError(_pool, url or "", ResponseError(f"Retry-After {wait}s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_policy(retries: int = SDK_RETRIES) -> Retry:
    """The SDK's retry configuration: 429/5xx, dropped connections and read timeouts."""
    return BoundedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=None,  # every verb: our POSTs are reads, upserts or idempotent writes
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.2,
        backoff_max=MAX_IN_CALL_WAIT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _error(cls: type[CRMError], message: str, status: int, **kw: Any) -> CRMError:
    exc = cls(message, **kw)
    exc.status = status  # type: ignore[attr-defined]  # the limiter reads it (429s)
    return exc


class HubSpotClient:
    """One portal's SDK client. A private-app token never expires. With `refresh_token` +
    `client_id` + `client_secret` (a public app's OAuth), the access token is renewed at
    `REFRESH_AT` of its lifetime (`expires_in`: the given token's seconds left, else learnt
    from the token endpoint), and on a 401 once per call; `access_token` may then be empty
    (renewed before the first call). `monotonic` is the clock those deadlines use."""

    def __init__(
        self,
        *,
        access_token: str = "",
        base_url: str | None = None,
        refresh_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        expires_in: float | None = None,
        timeout: float = 30.0,
        retries: int = SDK_RETRIES,
        ca_cert: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.refresh_token, self.client_id = refresh_token, client_id
        self.client_secret = client_secret
        if not access_token and not self.can_refresh:
            raise ValueError(
                "a HubSpot connection needs an access_token (or a refresh_token, client_id "
                "and client_secret to get one)"
            )
        self.timeout = timeout
        self._lock = threading.Lock()
        # One renewal at a time; the others wait for it and use its token.
        self._token_lock = threading.Lock()
        self._monotonic = monotonic
        self._renew_at: float | None = None  # monotonic deadline; None: unknown (private app)
        if expires_in is not None and self.can_refresh:
            self._renew_at = monotonic() + REFRESH_AT * expires_in
        self.token_refreshes = 0
        # Told each renewed token (access_token, refresh_token, expires_at in epoch seconds),
        # so the service can store it for its other processes instead of each renewing.
        self.on_token: Callable[[dict[str, Any]], None] | None = None
        self._api_clients: dict[str, Any] = {}  # SDK package -> its one ApiClient (one pool)
        self._apis: dict[str, Any] = {}  # "crm.objects.batch_api" -> API object
        self.calls = 0
        # Takes a token of a rate-limit bucket before a call of it (the shared limiter's).
        self.gate: Callable[[str], None] | None = None
        self.last_headers: Mapping[str, str] = {}
        extra = {"ssl_ca_cert": ca_cert} if ca_cert else {}
        self.sdk = HubSpot(
            access_token=access_token or None,
            host=self.base_url,
            retry=retry_policy(retries),
            api_factory=self._api_factory,
            **extra,
        )

    @property
    def access_token(self) -> str:
        """The current access token, renewed first when its renewal is due."""
        self.token_ensure()
        return str(self.sdk.access_token or "")

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id and self.client_secret)

    # -- API objects -----------------------------------------------------------------------

    def _api_factory(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        # One ApiClient (one urllib3 pool) per SDK package, shared by its API classes.
        with self._lock:
            api_client = self._api_clients.get(package.__name__)
            if api_client is None:
                configuration = package.Configuration()
                for key, value in config.items():
                    setattr(configuration, "retries" if key == "retry" else key, value)
                api_client = package.ApiClient(configuration=configuration)
                self._api_clients[package.__name__] = api_client
        return getattr(package, api_name)(api_client=api_client)

    def api(self, path: str) -> Any:
        """The SDK API object at `path` under `client.` ("crm.objects.batch_api"), built once:
        each attribute access of the SDK's discovery would build a new client and pool."""
        found = self._apis.get(path)
        if found is None:
            found = self.sdk
            for part in path.split("."):
                found = getattr(found, part)
            self._apis[path] = found
        return found

    def pools(self) -> int:
        """How many urllib3 pool managers this client holds (one per SDK package used)."""
        return len({id(c.rest_client.pool_manager) for c in self._api_clients.values()})

    # -- calls -----------------------------------------------------------------------------

    def call(self, path: str, method: str, *args: Any, not_found: str = "", **kwargs: Any) -> Any:
        """Call SDK method `method` of API `path`; the parsed JSON body (None when empty).

        A 207 returns its body (per-input errors are the caller's); `not_found` names the
        record a 404 is about (RecordNotFound), else a 404 is a PermanentCRMError.

        Raises:
            RetriableCRMError: 429, 5xx, timeouts, dropped connections.
            PermanentCRMError: other 4xx (401 after one renewal, when renewable).
        """
        self.token_ensure()
        if path.endswith("search_api") and self.gate is not None:
            self.gate("search")  # the shared limiter's search bucket (5/s per portal)
        for attempt in range(2):
            used = self.sdk.access_token
            bound = functools.partial(
                getattr(self.api(path), method),
                *args,
                _preload_content=False,
                _request_timeout=self.timeout,
                **kwargs,
            )
            status, headers, body = self._send(bound)
            if status == 401 and attempt == 0 and self.can_refresh:
                self._token_renew(unless_changed_from=used)
                continue
            return self._checked(status, headers, body, not_found)
        raise AssertionError("unreachable")  # pragma: no cover

    def raw(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        """A request the SDK has no method for (private-app token info), through the cached
        objects ApiClient so it shares the pool, retries and error translation."""
        api_client = self.api("crm.objects.basic_api").api_client
        if auth:
            self.token_ensure()
        status, headers, data = self._send(
            lambda: api_client.call_api(
                path,
                method,
                header_params={"Content-Type": "application/json", "Accept": "application/json"},
                body=body,
                auth_settings=["oauth2"] if auth else [],
                _preload_content=False,
                _request_timeout=self.timeout,
            )
        )
        return self._checked(status, headers, data, "")

    def _send(self, request: Callable[[], Any]) -> tuple[int, Mapping[str, str], Any]:
        self.calls += 1
        try:
            response = request()
        except urllib3.exceptions.HTTPError as exc:
            raise _error(RetriableCRMError, f"HubSpot unreachable: {_reason(exc)}", 0) from None
        except Exception as exc:
            # Each SDK package raises its own ApiException for a non-2xx answer (status 0:
            # an SSL error); anything without a status is not the SDK's to explain.
            status = getattr(exc, "status", None)
            if not isinstance(status, int):
                raise
            if status == 0:
                raise _error(RetriableCRMError, f"HubSpot unreachable: {exc}", 0) from None
            return self._parsed(status, getattr(exc, "headers", None) or {}, exc.body)  # type: ignore[attr-defined]
        return self._parsed(response.status, response.headers, response.data)

    def _parsed(
        self, status: int, raw_headers: Any, raw: Any
    ) -> tuple[int, Mapping[str, str], Any]:
        headers = {str(k).lower(): str(v) for k, v in dict(raw_headers).items()}
        if isinstance(raw, str):
            raw = raw.encode()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"message": raw[:200].decode(errors="replace")}
        if "x-hubspot-ratelimit-daily" in headers:
            self.last_headers = headers
        return status, headers, body

    def _checked(self, status: int, headers: Mapping[str, str], body: Any, not_found: str) -> Any:
        if 200 <= status < 300:
            return body
        message = body.get("message") if isinstance(body, dict) else None
        text = f"HubSpot {status}: {message or 'no message'}"
        category = body.get("category", "") if isinstance(body, dict) else ""
        if category:
            text += f" ({category})"
        if status == 429 or status >= 500:
            return _raise(RetriableCRMError, text, status, retry_after=_retry_after(headers))
        if status == 404 and not_found:
            return _raise(RecordNotFound, f"{not_found} does not exist ({text})", status)
        return _raise(PermanentCRMError, text, status)

    def token_due(self) -> bool:
        """True when an OAuth token should be renewed now (none yet, or past `REFRESH_AT`)."""
        if not self.can_refresh:
            return False
        if not self.sdk.access_token:
            return True
        return self._renew_at is not None and self._monotonic() >= self._renew_at

    def token_ensure(self) -> None:
        """Renew the OAuth token when due; concurrent callers wait for one renewal."""
        if self.token_due():
            with self._token_lock:
                if self.token_due():  # another thread may have renewed while we waited
                    self.token_refresh()

    def _token_renew(self, *, unless_changed_from: str | None) -> None:
        # After a 401: renew, unless another thread already replaced the refused token.
        with self._token_lock:
            if self.sdk.access_token == unless_changed_from:
                self.token_refresh()

    def token_refresh(self) -> None:
        """Renew the OAuth access token with the refresh token (PermanentCRMError if refused);
        the next renewal is scheduled from the answer's `expires_in`."""
        requested = self._monotonic()
        status, headers, body = self._send(
            lambda: self.api("oauth.tokens_api").create(
                grant_type="refresh_token",
                refresh_token=self.refresh_token,
                client_id=self.client_id,
                client_secret=self.client_secret,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
        )
        self._checked(status, headers, body, "")
        if not isinstance(body, dict) or not body.get("access_token"):
            raise _error(
                PermanentCRMError, "HubSpot's token endpoint returned no access_token", status
            )
        token = str(body["access_token"])
        self.sdk.access_token = token
        for api_client in self._api_clients.values():
            api_client.configuration.access_token = token
        if body.get("refresh_token"):
            self.refresh_token = str(body["refresh_token"])
        expires_in = _float(body.get("expires_in"))
        # From when we asked, so the network time counts against the lifetime.
        self._renew_at = None if expires_in is None else requested + REFRESH_AT * expires_in
        self.token_refreshes += 1
        if self.on_token is not None:
            expires_at = None if expires_in is None else round(time.time() + expires_in, 3)
            renewed = {"access_token": token, "expires_at": expires_at}
            self.on_token({**renewed, "refresh_token": self.refresh_token})

    def usage(self) -> dict[str, int | None]:
        """The daily budget the last response declared (X-HubSpot-RateLimit-Daily*)."""
        return {
            "daily_limit": _int(self.last_headers.get("x-hubspot-ratelimit-daily")),
            "daily_remaining": _int(self.last_headers.get("x-hubspot-ratelimit-daily-remaining")),
        }


def _raise(cls: type[CRMError], text: str, status: int, **kw: Any) -> Any:
    raise _error(cls, text, status, **kw)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"
