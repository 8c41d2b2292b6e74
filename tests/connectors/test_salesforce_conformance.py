"""The Salesforce connector passes the conformance suite against the Salesforce emulator,
through the real simple_salesforce over loopback HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.base import CrmEvent, RecordRef
from connectors.salesforce.connector import SalesforceConnector
from connectors.testing import NOW, ConnectorConformance, ConnectorFactory
from tests.connectors.salesforce_seed import (
    OTHER_ORG,
    SalesforceSeeder,
    connector_for,
    emulator_start,
)
from tests.emulators.salesforce_api import SalesforceEmulator


@pytest.fixture
def emulator() -> Iterator[SalesforceEmulator]:
    emu = emulator_start()
    try:
        yield emu
    finally:
        emu.stop()


class TestSalesforceConformance(ConnectorConformance):
    @pytest.fixture
    def events(self) -> list[CrmEvent]:
        # Outbound Messages carry whole records (snapshots, never "created" or a changed
        # field) about records with Salesforce Ids: the suite's events, as Salesforce has them.
        return [
            CrmEvent(
                "ev-1",
                "contact.snapshot",
                RecordRef("contact", "0035g000004SLsfAAG"),
                NOW,
                snapshot={"first_name": "Ada"},
            ),
            CrmEvent(
                "ev-2",
                "deal.snapshot",
                RecordRef("deal", "0065g000004SLsfAAG"),
                NOW + timedelta(seconds=1),
                snapshot={"stage": "closedwon"},
            ),
        ]

    @pytest.fixture
    def make_connector(self, emulator: SalesforceEmulator) -> ConnectorFactory:
        def make(page_size: int | None = None) -> SalesforceConnector:
            if page_size is None:
                return connector_for(emulator)
            return connector_for(emulator, page_size=page_size)

        return make

    @pytest.fixture
    def seed(self, emulator: SalesforceEmulator) -> SalesforceSeeder:
        return SalesforceSeeder(emulator)

    @pytest.fixture
    def other_connector(self, emulator: SalesforceEmulator) -> SalesforceConnector:
        return connector_for(emulator, OTHER_ORG)

    @pytest.fixture
    def other_seed(self, emulator: SalesforceEmulator) -> SalesforceSeeder:
        return SalesforceSeeder(emulator, OTHER_ORG)
