"""Schedule selectors over the deal fields HubSpot computes from property history pick the same
deals as on the local CRM, once the connection's `sync_history` is on (the documented path
for such selectors; off, HubSpot's sync pages leave these fields out and connection_check
warns). The run-by-run comparison of the three CRMs is tests/e2e/test_crm_parity.py."""

from __future__ import annotations

import pytest

from connectors.local.sample import sample_data_load
from salesops.services.batches import records_select, sop_get
from salesops.services.connections import (
    connection_credentials_set,
    connection_local,
    connections_reset,
)
from tests.e2e.parity import SAMPLE, hubspot_portal, sample_now

pytestmark = pytest.mark.django_db


def test_schedule_selectors_on_history_fields_pick_the_same_deals(library, monkeypatch) -> None:
    now = sample_now()
    sample_data_load(SAMPLE, now=now)
    connections_reset()
    with hubspot_portal(now, monkeypatch) as (hubspot, emu):
        # The sync feed (a backfill into each connection's mirror) then carries
        # stage_entered_at and close_date_changes, so a schedule's `where` on them applies.
        credentials = {
            "access_token": "pat-na1-test",
            "client_secret": emu.client_secret,
            "base_url": emu.base_url,
            "sync_history": True,
        }
        connection_credentials_set(hubspot, credentials)
        connections_reset()
        sop = sop_get(name="deal-review")
        ids = {v: s for (t, s), v in emu.portal().sample_ids.items() if t == "deal"}
        local = connection_local()
        for where in (
            "has(record.stage_entered_at) && days_between(record.stage_entered_at, now) > 14",
            "record.close_date_changes >= 2",
        ):
            here = records_select(sop=sop, where=where, connection=local)
            there = records_select(sop=sop, where=where, connection=hubspot)
            assert here and here == sorted(ids[i] for i in there), where
    connections_reset()
