"""`HubSpotConnector`: the `CrmConnector` for one HubSpot portal, over `hubspot-api-client`.

Wiring only: `client` (SDK, retries, errors, budget), `properties` (names, values, stages,
owners), `reads` (feed, batch reads), `activities`, `writes` and `checks`; webhooks are
`webhook` (signature v3 and parsing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

from connectors.base import (
    Action,
    ActionResult,
    Activity,
    Capabilities,
    CheckReport,
    CrmEvent,
    CrmRecord,
    Page,
    RecordRef,
    WebhookRequest,
    WebhookResponse,
)
from connectors.hubspot import webhook
from connectors.hubspot.activities import activities_read
from connectors.hubspot.checks import Checker
from connectors.hubspot.client import SDK_RETRIES, HubSpotClient
from connectors.hubspot.feed import FEED_MAX
from connectors.hubspot.properties import NAMES, OBJECTS, Owners, StageMap, ValueMapping
from connectors.hubspot.reads import Reader, sync_omitted
from connectors.hubspot.writes import Writer

# Private-app limits by subscription tier: (calls per 10 s, calls per day). HubSpot's usage
# guidelines; search is 5 requests per second per portal on every tier.
TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 650_000),
    "enterprise": (190, 1_000_000),
}
SEARCH_PER_SECOND = 5


def paced(calls: int, seconds: float) -> tuple[int, float]:
    """The token bucket (size, seconds to refill it) that never lets more than `calls` into
    any rolling `seconds`: HubSpot's windows roll, and a full bucket of `calls` refilling at
    `calls` per `seconds` would let nearly twice that through after an idle spell. The bucket
    holds a twentieth of the limit and refills at what is left of the window, less 1% of slack
    for requests that arrive closer together than they were sent."""
    size = max(1, calls // 20)
    return size, round(seconds * size / (calls - size - calls // 100), 3)


def _flag(name: str, value: bool | str) -> bool:
    """A boolean option, also as text (a credential typed in admin: "true"/"false")."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


# HubSpot's search index trails writes by a few seconds; re-read this much when caught up.
LOOKBACK_SECONDS = 60.0


