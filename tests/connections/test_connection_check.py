"""`connection_check` prints one line per finding and exits non-zero when one blocks runs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from salesops.models import Connection, Sop
from salesops.services.connection_checks import connection_check, sop_properties_needed
from salesops.services.connections import connection_local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_hubspot_connector(settings):
    # These tests are about a kind with no connector installed; the HubSpot connector's own
    # check runs against its emulator (tests/connectors/test_hubspot_client.py).
    installed = dict(settings.SALESOPS["CONNECTORS"])
    installed.pop("hubspot", None)
    settings.SALESOPS = {**settings.SALESOPS, "CONNECTORS": installed}


def check(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("connection_check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_the_local_connection_passes(library, sample_crm):
    out, failure = check("local")
    assert failure is None, out
    assert out.splitlines()[0].startswith("local (local, local")
    lines = out.splitlines()[1:]
    findings = [line.split()[0] for line in lines if "fix:" not in line]
    assert findings and set(findings) <= {"ok", "warning"}
    assert (
        "sop_properties the SOPs' writes exist: contact.ai_score, contact.ai_tier, "
        "contact.lead_status, deal.ai_health"
    ) in out


def test_the_properties_needed_come_from_the_published_sops_set_property_writes(library):
    assert sop_properties_needed(connection_local()) == {
        "contact": {"ai_score", "ai_tier", "lead_status"},
        "deal": {"ai_health"},
    }


def test_an_sop_limited_to_another_connection_needs_nothing_here(library):
    other = Connection.objects.create(kind="local", slug="local-b", account_id="b")
    for sop in Sop.objects.all():
        sop.connections.set([other])
    assert sop_properties_needed(connection_local()) == {}
    assert sop_properties_needed(other)["deal"] == {"ai_health"}


def test_a_hubspot_connection_without_a_connector_blocks_with_a_clear_line(hubspot, library):
    out, failure = check("hubspot-eu")
    assert failure is not None and "runs are blocked on: hubspot-eu" in str(failure)
    line = next(ln for ln in out.splitlines() if "connector" in ln)
    assert line.split(None, 2) == [
        "problem",
        "connector",
        "no connector installed for kind hubspot  (blocks runs)",
    ]
    # The salesops-side checks still run without a connector.
    assert "sop_properties" in out and "usage" in out


def test_no_slug_checks_every_connection_and_fails_if_any_blocks(hubspot, library, sample_crm):
    out, failure = check()
    assert "hubspot-eu (hubspot, 4711)" in out and "local (local, local" in out
    assert failure is not None and "hubspot-eu" in str(failure) and "local" not in str(failure)


def test_an_unknown_slug_is_a_command_error_listing_the_known_ones(db):
    connection_local()
    _, failure = check("nope")
    assert failure is not None and "no connection 'nope' (known: local)" in str(failure)


def test_a_mapping_to_a_value_outside_the_vocabulary_blocks(db):
    local = connection_local()
    local.mapping = {"deal.stage": {"Won": "won"}, "contact.country": {"DE": "Germany"}}
    local.save()
    report = connection_check(local)
    problems = [ln.message for ln in report.blocking]
    assert any("'Won' maps to 'won'" in p for p in problems)
    assert any("'contact.country' has no neutral values" in p for p in problems)


def test_a_spent_daily_budget_blocks_and_a_low_one_warns(db):
    local = connection_local()
    today = timezone.now().date()
    Connection.objects.filter(pk=local.pk).update(
        calls_date=today, calls_today=250_000, daily_limit=250_000, daily_remaining=0
    )
    report = connection_check(Connection.objects.get(pk=local.pk))
    assert [ln.message for ln in report.blocking] == [
        "the daily API budget is spent (0 of 250000 left): runs wait for its reset"
    ]
    Connection.objects.filter(pk=local.pk).update(
        daily_remaining=1_000, last_429_at=timezone.now() - timedelta(minutes=5)
    )
    report = connection_check(Connection.objects.get(pk=local.pk))
    assert not report.blocking
    usage = [ln for ln in report.lines if ln.topic == "usage"]
    assert {ln.status for ln in usage} == {"warning"}
    assert "1000 of 250000 daily API calls left" in " ".join(ln.message for ln in usage)


def test_provision_asks_the_connector_and_reports_its_answer(library, sample_crm):
    out, failure = check("local", "--provision")
    assert failure is None, out
    assert "nothing to provision" in out
