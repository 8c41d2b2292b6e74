"""The HubSpot connector passes the conformance suite against the HubSpot emulator, through
the real hubspot-api-client over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.hubspot.connector import HubSpotConnector
from connectors.testing import ConnectorConformance, ConnectorFactory
from tests.connectors.hubspot_seed import (
    OTHER_PORTAL,
    HubSpotSeeder,
    connector_for,
    emulator_start,
)
from tests.emulators.hubspot_api import HubSpotEmulator


@pytest.fixture
def emulator() -> Iterator[HubSpotEmulator]:
    emu = emulator_start()
    try:
        yield emu
    finally:
        emu.stop()


class TestHubSpotConformance(ConnectorConformance):
    @pytest.fixture
    def make_connector(self, emulator: HubSpotEmulator) -> ConnectorFactory:
        # OAuth, so an expired session can be renewed (a private-app token cannot).
        connector_for(emulator)  # provisions the portal once

        def make(page_size: int | None = None) -> HubSpotConnector:
            return connector_for(emulator, oauth=True, provision=False, page_size=page_size)

        return make

    @pytest.fixture
    def seed(self, emulator: HubSpotEmulator) -> HubSpotSeeder:
        return HubSpotSeeder(emulator)

    @pytest.fixture
    def other_connector(self, emulator: HubSpotEmulator) -> HubSpotConnector:
        return connector_for(emulator, OTHER_PORTAL)

    @pytest.fixture
    def other_seed(self, emulator: HubSpotEmulator) -> HubSpotSeeder:
        return HubSpotSeeder(emulator, OTHER_PORTAL)
