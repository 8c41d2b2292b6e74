"""OAuth for public apps: the access token is renewed before it expires (at 80% of the
lifetime the token endpoint declared), once across threads, and still on a 401 when its
lifetime is unknown; a refresh token alone is enough to start."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from connectors.base import PermanentCRMError
from connectors.hubspot.client import REFRESH_AT
from connectors.hubspot.connector import HubSpotConnector
from tests.connectors.hubspot_seed import PORTAL, SCOPES, HubSpotSeeder, emulator_start
from tests.emulators.hubspot_api import HubSpotEmulator

TOKEN_POST = "POST /oauth/v1/token"
LIFETIME = 1800  # HubSpot's: 30 minutes


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def ada(emu: HubSpotEmulator) -> str:
    return HubSpotSeeder(emu).seed_contact({"first_name": "Ada"})


def oauth_connector(
    emu: HubSpotEmulator, *, with_access: bool = True, expires_in: float | None = LIFETIME
) -> HubSpotConnector:
    """A public app's connector whose deadlines run on the emulator's fake clock."""
    access, refresh = emu.oauth_token(PORTAL, lifetime=LIFETIME, scopes=SCOPES)
    connector = HubSpotConnector(
        access_token=access if with_access else "",
        expires_in=expires_in if with_access else None,
        refresh_token=refresh,
        client_id="client-id",
        client_secret=emu.client_secret,
        base_url=emu.base_url,
        account=str(PORTAL),
    )
    connector.client._monotonic = emu.clock.time
    if with_access and expires_in is not None:
        connector.client._renew_at = emu.clock.time() + REFRESH_AT * expires_in
    return connector


def refused(emu: HubSpotEmulator) -> list[str]:
    """Requests the emulator answered 401 (an expired or unknown token)."""
    return [r.endpoint for r in emu.requests if r.status == 401]


def test_the_token_is_renewed_before_it_expires_not_after_a_401(
    emu: HubSpotEmulator, ada: str
) -> None:
    connector = oauth_connector(emu)
    first = connector.client.access_token
    emu.clock.advance(LIFETIME * 0.5)
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls[TOKEN_POST] == 0  # half-way: still the first token

    emu.clock.advance(LIFETIME * 0.35)  # 85% of its life: due, though HubSpot still takes it
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls[TOKEN_POST] == 1 and connector.client.access_token != first
    # The renewed token's own expires_in schedules the next renewal: 85% of it later, the
    # first token is long dead, yet no call ever met a 401.
    emu.clock.advance(LIFETIME * 0.85)
    connector.get_many("contact", [ada])
    assert emu.calls[TOKEN_POST] == 2 and refused(emu) == []
    assert emu.tokens[first].expires_at <= emu.clock.now()


def test_one_renewal_serves_every_thread_that_finds_it_due(emu: HubSpotEmulator, ada: str) -> None:
    connector = oauth_connector(emu)
    connector.get_many("contact", [ada])  # the API objects exist before the race
    emu.clock.advance(LIFETIME * 0.9)
    start, errors = threading.Barrier(8), []

    def read() -> None:
        start.wait()
        try:
            assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
        except Exception as exc:  # reported below; a thread's assert would vanish
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert emu.calls[TOKEN_POST] == 1 and refused(emu) == []


def test_a_token_of_unknown_lifetime_is_renewed_on_its_401_then_ahead_of_time(
    emu: HubSpotEmulator, ada: str
) -> None:
    connector = oauth_connector(emu, expires_in=None)
    emu.clock.advance(LIFETIME + 1)  # the given token expired; we could not know when
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls[TOKEN_POST] == 1 and len(refused(emu)) == 1
    emu.clock.advance(LIFETIME * 0.85)  # the renewal's expires_in is known now
    connector.get_many("contact", [ada])
    assert emu.calls[TOKEN_POST] == 2 and len(refused(emu)) == 1


def test_a_refresh_token_alone_starts_a_connection(emu: HubSpotEmulator, ada: str) -> None:
    connector = oauth_connector(emu, with_access=False)
    assert connector.account == str(PORTAL)  # the token introspection got a fresh token first
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls[TOKEN_POST] == 1 and refused(emu) == []


def test_a_refused_renewal_is_permanent_and_names_hubspots_reason(
    emu: HubSpotEmulator, ada: str
) -> None:
    connector = oauth_connector(emu)
    connector.client.refresh_token = "refresh-revoked"
    emu.clock.advance(LIFETIME * 0.9)
    with pytest.raises(PermanentCRMError, match="BAD_REFRESH_TOKEN"):
        connector.get_many("contact", [ada])


def test_without_a_refresh_token_nothing_is_renewed_and_nothing_is_needed(
    emu: HubSpotEmulator,
) -> None:
    with pytest.raises(ValueError, match="needs an access_token"):
        HubSpotConnector(access_token="", base_url=emu.base_url)
    private = HubSpotConnector(access_token="pat-na1-test", base_url=emu.base_url, expires_in=60)
    assert not private.client.token_due()
    emu.clock.advance(3600)
    assert not private.client.token_due()
