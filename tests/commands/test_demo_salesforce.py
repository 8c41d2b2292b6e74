"""The main job (`manage.py demo`) on a Salesforce connection defined by environment variables
alone (JWT bearer), against a seeded loopback Salesforce emulator; django-q2 runs tasks inline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.salesforce.fields import fields_from_neutral
from salesops.env import env_connections
from salesops.management.commands.demo_summary import summary_parse
from salesops.models import Connection, Run, WriteBack
from salesops.services.connections import connections_reset
from salesops.services.connections_env import connections_env_forget
from tests.emulators.framework import FakeClock
from tests.emulators.salesforce_api import SalesforceEmulator

# Real commits: runs are enqueued on commit and run inline (sync_queue) at once.
pytestmark = pytest.mark.django_db(transaction=True)

OUTBOUND_SECRET = "demo-outbound-secret-0123456789"
UNPROVISIONED_ORG = "00D5g000008UNPrEAG"
SOPS = ("lead-qualification", "follow-up", "deal-review")
# The summary's counts (its times differ from one run to the next).
COUNTS = ("runs", "written", "escalated", "rejected", "skipped", "failed", "writes")


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    # The org's clock starts now, as the local sample data's relative times do.
    now = datetime.now(UTC).replace(microsecond=0)
    emulator = SalesforceEmulator(clock=FakeClock(now), seed=True).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def use_salesforce_env(
    monkeypatch, settings, emu: SalesforceEmulator, username: str | None = None
) -> None:
    """SALESFORCE_* and SALESOPS_CONNECTION as an operator sets them, read as settings do."""
    for name, value in {
        "SALESFORCE_CONSUMER_KEY": emu.consumer_key,
        "SALESFORCE_USERNAME": username or emu.username,
        "SALESFORCE_PRIVATE_KEY": emu.private_key_pem,
        "SALESFORCE_LOGIN_URL": emu.base_url,
        "SALESFORCE_CA_CERT": emu.ca_path,
        "SALESFORCE_OUTBOUND_SECRET": OUTBOUND_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENV_CONNECTIONS": env_connections(),
        "CONNECTION": "salesforce",
    }
    connections_env_forget()
    connections_reset()


@pytest.fixture(autouse=True)
def _forget_connectors() -> Iterator[None]:
    yield
    connections_env_forget()
    connections_reset()


def summary(text: str) -> dict[str, dict[str, int]]:
    """The summary table's counts: SOP -> {column: count}."""
    return {
        sop: {name: int(row[name]) for name in COUNTS}
        for sop, row in summary_parse(text).items()
        if sop in SOPS
    }


def test_the_main_job_runs_the_three_sops_on_salesforce_by_configuration_alone(
    monkeypatch, settings, emu: SalesforceEmulator, sync_queue
) -> None:
    # The local demo first, on the same sample: the Salesforce one must end the same way.
    local_out = StringIO()
    call_command("demo", "--no-serve", "--timeout", "60", stdout=local_out)
    local = summary(local_out.getvalue())
    assert set(local) == set(SOPS)

    use_salesforce_env(monkeypatch, settings, emu)
    org = emu.org()
    tasks_before = {row["Id"] for row in org.rows("Task")}
    out = StringIO()
    call_command("demo", "--no-serve", "--timeout", "60", stdout=out)
    text = out.getvalue()

    # No sample data loaded: the records came from the org, after check and provision.
    assert "sample CRM" not in text
    assert "connection: salesforce (salesforce)" in text
    assert org.org_id in text  # connection_check's header: the org it signed in to
    assert re.search(r"salesforce contact: \d+ record\(s\)", text), text
    assert re.search(r"salesforce deal: \d+ record\(s\)", text), text
    salesforce = Connection.objects.get(slug="salesforce")
    assert (salesforce.kind, salesforce.from_env) == ("salesforce", True)

    runs = Run.objects.filter(connection=salesforce)
    assert set(runs.values_list("sop__name", flat=True)) == set(SOPS)
    assert set(runs.values_list("state", flat=True)) <= {"written", "escalated", "skipped"}
    # Same sample, same SOPs: the same summary as on the local CRM, row for row (runs,
    # written, escalated, rejected, skipped, failed, writes; tests/e2e/test_crm_parity.py
    # compares them run by run).
    outcome = summary(text)
    assert outcome == local
    assert all(row["failed"] == 0 for row in outcome.values())
    assert outcome["lead-qualification"]["written"] > 0  # some runs wrote back

    # The writes reached the org: AI notes (completed Tasks) and tasks labelled [AI] on each
    # run's own record, keyed for exactly-once, and the ai_* fields on the records.
    done = WriteBack.objects.filter(run__connection=salesforce, status=WriteBack.Status.DONE)
    kinds = set(done.values_list("kind", flat=True))
    assert {"note", "set_property"} <= kinds, kinds
    for write in done.select_related("run"):
        if write.kind == "set_property":
            found = org.find(write.run.record_id)
            assert found is not None, write.run.record_id
            sobject, row = found
            expected = fields_from_neutral(sobject, write.payload["properties"])
            assert {k: row.get(k) for k in expected} == expected
            continue
        task = org.get("Task", write.external_id)
        assert task is not None, write.external_id
        assert str(task["Subject"]).startswith("[AI] "), task["Subject"]
        assert write.run.record_id in (task.get("WhoId"), task.get("WhatId"))
        assert task["Salesops_Key__c"] == write.idempotency_key
        # The body is labelled as AI and links the run that wrote it.
        run_link = f"{settings.SALESOPS_BASE_URL}/admin/salesops/run/{write.run_id}/change/"
        body = str(task["Description"])
        assert body.startswith("🤖 AI action") and run_link in body, body[:120]
        assert (task["Status"] == "Completed") == (write.kind == "note")
    new_tasks = [row for row in org.rows("Task") if row["Id"] not in tasks_before]
    # Every Task the job created is one of its write-backs: none left unrecorded.
    assert {row["Id"] for row in new_tasks} == set(
        done.exclude(kind="set_property").values_list("external_id", flat=True)
    )


def test_a_check_that_blocks_runs_stops_the_main_job_saying_how_to_fix_it(
    monkeypatch, settings, emu: SalesforceEmulator, sync_queue
) -> None:
    # An org whose admin has not created the custom fields: no key to write exactly once by.
    bare = emu.org_add(UNPROVISIONED_ORG, "integration@bare.example", provisioned=False)
    use_salesforce_env(monkeypatch, settings, emu, username=bare.username)
    out = StringIO()
    with pytest.raises(CommandError, match=r"connection_check salesforce --provision"):
        call_command("demo", "--no-serve", stdout=out)
    assert "Task.Salesops_Key__c" in out.getvalue()
    assert not Run.objects.exists()


def test_a_salesforce_connection_the_environment_does_not_define_is_a_clear_error(
    settings,
) -> None:
    settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": [], "CONNECTION": "salesforce"}
    with pytest.raises(CommandError, match="SALESFORCE_CONSUMER_KEY"):
        call_command("demo", "--no-serve", stdout=StringIO())
