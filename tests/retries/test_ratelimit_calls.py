"""The shared limiter charges what the vendor sees: every HTTP call a connector method makes
(when the connector counts them), and no search token for a backfill's list pages."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import pytest

from connectors.base import Capabilities, CrmConnector, Page
from salesops.models import Connection
from salesops.services.ratelimit import LimitedConnector, limiter_build


class CountingCrm:
    """A connector whose methods make `per_call` HTTP calls each, counted in `calls`."""

    kind = "hubspot"

    def __init__(self, per_call: int = 1, *, counts: bool = True) -> None:
        self.capabilities = Capabilities(batch_size=100, page_size=100, backfill=True)
        self.per_call = per_call
        if counts:
            self.calls = 0

    def _work(self) -> None:
        if hasattr(self, "calls"):
            self.calls += self.per_call

    def get_many(self, object_type: str, ids: Any) -> list:
        self._work()
        return []

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        self._work()
        return Page(records=[], deleted_ids=[], next_cursor="next", has_more=True)


def limited(inner: CountingCrm, rate_limits: dict[str, tuple[int, float]]) -> LimitedConnector:
    slug = f"t-{uuid.uuid4().hex[:12]}"
    connection = Connection.objects.create(kind="hubspot", slug=slug, account_id="1")
    limiter = limiter_build(label=slug, rate_limits=rate_limits, backend="db", max_wait=5)
    # The proxy calls only what a test calls; the rest of the protocol is not needed here.
    return LimitedConnector(cast(CrmConnector, inner), limiter=limiter, connection_id=connection.pk)


def timed(call: Any) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


@pytest.mark.django_db
def test_the_http_calls_past_the_first_are_charged_before_the_next_call():
    crm = limited(CountingCrm(per_call=3), {"burst": (3, 1.5)})  # 3 at once, then 1 per 0.5 s
    assert timed(lambda: crm.get_many("contact", ["1"])) < 0.3  # 1 token taken, 2 owed
    # The next call pays the 2 owed tokens and its own: 2 left in the bucket, so it waits
    # for one more (0.1 s). Without the debt it would have gone at once.
    assert timed(lambda: crm.get_many("contact", ["1"])) >= 0.4
    connection = Connection.objects.get(pk=crm.connection_id)
    assert connection.calls_today == 6  # what the vendor saw, not 2 method calls


@pytest.mark.django_db
def test_a_connector_that_counts_nothing_spends_one_token_per_method():
    crm = limited(CountingCrm(counts=False), {"burst": (3, 1.5)})
    quick = [timed(lambda: crm.get_many("contact", ["1"])) for _ in range(3)]
    assert max(quick) < 0.3
    assert Connection.objects.get(pk=crm.connection_id).calls_today == 3


@pytest.mark.django_db
def test_backfill_pages_past_the_first_spend_no_search_token():
    crm = limited(CountingCrm(), {"burst": (100, 1.0), "search": (1, 1.0)})
    crm.read_page("contact", None, backfill=True)  # the first page may search: 1 token
    pages = [timed(lambda: crm.read_page("contact", "c", backfill=True)) for _ in range(5)]
    assert max(pages) < 0.3, pages
    # A change-feed page searches: it waits for the search bucket (1 per second).
    assert timed(lambda: crm.read_page("contact", "c")) >= 0.7


class SearchingCrm(CountingCrm):
    """A change feed whose pages make `searches` searches each (HubSpot's: up to five),
    taking a search token before each through the limiter's gate."""

    def __init__(self, searches: int) -> None:
        super().__init__(per_call=searches)
        self.searches = searches
        self.take: Any = None

    def limits_gate(self, take: Any) -> None:
        self.take = take

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        for _ in range(self.searches):
            self.take("search")
        return super().read_page(object_type, cursor, backfill=backfill)


@pytest.mark.django_db
def test_every_search_a_page_makes_waits_for_its_own_search_token():
    # Search: 2 at once, then 1 per 0.4 s. A page of three searches takes three tokens as
    # it goes: the third waits; the next page's searches wait for each of theirs.
    crm = limited(SearchingCrm(3), {"burst": (100, 1.0), "search": (2, 0.8)})
    first = timed(lambda: crm.read_page("contact", "c"))
    assert 0.3 <= first < 1.2  # 2 at once, the third after 0.4 s
    assert timed(lambda: crm.read_page("contact", "c")) >= 1.0  # 3 more at 0.4 s each
    # A connector without the gate: the proxy takes one search token per page itself.
    plain = limited(CountingCrm(), {"burst": (100, 1.0), "search": (1, 1.0)})
    plain.read_page("contact", "c")
    assert timed(lambda: plain.read_page("contact", "c")) >= 0.8
