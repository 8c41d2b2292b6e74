"""The HubSpot client: error classification, in-call retries, OAuth renewal, the daily budget,
cached SDK API objects; activities' call counts; check and provision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hubspot import HubSpot

from connectors.base import (
    PermanentCRMError,
    RecordNotFound,
    RecordRef,
    RetriableCRMError,
)
from connectors.hubspot.connector import HubSpotConnector, paced
from tests.connectors.hubspot_seed import (
    HubSpotSeeder,
    connector_for,
    emulator_start,
)
from tests.emulators.framework import Drop, HttpError, RateLimited, ServerError, Slow
from tests.emulators.hubspot_api import HubSpotEmulator

BATCH_READ = "POST /crm/v3/objects/contacts/batch/read"


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = emulator_start(tier="professional")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def ada(emu: HubSpotEmulator) -> str:
    return HubSpotSeeder(emu).seed_contact({"first_name": "Ada"})


def test_a_long_retry_after_surfaces_and_a_short_one_is_slept(
    emu: HubSpotEmulator, ada: str
) -> None:
    connector = connector_for(emu)
    emu.calls.clear()
    emu.fail(RateLimited(30))
    with pytest.raises(RetriableCRMError) as caught:
        connector.get_many("contact", [ada])
    assert caught.value.retry_after == 30 and getattr(caught.value, "status", None) == 429
    assert emu.calls[BATCH_READ] == 1  # not retried inside the call

    emu.fail(RateLimited(1))
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls[BATCH_READ] == 3  # the 429, then its retry after 1 s


def test_server_errors_are_retried_a_bounded_number_of_times(
    emu: HubSpotEmulator, ada: str
) -> None:
    connector = connector_for(emu)
    emu.calls.clear()
    emu.fail(ServerError(502), Drop())
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]  # POST retried too
    assert emu.calls[BATCH_READ] == 3
    emu.fail(ServerError(503), ServerError(500), ServerError(503))
    with pytest.raises(RetriableCRMError, match="503"):
        connector.get_many("contact", [ada])


def test_a_timeout_is_retriable(emu: HubSpotEmulator, ada: str) -> None:
    connector = connector_for(emu, timeout=0.2, retries=0)
    emu.fail(Slow(0.5))
    with pytest.raises(RetriableCRMError, match="unreachable"):
        connector.get_many("contact", [ada])


def test_client_errors_are_permanent_with_hubspots_message(emu: HubSpotEmulator, ada: str) -> None:
    connector = connector_for(emu)
    emu.fail(HttpError(400, "Property values were not valid"))
    with pytest.raises(PermanentCRMError, match="Property values were not valid") as caught:
        connector.get_many("contact", [ada])
    assert not isinstance(caught.value, RetriableCRMError)
    with pytest.raises(RecordNotFound):
        connector.activities(RecordRef("contact", "987654321"))
    bad = HubSpotConnector(access_token="pat-wrong", base_url=emu.base_url, account="111")
    with pytest.raises(PermanentCRMError, match="401"):
        bad.get_many("contact", [ada])


def test_an_expired_oauth_token_is_renewed_once(emu: HubSpotEmulator, ada: str) -> None:
    connector = connector_for(emu, oauth=True)
    emu.expire_token(connector.client.access_token)
    assert [r.id for r in connector.get_many("contact", [ada])] == [ada]
    assert emu.calls["POST /oauth/v1/token"] == 1
    # A private-app token has nothing to renew with: a 401 is permanent at once.
    private = connector_for(emu)
    emu.expire_token(private.client.access_token)
    with pytest.raises(PermanentCRMError, match="EXPIRED_AUTHENTICATION"):
        private.get_many("contact", [ada])


def test_usage_reports_the_daily_budget_from_headers(emu: HubSpotEmulator, ada: str) -> None:
    connector = connector_for(emu)
    connector.get_many("contact", [ada])
    first = connector.usage()
    connector.get_many("contact", [ada])
    second = connector.usage()
    assert first["daily_limit"] == 650_000 == connector.capabilities.rate_limits["daily"][0]
    # One batch read and one associations read per relation (company, deals).
    assert second["daily_remaining"] == (first["daily_remaining"] or 0) - 3
    # Buckets paced so no rolling window passes HubSpot's limit (test_hubspot_pacing.py).
    assert connector.capabilities.rate_limits["burst"] == paced(190, 10.0)
    assert connector.capabilities.rate_limits["search"] == paced(5, 1.0)
    starter = HubSpotConnector(access_token="x", base_url=emu.base_url, tier="starter")
    assert starter.capabilities.rate_limits["burst"] == paced(100, 10.0)


def test_sdk_api_objects_are_built_once(emu: HubSpotEmulator, ada: str) -> None:
    # The SDK's discovery builds a new API client (and connection pool) on every access.
    sdk = HubSpot(access_token="pat-na1-test", host=emu.base_url)
    assert sdk.crm.objects.batch_api.api_client is not sdk.crm.objects.batch_api.api_client

    connector = connector_for(emu)
    for _ in range(5):
        connector.get_many("contact", [ada])
        connector.read_page("contact", None)
        connector.activities(RecordRef("contact", ada))
    client = connector.client
    # objects, associations v4, its schema, properties, pipelines/owners? and oauth: one each.
    assert client.pools() == len(client._api_clients) <= 7
    assert client.api("crm.objects.batch_api") is client.api("crm.objects.batch_api")
    packages = set(client._api_clients)
    connector.get_many("contact", [ada])
    assert set(client._api_clients) == packages


def test_activities_cost_one_association_read_per_type_plus_batch_reads(
    emu: HubSpotEmulator, ada: str
) -> None:
    seed = HubSpotSeeder(emu)
    ref = RecordRef("contact", ada)
    now = datetime(2025, 3, 4, tzinfo=UTC)
    for kind, days in (("call", 1), ("call", 2), ("note", 3), ("email", 4)):
        seed.seed_activity(ref, kind=kind, timestamp=now - timedelta(days=days), subject=kind)
    connector = connector_for(emu)
    before = connector.calls

    timeline = connector.activities(ref)

    assert [a.kind for a in timeline] == ["call", "call", "note", "email"]
    # 5 association reads, one more for the contact's deals (it has none), 3 batch reads.
    assert connector.calls - before == 6 + 3
    assert emu.calls_total("POST /crm/v3/objects/calls/search") == 0
    bare = RecordRef("contact", seed.seed_contact({"first_name": "Quiet"}))
    before = connector.calls
    assert connector.activities(bare) == []
    assert connector.calls - before == 7  # no activity: one read says the record exists


def test_check_reports_portal_scopes_properties_and_values(emu: HubSpotEmulator) -> None:
    emu.stop()
    seeded = emulator_start(seed=True, second_pipeline=True)
    try:
        connector = connector_for(seeded, provision=False)
        report = connector.check()
        assert report.account_id == "111"
        assert any("ai_score" in line.message for line in report.lines)
        provisioned = connector.check(provision=True)
        assert provisioned.blocking == []
        assert any("created contacts: ai_score, ai_tier" in ln.message for ln in provisioned.lines)
        again = connector.check(provision=True)
        assert any("nothing to provision" in ln.message for ln in again.lines)
        assert connector.properties_missing({"contact": ["ai_score", "job_title", "nope"]}) == [
            "contact.nope"
        ]
        stages = connector.vendor_values("deal.stage")
        assert "closedwon" in stages and "Closed Won" in stages  # default ids; numeric: labels
        assert "100006" not in stages
        assert "NEW" in connector.vendor_values("contact.lead_status")
        narrow = ("crm.objects.contacts.read",)
        token = "pat-narrow"
        seeded.tokens[token] = type(seeded.tokens["pat-na1-test"])(111, narrow)
        limited = HubSpotConnector(access_token=token, base_url=seeded.base_url)
        lines = limited.check().blocking
        assert any("missing scopes" in line.message for line in lines)
        assert limited.account == "111"  # read from the token when not configured
    finally:
        seeded.stop()
