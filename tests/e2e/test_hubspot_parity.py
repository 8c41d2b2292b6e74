"""The three SOPs give the same results on the local CRM and on HubSpot for the same sample
data: the sample loaded into both (the HubSpot emulator seeded from it), every sample record
run on both connections with the rules engine, and per record the run state, the verification
checks and the writes compared after mapping HubSpot ids back to sample ids.

Notes are where the two differ in shape: HubSpot's carry no subject and no direction
(`hs_note_body` only). The sample's notes are logged with a title paragraph (as form tools
log them), which the connector reads as the subject, and the rules engine reads a note as
the lead's own signal unless it is marked outbound, on every CRM alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.hubspot.connector import TIERS
from connectors.local import models as crm
from connectors.local.sample import sample_data_load
from salesops.models import Connection, Run
from salesops.services.batches import records_select, runs_execute_inline, runs_start, sop_get
from salesops.services.connection_checks import connection_check
from salesops.services.connections import (
    connection_credentials_set,
    connection_local,
    connections_reset,
)
from tests.conftest import ROOT
from tests.emulators.framework import FakeClock
from tests.emulators.hubspot_api import HubSpotEmulator

pytestmark = pytest.mark.django_db
SAMPLE = ROOT / "sop_library" / "sample_data" / "crm.json"
SOPS = {"lead-qualification": "contact", "follow-up": "contact", "deal-review": "deal"}


@pytest.fixture
def both(library, monkeypatch) -> Iterator[tuple[Connection, Connection, HubSpotEmulator]]:
    """The local CRM and a provisioned HubSpot connection holding the same sample data."""
    # 254 runs of ~15 calls: the shared limiter would pace them at Professional's 19 calls/s
    # for three minutes. Pacing is tested elsewhere; here only the results matter.
    monkeypatch.setitem(TIERS, "professional", (100_000, 650_000))
    now = datetime.now(UTC).replace(microsecond=0)  # relative sample times resolve alike
    sample_data_load(SAMPLE, now=now)
    emu = HubSpotEmulator(clock=FakeClock(now), seed=True).start()
    connections_reset()
    hubspot = Connection.objects.create(kind="hubspot", slug="hubspot", account_id="111")
    connection_credentials_set(
        hubspot,
        {
            "access_token": "pat-na1-test",
            "client_secret": emu.client_secret,
            "base_url": emu.base_url,
        },
    )
    report = connection_check(hubspot, provision=True)
    assert not [line for line in report.lines if line.blocking], report.lines
    try:
        yield connection_local(), hubspot, emu
    finally:
        connections_reset()
        emu.stop()


class Normaliser:
    """HubSpot ids (records, activities, owners) back to sample ids; run URLs without pks."""

    def __init__(self, emu: HubSpotEmulator) -> None:
        store = emu.portal()
        self.sample = {hs_id: sample_id for (_, sample_id), hs_id in store.sample_ids.items()}
        self.owners = {
            str(o["id"]): crm.Owner.objects.get(email=o["email"]).pk for o in store.owners
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value
        text = re.sub(r"/run/\d+/", "/run/<pk>/", value)
        text = re.sub(
            r"\b(?:call|email|meeting|note|task)-(\d+)",
            lambda m: self.sample.get(m[1], m[0]),
            text,
        )
        text = re.sub(
            r"\b(contacts|companies|deals)\.(\d+)",
            lambda m: f"{m[1]}.{self.sample.get(m[2], m[2])}",
            text,
        )
        return self.owners.get(text, self.sample.get(text, text))


def outcome(run: Run, norm: Any) -> dict[str, Any]:
    """What is compared: state, checks (name, status) and writes (kind, payload)."""
    checks = [(s.name, s.status) for s in run.steps.filter(kind="check").order_by("seq")]
    writes = [(w.kind, norm(w.payload)) for w in run.writes.order_by("seq")]
    return {"state": run.state, "checks": checks, "writes": writes}


def local_norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: local_norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [local_norm(v) for v in value]
    return re.sub(r"/run/\d+/", "/run/<pk>/", value) if isinstance(value, str) else value


def run_both(
    local: Connection, hubspot: Connection, emu: HubSpotEmulator
) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(sop, sample id) -> (local outcome, HubSpot outcome), every sample record of each SOP."""
    ids = emu.portal().sample_ids
    norm = Normaliser(emu)
    out = {}
    for name, object_type in SOPS.items():
        sop = sop_get(name=name)
        sample = sorted(s for (t, s) in ids if t == object_type)
        ran = {}
        for connection, record_ids in (
            (local, sample),
            (hubspot, [ids[(object_type, s)] for s in sample]),
        ):
            runs, _ = runs_start(
                sop=sop, record_ids=record_ids, batch="parity", enqueue=False, connection=connection
            )
            ran[connection.pk] = {r.record_id: r for r in runs_execute_inline(runs)}
        for s in sample:
            out[(name, s)] = (
                outcome(ran[local.pk][s], local_norm),
                outcome(ran[hubspot.pk][ids[(object_type, s)]], norm),
            )
    return out


def test_the_three_sops_give_the_same_runs_checks_and_writes_on_both_crms(both) -> None:
    local, hubspot, emu = both
    results = run_both(local, hubspot, emu)
    assert len(results) == 50 + 50 + 27
    states = {a["state"] for a, _ in results.values()}
    assert {Run.State.WRITTEN, Run.State.ESCALATED} <= states  # the comparison covers both

    for (sop, sample_id), (here, there) in results.items():
        assert here == there, f"{sop} {sample_id}"


def test_schedule_selectors_on_history_fields_pick_the_same_deals(both) -> None:
    # With sync_history on (the documented path for such selectors; off, HubSpot's sync pages
    # leave these fields out and connection_check warns), the sync feed (a backfill into each
    # connection's mirror) carries stage_entered_at and close_date_changes, so a schedule's
    # `where` on them selects the same records.
    local, hubspot, emu = both
    connection_credentials_set(
        hubspot,
        {
            "access_token": "pat-na1-test",
            "client_secret": emu.client_secret,
            "base_url": emu.base_url,
            "sync_history": True,
        },
    )
    connections_reset()
    sop = sop_get(name="deal-review")
    ids = {v: s for (t, s), v in emu.portal().sample_ids.items() if t == "deal"}
    for where in (
        "has(record.stage_entered_at) && days_between(record.stage_entered_at, now) > 14",
        "record.close_date_changes >= 2",
    ):
        here = records_select(sop=sop, where=where, connection=local)
        there = sorted(ids[i] for i in records_select(sop=sop, where=where, connection=hubspot))
        assert here and here == there, where
