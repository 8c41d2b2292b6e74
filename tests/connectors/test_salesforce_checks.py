"""check() and its hooks over HTTPS against the emulator: identity, the custom fields
salesops writes (present, and missing on an unprovisioned org), provision's admin steps,
pick-list values, the daily budget; and the connector's wiring."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import CrmConnector
from connectors.registry import connector_get
from connectors.salesforce.connector import SalesforceConnector
from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator

BARE_ORG = "00D5g000009BareEAA"


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def connector_for(emu: SalesforceEmulator, **kw: object) -> SalesforceConnector:
    options: dict[str, object] = {
        "login_url": emu.base_url,
        "consumer_key": emu.consumer_key,
        "username": emu.username,
        "private_key": emu.private_key_pem,
        "ca_cert": emu.ca_path,
        **kw,
    }
    return SalesforceConnector(**options)  # type: ignore[arg-type]


def test_a_provisioned_org_checks_clean(emu: SalesforceEmulator) -> None:
    connector = connector_for(emu)
    report = connector.check()
    assert report.account_id == ORG_ID and report.user == emu.username
    by_topic = {line.topic: line for line in report.lines}
    assert ORG_ID in by_topic["identity"].message and "v61.0" in by_topic["identity"].message
    assert by_topic["properties"].status == "ok"
    assert by_topic["rate_limit"].status == "ok"
    assert not report.blocking
    assert connector.properties_missing({"contact": {"ai_score"}, "deal": {"ai_health"}}) == []


def test_an_unprovisioned_org_lacks_the_key_and_provision_says_what_an_admin_creates(
    emu: SalesforceEmulator,
) -> None:
    org = emu.org_add(BARE_ORG, "bare@example.com", provisioned=False)
    connector = connector_for(emu, username=org.username)
    report = connector.check(provision=True)
    assert report.account_id == BARE_ORG
    blocking = [line.message for line in report.blocking]
    assert any("Task lacks Salesops_Key__c" in m for m in blocking)
    fixes = [line.fix for line in report.lines if line.topic == "provision"]
    assert any("Task.Salesops_Key__c: Text(255), External ID, Unique" in f for f in fixes)
    assert any("Lead.ai_score__c: Number(18, 0)" in f for f in fixes)
    assert any("Opportunity.ai_health__c: Text(255)" in f for f in fixes)
    missing = connector.properties_missing(
        {"contact": {"ai_score", "email"}, "deal": {"ai_health"}}
    )
    assert missing == ["contact.ai_score", "deal.ai_health"]


def test_the_connection_must_be_for_the_org_the_session_reaches(emu: SalesforceEmulator) -> None:
    report = connector_for(emu, account=BARE_ORG).check()
    assert [line.topic for line in report.blocking] == ["identity"]


def test_a_low_daily_budget_is_a_warning(emu: SalesforceEmulator) -> None:
    emu.api_usage_set(96_000, 100_000)
    connector = connector_for(emu)
    [budget] = [line for line in connector.check().lines if line.topic == "rate_limit"]
    assert budget.status == "warning" and "under 10%" in budget.message
    usage = connector.usage()
    assert usage["daily_max"] == 100_000 and (usage["daily_used"] or 0) > 96_000


def test_vendor_values_are_neutral_where_mapped_and_raw_where_not(
    emu: SalesforceEmulator,
) -> None:
    connector = connector_for(emu)
    stages = connector.vendor_values("deal.stage")
    assert "closedwon" in stages and "appointmentscheduled" in stages
    assert "Closed Won" not in stages  # mapped by the Salesforce defaults
    statuses = connector.vendor_values("contact.lead_status")
    assert statuses and all(s.isupper() or " " in s for s in statuses)
    assert connector.vendor_values("contact.lifecycle_stage") == []


def test_the_registry_builds_it_and_it_declares_salesforces_capabilities(
    emu: SalesforceEmulator,
) -> None:
    connector = connector_get(
        "salesforce",
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=emu.username,
        private_key=emu.private_key_pem,
        ca_cert=emu.ca_path,
    )
    assert isinstance(connector, CrmConnector) and connector.kind == "salesforce"
    caps = connector.capabilities
    assert (caps.batch_size, caps.page_size, caps.snapshots, caps.webhook_timestamps) == (
        200,
        2000,
        True,
        False,
    )
    assert caps.rate_limits["daily"] == (100_000, 86_400.0)
    assert connector.account == ORG_ID  # type: ignore[attr-defined]
