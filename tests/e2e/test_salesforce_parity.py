"""The three SOPs give the same results on the local CRM and on Salesforce for the same sample:
the sample loaded into both (the Salesforce emulator seeded from it), every sample record run
on both connections with the rules engine, and per record the run state, the verification
checks and the writes compared after mapping Salesforce ids back to sample ids (users by email).

The emulated org holds the sample as the team's admin would have set it up: multi-currency
(the deals are in five currencies), a Lead Status pick-list with one status per neutral lead
status, an Account Type value for accounts under contract with a competitor, Leads only for
people on no deal (only Contacts have opportunity contact roles), and emails logged with an
"Inbound: " / "Outbound: " subject prefix (Salesforce's Task has no direction). The reader
links a Lead to the Account named by its Company. With that, every run is identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.local import models as crm
from connectors.local.sample import sample_data_load
from salesops.models import Connection, Run
from salesops.services.batches import runs_execute_inline, runs_start, sop_get
from salesops.services.connection_checks import connection_check
from salesops.services.connections import (
    connection_credentials_set,
    connection_local,
    connections_reset,
)
from tests.e2e.test_hubspot_parity import SAMPLE, SOPS, local_norm, outcome
from tests.emulators.framework import FakeClock
from tests.emulators.salesforce_api import SalesforceEmulator

pytestmark = pytest.mark.django_db
SF_ID = re.compile(r"\b[a-zA-Z0-9]{18}\b")


@pytest.fixture
def sf(library) -> Iterator[tuple[Connection, Connection, SalesforceEmulator]]:
    """The local CRM and a provisioned Salesforce connection holding the same sample data."""
    now = datetime.now(UTC).replace(microsecond=0)  # relative sample times resolve alike
    sample_data_load(SAMPLE, now=now)
    emu = SalesforceEmulator(clock=FakeClock(now), seed=True).start()
    connections_reset()
    org = emu.org()
    salesforce = Connection.objects.create(
        kind="salesforce", slug="salesforce", account_id=org.org_id
    )
    connection_credentials_set(
        salesforce,
        {
            "consumer_key": emu.consumer_key,
            "username": emu.username,
            "private_key": emu.private_key_pem,
            "login_url": emu.base_url,
            "ca_cert": emu.ca_path,
            "outbound_secret": "outbound-secret-parity",
        },
    )
    report = connection_check(salesforce, provision=True)
    assert not [line for line in report.lines if line.blocking], report.lines
    try:
        yield connection_local(), salesforce, emu
    finally:
        connections_reset()
        emu.stop()


class SfNormaliser:
    """Salesforce ids (records, activities, users) back to sample ids; run URLs without pks."""

    def __init__(self, emu: SalesforceEmulator) -> None:
        org = emu.org()
        self.sample = {sf_id: sample_id for (_, sample_id), sf_id in org.sample_ids.items()}
        emails = {o.email: o.pk for o in crm.Owner.objects.all()}
        for user in org.rows("User"):
            if user.get("Email") in emails:
                self.sample[user["Id"]] = emails[user["Email"]]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value
        if value in self.sample:
            return self.sample[value]
        text = re.sub(r"/run/\d+/", "/run/<pk>/", value)
        return SF_ID.sub(lambda m: str(self.sample.get(m[0], m[0])), text)


def run_sf(
    local: Connection, salesforce: Connection, emu: SalesforceEmulator
) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(sop, sample id) -> (local outcome, Salesforce outcome), every sample record of each SOP."""
    ids = emu.org().sample_ids
    norm = SfNormaliser(emu)
    out = {}
    for name, object_type in SOPS.items():
        sop = sop_get(name=name)
        sample = sorted(s for (t, s) in ids if t == object_type)
        ran = {}
        for connection, record_ids in (
            (local, sample),
            (salesforce, [ids[(object_type, s)] for s in sample]),
        ):
            runs, _ = runs_start(
                sop=sop, record_ids=record_ids, batch="parity", enqueue=False, connection=connection
            )
            ran[connection.pk] = {r.record_id: r for r in runs_execute_inline(runs)}
        for s in sample:
            out[(name, s)] = (
                outcome(ran[local.pk][s], local_norm),
                outcome(ran[salesforce.pk][ids[(object_type, s)]], norm),
            )
    return out


def test_the_three_sops_give_the_same_runs_checks_and_writes_on_salesforce(sf) -> None:
    local, salesforce, emu = sf
    results = run_sf(local, salesforce, emu)
    assert len(results) == 50 + 50 + 27
    states = {a["state"] for a, _ in results.values()}
    assert {Run.State.WRITTEN, Run.State.ESCALATED} <= states  # the comparison covers both

    for (sop, sample_id), (here, there) in results.items():
        assert here == there, f"{sop} {sample_id}"
