"""The sample loaded into the local CRM, a HubSpot portal and a Salesforce org (emulators on
the same clock), each SOP run on every sample record of each, and the outcomes compared after
mapping vendor ids back to sample ids. Used by tests/e2e/test_crm_parity.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from connectors.hubspot.connector import TIERS
from connectors.local import models as crm
from salesops.models import Connection, Run
from salesops.services.batches import runs_execute_inline, runs_start, sop_get
from salesops.services.connection_checks import connection_check
from salesops.services.connections import connection_credentials_set
from tests.conftest import ROOT
from tests.emulators.framework import FakeClock
from tests.emulators.hubspot_api import HubSpotEmulator
from tests.emulators.salesforce_api import SalesforceEmulator

SAMPLE = ROOT / "sop_library" / "sample_data" / "crm.json"
SOPS = {"lead-qualification": "contact", "follow-up": "contact", "deal-review": "deal"}
SF_ID = re.compile(r"\b[a-zA-Z0-9]{18}\b")
Normalise = Any  # a callable: payload -> payload with vendor ids as sample ids


def checked(connection: Connection) -> Connection:
    """The connection, provisioned and with no blocking check line."""
    report = connection_check(connection, provision=True)
    assert not [line for line in report.lines if line.blocking], report.lines
    return connection


@contextmanager
def hubspot_portal(now: datetime, monkeypatch: Any) -> Iterator[tuple[Connection, HubSpotEmulator]]:
    """A provisioned HubSpot connection on an emulator seeded with the sample."""
    # 254 runs of ~15 calls: the shared limiter would pace them at Professional's 19 calls/s
    # for three minutes. Pacing is tested elsewhere; here only the results matter.
    monkeypatch.setitem(TIERS, "professional", (100_000, 650_000))
    emu = HubSpotEmulator(clock=FakeClock(now), seed=True).start()
    try:
        hubspot = Connection.objects.create(kind="hubspot", slug="hubspot", account_id="111")
        credentials = {
            "access_token": "pat-na1-test",
            "client_secret": emu.client_secret,
            "base_url": emu.base_url,
        }
        connection_credentials_set(hubspot, credentials)
        yield checked(hubspot), emu
    finally:
        emu.stop()


@contextmanager
def salesforce_org(now: datetime) -> Iterator[tuple[Connection, SalesforceEmulator]]:
    """A provisioned Salesforce connection on an emulator seeded with the sample."""
    emu = SalesforceEmulator(clock=FakeClock(now), seed=True).start()
    try:
        org = emu.org()
        salesforce = Connection.objects.create(
            kind="salesforce", slug="salesforce", account_id=org.org_id
        )
        credentials = {
            "consumer_key": emu.consumer_key,
            "username": emu.username,
            "private_key": emu.private_key_pem,
            "login_url": emu.base_url,
            "ca_cert": emu.ca_path,
            "outbound_secret": "outbound-secret-parity",
        }
        connection_credentials_set(salesforce, credentials)
        yield checked(salesforce), emu
    finally:
        emu.stop()


def sample_now() -> datetime:
    """One moment for every CRM, so relative sample times resolve alike."""
    return datetime.now(UTC).replace(microsecond=0)


class HubSpotIds:
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


class SalesforceIds:
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


def sample_runs(
    connection: Connection, ids: dict[tuple[str, str], str] | None, norm: Normalise
) -> dict[tuple[str, str], dict]:
    """(sop, sample id) -> outcome of each SOP on every sample record of `connection`; `ids`
    maps (object type, sample id) to the CRM's own ids (None: the sample's ids)."""
    out = {}
    for name, object_type in SOPS.items():
        sop = sop_get(name=name)
        if ids is None:
            sample = sorted(crm_sample_ids(object_type))
            record_ids = {s: s for s in sample}
        else:
            record_ids = {s: ids[(t, s)] for (t, s) in ids if t == object_type}
        runs, _ = runs_start(
            sop=sop,
            record_ids=sorted(record_ids.values()),
            batch="parity",
            enqueue=False,
            connection=connection,
        )
        ran = {r.record_id: r for r in runs_execute_inline(runs)}
        for sample_id, record_id in record_ids.items():
            out[(name, sample_id)] = outcome(ran[record_id], norm)
    return out


def crm_sample_ids(object_type: str) -> list[str]:
    """The local CRM's sample ids of an object type."""
    model = {"contact": crm.Contact, "deal": crm.Deal}[object_type]
    return [str(pk) for pk in model.objects.values_list("pk", flat=True)]


def assert_both_states(results: dict[tuple[str, str], dict]) -> None:
    """The comparison covers written and escalated runs, not only one kind."""
    states = {r["state"] for r in results.values()}
    assert {Run.State.WRITTEN, Run.State.ESCALATED} <= states
