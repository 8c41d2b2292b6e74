"""The main job (`manage.py demo`) on a HubSpot connection defined by environment variables
alone, against a loopback HubSpot emulator; django-q2 runs tasks inline (no worker started)."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.hubspot import connector as hubspot_connector
from connectors.local import models as crm
from salesops.env import env_connections
from salesops.models import Connection, Run, WriteBack
from salesops.services.connections import connections_reset
from salesops.services.connections_env import connections_env_forget
from tests.emulators.hubspot_api import ALL_SCOPES, HubSpotEmulator

# Real commits: runs are enqueued on commit and run inline (sync_queue) at once.
pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "pat-na1-demo"


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    emulator = HubSpotEmulator(portal_id=111, token=TOKEN, seed=True).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def use_hubspot_env(monkeypatch, settings, emu: HubSpotEmulator, token: str = TOKEN) -> None:
    """HUBSPOT_* and SALESOPS_CONNECTION as an operator sets them, read as settings read them."""
    for name, value in {
        "HUBSPOT_ACCESS_TOKEN": token,
        "HUBSPOT_BASE_URL": emu.base_url,
        "HUBSPOT_CLIENT_SECRET": emu.client_secret,
        "HUBSPOT_TIER": "enterprise",
    }.items():
        monkeypatch.setenv(name, value)
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENV_CONNECTIONS": env_connections(),
        "CONNECTION": "hubspot",
    }
    connections_env_forget()
    connections_reset()


@pytest.fixture(autouse=True)
def _forget_connectors() -> Iterator[None]:
    yield
    connections_env_forget()
    connections_reset()


def test_the_main_job_runs_the_three_sops_on_hubspot_by_configuration_alone(
    monkeypatch, settings, emu: HubSpotEmulator, sync_queue
) -> None:
    # ~3,000 calls at the real 190 per 10 s would pace this test to ~160 s; the limiter's
    # pacing is tested on its own (tests/connections), so here the tier allows more.
    monkeypatch.setitem(hubspot_connector.TIERS, "enterprise", (100_000, 10_000_000))
    use_hubspot_env(monkeypatch, settings, emu)
    out = StringIO()
    call_command("demo", "--no-serve", "--timeout", "60", stdout=out)
    text = out.getvalue()

    # No local sample data: the records came from the portal, after check and provision.
    assert "sample CRM" not in text and crm.Contact.objects.count() == 0
    assert "connection: hubspot (hubspot)" in text
    assert "hubspot (hubspot, 111" in text  # connection_check's header: the portal id
    assert "hubspot contact: 50 record(s)" in text and "hubspot deal: 27 record(s)" in text
    store = emu.portal(111)
    assert {"ai_score", "salesops_key"} <= set(store.properties["contacts"]) | set(
        store.properties["notes"]
    )
    hubspot = Connection.objects.get(slug="hubspot")
    assert (hubspot.kind, hubspot.from_env) == ("hubspot", True)

    runs = Run.objects.filter(connection=hubspot)
    assert set(runs.values_list("sop__name", flat=True)) == {
        "lead-qualification",
        "follow-up",
        "deal-review",
    }
    assert not Run.objects.exclude(connection=hubspot).exists()
    assert set(runs.values_list("state", flat=True)) <= {"written", "escalated", "skipped"}
    assert runs.filter(state="written").exists() and WriteBack.objects.exists()
    # The writes landed in the portal: AI notes on its records, keyed for exactly-once.
    notes = [n for n in store.live("notes") if n.properties.get("salesops_key")]
    assert notes
    linked = store.associated("notes", notes[0].id, "contacts") or store.associated(
        "notes", notes[0].id, "deals"
    )
    assert linked
    for sop in ("lead-qualification", "follow-up", "deal-review"):
        assert sop in text  # the summary table


def test_a_check_that_blocks_runs_stops_the_main_job_saying_how_to_fix_it(
    monkeypatch, settings, emu: HubSpotEmulator, sync_queue
) -> None:
    emu.tokens["pat-na1-readonly"] = type(emu.tokens[TOKEN])(
        111, tuple(s for s in ALL_SCOPES if not s.endswith(".write"))
    )
    use_hubspot_env(monkeypatch, settings, emu, token="pat-na1-readonly")
    out = StringIO()
    with pytest.raises(CommandError, match=r"connection_check hubspot --provision"):
        call_command("demo", "--no-serve", stdout=out)
    assert "missing scopes" in out.getvalue()
    assert not Run.objects.exists() and crm.Contact.objects.count() == 0


def test_a_connection_the_environment_does_not_define_is_a_clear_error(settings) -> None:
    settings.SALESOPS = {**settings.SALESOPS, "ENV_CONNECTIONS": [], "CONNECTION": "hubspot"}
    with pytest.raises(CommandError, match="SALESOPS_CONNECTION='hubspot' names no connection"):
        call_command("demo", "--no-serve", stdout=StringIO())
