"""The same three SOP files give the same runs, checks and writes on the local CRM, HubSpot and
Salesforce for the same sample data: one test loads the sample into each (the emulators
seeded from it, on the same clock), runs every sample record of each SOP with the rules
engine on all three, and compares each vendor's outcomes with the local CRM's after mapping
vendor ids back to sample ids.

HubSpot's notes carry no subject and no direction (`hs_note_body` only): the sample's notes
are logged with a title paragraph (as form tools log them), which the connector reads as the
subject, and the rules engine reads a note as the lead's own signal unless it is marked
outbound, on every CRM alike.

The Salesforce org holds the sample as the team's admin would have set it up: multi-currency
(the deals are in five currencies), a Lead Status pick-list with one status per neutral lead
status, an Account Type value for accounts under contract with a competitor, Leads only for
people on no deal (only Contacts have opportunity contact roles), and emails logged with an
"Inbound: " / "Outbound: " subject prefix (Salesforce's Task has no direction). The reader
links a Lead to the Account named by its Company. With that, every run is identical.
"""

from __future__ import annotations

import pytest

from connectors.local.sample import sample_data_load
from salesops.services.connections import connection_local, connections_reset
from tests.e2e.parity import (
    SAMPLE,
    HubSpotIds,
    SalesforceIds,
    assert_both_states,
    hubspot_portal,
    local_norm,
    salesforce_org,
    sample_now,
    sample_runs,
)

pytestmark = pytest.mark.django_db


def test_the_sample_gives_the_same_runs_checks_and_writes_on_all_three_crms(
    library, monkeypatch
) -> None:
    now = sample_now()
    sample_data_load(SAMPLE, now=now)
    connections_reset()
    try:
        local = sample_runs(connection_local(), None, local_norm)
        assert len(local) == 50 + 50 + 27
        assert_both_states(local)
        with hubspot_portal(now, monkeypatch) as (hubspot, emu):
            ids = emu.portal().sample_ids
            on_hubspot = sample_runs(hubspot, ids, HubSpotIds(emu))
        with salesforce_org(now) as (salesforce, emu):
            ids = emu.org().sample_ids
            on_salesforce = sample_runs(salesforce, ids, SalesforceIds(emu))
    finally:
        connections_reset()
    for key, here in local.items():
        assert on_hubspot[key] == here, ("hubspot", *key)
        assert on_salesforce[key] == here, ("salesforce", *key)