class HubSpotConnector:
    """One portal. `access_token` (a private app's, or OAuth with `refresh_token`,
    `client_id`, `client_secret` to renew it before it expires: `expires_in` is the given
    token's seconds left, or `expires_at` its expiry in epoch seconds, when known;
    `credentials_changed` is told each renewed token), `client_secret` also signs webhooks;
    `base_url` lets an emulator stand in; `account` is the portal id (read from the token
    when not given); `tier` picks the rate limits; `timeout` bounds each HTTP call;
    `sync_history` (off by default) makes sync pages carry the deal fields read from property
    history (`stage_entered_at`, `close_date_changes`), at about twice the calls per deal."""

    kind = "hubspot"

    def __init__(
        self,
        *,
        access_token: str = "",
        base_url: str | None = None,
        client_secret: str = "",
        refresh_token: str | None = None,
        client_id: str | None = None,
        expires_in: float | None = None,
        expires_at: float | str | None = None,
        app_id: str = "",
        account: str | None = None,
        mapping: ValueMapping | None = None,
        tier: str = "professional",
        timeout: float = 30.0,
        retries: int = SDK_RETRIES,
        page_size: int | None = None,
        lookback_seconds: float = LOOKBACK_SECONDS,
        ca_cert: str | None = None,
        clock: Callable[[], datetime] | None = None,
        sync_history: bool | str = False,
    ) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown HubSpot tier {tier!r}; one of {', '.join(TIERS)}")
        history = _flag("sync_history", sync_history)
        if expires_in is None and expires_at not in (None, ""):
            expires_in = max(0.0, float(str(expires_at)) - time.time())
        self.client = HubSpotClient(
            access_token=access_token,
            base_url=base_url,
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret or None,
            expires_in=expires_in,
            timeout=timeout,
            retries=retries,
            ca_cert=ca_cert,
        )
        self.client_secret, self.app_id = client_secret, str(app_id or "")
        self.mapping: ValueMapping = mapping or {}
        self.clock = clock or (lambda: datetime.now(UTC))
        self._account = str(account or "")
        self.stages = StageMap(self.client, self.mapping)
        self.owners = Owners(self.client)
        self.reader = Reader(
            self.client,
            self.stages,
            account=self._account,
            mapping=self.mapping,
            page_size=page_size or FEED_MAX,
            lookback_seconds=lookback_seconds,
            sync_history=history,
        )
        self.writer = Writer(
            self.client,
            self.reader,
            self.stages,
            self.owners,
            mapping=self.mapping,
            clock=self.clock,
        )
        self.checker = Checker(self.client, self.stages, self.mapping)
        burst, daily = TIERS[tier]
        self.capabilities = Capabilities(
            batch_size=100,
            page_size=page_size or FEED_MAX,
            search_limit=10_000,
            backfill=True,
            deletes=True,
            snapshots=False,
            transport=True,
            webhook_timestamps=True,
            rate_limits={
                "burst": paced(burst, 10.0),  # 190 per 10 s: 9 at once, 18/s
                "search": paced(SEARCH_PER_SECOND, 1.0),  # 1 at a time, 4/s
                "daily": (daily, 86_400.0),
            },
            sync_omits=sync_omitted(history),
        )

    def credentials_listen(self, listener: Callable[[dict[str, object]], None]) -> None:
        """Tell `listener` each renewed OAuth token (access_token, refresh_token,
        expires_at), so other processes can use it instead of renewing their own."""
        self.client.on_token = listener

    @property
    def account(self) -> str:
        """The portal id: the configured one, else the token's (one call, once)."""
        if not self._account:
            self._account = str(self.checker.identity()["portal"])
            self.reader.account = self._account
        return self._account

    @property
    def calls(self) -> int:
        """HTTP calls this connector made (retries inside the SDK not counted)."""
        return self.client.calls

    def limits_gate(self, take: Callable[[str], None]) -> None:
        """Have `take(bucket)` called before each search: a change-feed page makes up to
        five, and the shared limiter's search bucket paces them one by one."""
        self.client.gate = take

    # -- reads -----------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        """The next page of the change feed, or of a backfill (see `reads`)."""
        self.reader.account = self.account
        return self.reader.read_page(object_type, cursor, backfill=backfill)

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations (batch reads of 100); missing ids left out."""
        return self.reader.get_many(object_type, ids)

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        """Newest first: one associations read per activity type, then batch reads."""
        return activities_read(self.reader, ref, limit)

    # -- writes ----------------------------------------------------------------------------

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Notes, tasks (exactly once by salesops_key) and property updates (see `writes`)."""
        return self.writer.apply(actions)

    # -- health ----------------------------------------------------------------------------

    def check(self, *, provision: bool = False) -> CheckReport:
        """Identity, scopes, our properties, unmapped values and the daily budget."""
        lines = self.checker.provision() if provision else []
        lines = self.checker.lines(account=self._account) + lines
        ident = self.checker.identity()
        return CheckReport(account_id=self.account, user=ident["user"], lines=lines)

    def properties_missing(self, needed: Mapping[str, Collection[str]]) -> list[str]:
        """The "object.property" names of `needed` the portal lacks."""
        return self.checker.properties_missing(needed)

    def vendor_values(self, field: str) -> list[str]:
        """The portal's own values of a vocabulary field (stages, pick-list options)."""
        return self.checker.vendor_values(field)

    def usage(self) -> Mapping[str, int | None]:
        """The daily budget from the last response's X-HubSpot-RateLimit-Daily* headers."""
        return self.client.usage()

    # -- webhooks --------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True for a v3-signed delivery within the 5-minute window."""
        return self.webhook_refusal(request) is None

    def webhook_refusal(self, request: WebhookRequest) -> str | None:
        """Why `verify_webhook` refuses the request, or None."""
        return webhook.webhook_refusal(
            request.method,
            request.url,
            request.headers,
            request.body,
            self.client_secret,
            now=time.time(),
        )

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        """The delivery's events as neutral events (ValueError on a bad body)."""
        names = {ot: {v: k for k, v in NAMES[ot].items()} for ot in OBJECTS}
        return webhook.webhook_events_parse(
            request.body,
            portal_id=self._account,
            property_names=names,
            mapping=self.mapping,
            app_id=self.app_id,
            stage_to_neutral=self.stages.to_neutral,
        )

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        """HubSpot needs only a quick 2xx; a refusal says why."""
        return webhook.webhook_response(events, error)
