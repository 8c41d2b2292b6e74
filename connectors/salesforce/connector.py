"""`SalesforceConnector`: the `CrmConnector` for one Salesforce org, over simple_salesforce.

Wiring only: `auth` (JWT bearer, refresh token or a given token), `client` (session renewal,
retries, errors, budget), `fields` (names and values), `reads` (sync feed, get_many),
`activities`, `writes` and `checks`; webhooks are Outbound Messages (`outbound`), refused
unless the endpoint URL carries the connection's secret as its last path segment.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

from connectors.base import (
    Action,
    ActionResult,
    Activity,
    Capabilities,
    CheckReport,
    CRMError,
    CrmEvent,
    CrmRecord,
    Page,
    RecordRef,
    WebhookRequest,
    WebhookResponse,
)
from connectors.salesforce import outbound
from connectors.salesforce.activities import activities_read
from connectors.salesforce.auth import DEFAULT_LOGIN_URL, Authenticator
from connectors.salesforce.checks import Checker
from connectors.salesforce.client import DEFAULT_API_VERSION, SalesforceClient
from connectors.salesforce.reads import SYNC_OMITS, Reader
from connectors.salesforce.writes import BATCH_MAX, Writer

PAGE_MAX = 2000  # a SOQL page holds at most 2,000 records
# Enterprise Edition's base daily request allowance (the org's real one is in `limits`).
DAILY_LIMIT = 100_000
# Salesforce has no per-second limit on REST calls, only the daily budget and concurrency
# (the client's semaphore): a generous bucket keeps a runaway loop from draining the day.
BURST = (50, 1.0)


class SalesforceConnector:
    """One org. Credentials: `consumer_key` + `username` + `private_key` (JWT bearer), or
    `refresh_token` + `client_id` + `client_secret`, or `instance_url` + `access_token` (no
    renewal); `login_url` is the login host (production, test, My Domain, an emulator);
    `account` is the 18-character org id (learnt from the session when not given);
    `outbound_secret` authenticates Outbound Messages; `ca_cert` a CA bundle for TLS."""

    kind = "salesforce"

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
        api_version: str = DEFAULT_API_VERSION,
        account: str | None = None,
        mapping: dict | None = None,
        outbound_secret: str = "",
        timeout: float = 30.0,
        ca_cert: str | None = None,
        page_size: int = PAGE_MAX,
        lookback_seconds: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        daily_limit: int = DAILY_LIMIT,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.api_version = str(api_version)
        self.auth = Authenticator(
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
            clock=self.clock,
        )
        self.client = SalesforceClient(
            self.auth, api_version=self.api_version, timeout=timeout, ca_cert=ca_cert
        )
        self.mapping: dict = mapping or {}
        self.outbound_secret = outbound_secret
        self._account = str(account or "")
        page_size = max(1, min(int(page_size), PAGE_MAX))
        self.reader = Reader(
            self.client,
            account=self._account,
            mapping=self.mapping,
            page_size=page_size,
            lookback_seconds=lookback_seconds,
        )
        self.writer = Writer(self.client, mapping=self.mapping, clock=self.clock)
        self.checker = Checker(self.client, self.mapping)
        self.capabilities = Capabilities(
            batch_size=BATCH_MAX,
            page_size=page_size,
            backfill=False,
            deletes=True,
            snapshots=True,
            transport=True,
            webhook_timestamps=False,  # outbound messages carry no signature or time
            rate_limits={"burst": BURST, "daily": (int(daily_limit), 86_400.0)},
            sync_omits=SYNC_OMITS,
        )

    @property
    def account(self) -> str:
        """The org id: the configured one, else the session's (one login, once)."""
        if not self._account:
            self._account = self.client.org_id
        return self._account

    @property
    def calls(self) -> int:
        """REST calls this connector made (each retry counts; logins do not)."""
        return self.client.calls

    # -- reads -----------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        """The next page of the SystemModstamp change feed (see `reads`)."""
        return self.reader.read_page(object_type, cursor, backfill=backfill)

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations; missing ids left out."""
        return self.reader.get_many(object_type, ids)

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        """The record's Tasks and Events, newest first."""
        return activities_read(self.reader, ref, limit)

    # -- writes ----------------------------------------------------------------------------

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Notes and tasks (exactly once by Salesops_Key__c) and field updates."""
        return self.writer.apply(actions)

    # -- health ----------------------------------------------------------------------------

    def check(self, *, provision: bool = False) -> CheckReport:
        """Identity, our custom fields, pick-list values and the daily budget; with
        `provision`, what an admin must create (nothing is created from here)."""
        lines = self.checker.lines(account=self._account, api_version=self.api_version)
        if provision:
            lines += self.checker.provision()
        ident = self.checker.identity()
        user = ident.get("username") or ident.get("user_id") or ""
        return CheckReport(account_id=self.account, user=user, lines=lines)

    def properties_missing(self, needed: Mapping[str, Collection[str]]) -> list[str]:
        """The "object.property" names of `needed` the org lacks."""
        return self.checker.properties_missing(needed)

    def vendor_values(self, field: str) -> list[str]:
        """The org's pick-list values of a vocabulary field (neutral where mapped)."""
        return self.checker.vendor_values(field)

    def usage(self) -> Mapping[str, int | None]:
        """The daily budget from the last Sforce-Limit-Info header, in the platform's terms
        (`daily_limit`, `daily_remaining`: at 0 the shared limiter calls no more today)."""
        seen = self.client.usage()
        used, most = seen.get("daily_used"), seen.get("daily_max")
        left = None if used is None or most is None else max(most - used, 0)
        return {**seen, "daily_limit": most, "daily_remaining": left}

    # -- webhooks (Outbound Messages) ------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True when the URL carries the secret and the message is for this org."""
        return self.webhook_refusal(request) is None

    def webhook_refusal(self, request: WebhookRequest) -> str | None:
        """Why `verify_webhook` refuses the request, or None."""
        return outbound.outbound_refusal(
            request.body,
            org_id=self._account,
            secret_expected=self.outbound_secret,
            secret_given=outbound.outbound_secret_given(request.url),
        )

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        """The message's notifications as snapshot events (ValueError on a bad body)."""
        return outbound.outbound_events_parse(
            request.body,
            org_id=self._account,
            mapping=self.mapping,
            own_user_id=self._own_user_id(),
            now=self.clock,
        )

    def _own_user_id(self) -> str:
        # Our integration user marks our own write-back; without a session we cannot tell,
        # and a delivery is better stored (the router may start a run) than refused.
        try:
            return self.client.user_id
        except CRMError:
            return ""

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        """The SOAP Ack Salesforce waits for, or a fault saying why."""
        return outbound.outbound_response(events, error)
