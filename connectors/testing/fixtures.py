"""The fixtures every conformance group shares, and the capability gate that skips a group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import CrmConnector, CrmEvent, Page, RecordRef
from connectors.testing.seeder import Seeder

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
MAX_PAGES = 200  # a feed that has not ended after this many pages never will

ConnectorFactory = Callable[..., CrmConnector]


def requires(connector: CrmConnector, flag: str, reason: str) -> None:
    """Skip the calling test, saying why, when the connector declares it lacks `flag`."""
    if not getattr(connector.capabilities, flag):
        pytest.skip(f"{type(connector).__name__} declares capabilities.{flag}=False: {reason}")


def read_all(
    connector: CrmConnector, object_type: str, cursor: str | None = None
) -> tuple[list[Page], str]:
    """Pages from `cursor` until the connector says it is caught up, and the last cursor."""
    pages: list[Page] = []
    for _ in range(MAX_PAGES):
        page = connector.read_page(object_type, cursor)
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages, cursor
    raise AssertionError(f"{object_type} feed still has_more after {MAX_PAGES} pages")


def record_ids(pages: list[Page]) -> list[str]:
    """Every record id the pages delivered, in order, repeats kept."""
    return [r.id for page in pages for r in page.records]


class ConformanceFixtures:
    """Subclasses provide `make_connector` (with a `page_size` option), `seed`, and for the
    two-connections group `other_connector` and `other_seed` on a second account."""

    @pytest.fixture
    def make_connector(self) -> ConnectorFactory:
        raise NotImplementedError("provide a `make_connector` fixture in the subclass")

    @pytest.fixture
    def connector(self, make_connector: ConnectorFactory) -> CrmConnector:
        return make_connector()

    @pytest.fixture
    def seed(self) -> Seeder:
        raise NotImplementedError("provide a `seed` fixture in the subclass")

    @pytest.fixture
    def other_connector(self) -> CrmConnector:
        raise NotImplementedError("provide `other_connector`: the same kind, a second account")

    @pytest.fixture
    def other_seed(self) -> Seeder:
        raise NotImplementedError("provide `other_seed`: a Seeder for the second account")

    @pytest.fixture
    def graph(self, seed: Seeder) -> dict[str, Any]:
        """A company with two contacts and one deal linking both."""
        company = seed.seed_company({"name": "Acme Tools", "domain": "acme.test"})
        ada = seed.seed_contact({"first_name": "Ada", "email": "ada@acme.test"}, company_id=company)
        bo = seed.seed_contact({"first_name": "Bo", "email": "bo@acme.test"}, company_id=company)
        deal = seed.seed_deal(
            {"name": "Acme expansion", "amount": 50000.0}, company_id=company, contact_ids=[ada, bo]
        )
        return {"company": company, "ada": ada, "bo": bo, "deal": deal}

    @pytest.fixture
    def events(self) -> list[CrmEvent]:
        return [
            CrmEvent("ev-1", "contact.created", RecordRef("contact", "101"), NOW),
            CrmEvent(
                "ev-2",
                "deal.property_changed",
                RecordRef("deal", "202"),
                NOW + timedelta(seconds=1),
                property="stage",
                value="closedwon",
            ),
        ]
