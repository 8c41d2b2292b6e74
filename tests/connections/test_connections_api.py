"""The API names each run's and escalation's connection, filters by it, and lists connections
with their usage to anyone allowed to view them, never with credentials."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors.base import RecordRef
from salesops.models import Connection, Escalation, Sop
from salesops.services.connections import connection_local
from salesops.services.runs import run_create
from tests.connections.conftest import SECRET

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def two_connections(library, hubspot) -> dict[str, int]:
    """One queued run per connection on the same record id, each escalated."""
    sop = Sop.objects.get(name="lead-qualification")
    ids = {}
    for connection in (connection_local(), hubspot):
        run, _ = run_create(
            sop=sop,
            ref=RecordRef("contact", "c-001"),
            trigger="manual",
            event_key="api-test",
            connection=connection,
            enqueue=False,
        )
        Escalation.objects.create(run=run, reason=f"review on {connection.slug}")
        ids[connection.slug] = run.pk
    return ids


def test_runs_name_their_connection_and_filter_by_it(manager, two_connections):
    body = api(manager).get("/api/runs/").json()
    assert {r["id"]: r["connection"] for r in body["results"]} == {
        two_connections["local"]: "local",
        two_connections["hubspot-eu"]: "hubspot-eu",
    }
    only = api(manager).get("/api/runs/", {"connection": "hubspot-eu"}).json()["results"]
    assert [r["id"] for r in only] == [two_connections["hubspot-eu"]]
    assert api(manager).get("/api/runs/", {"connection": "nope"}).json()["results"] == []
    assert api(manager).get("/api/runs/", {"connection": "not a slug"}).status_code == 400


def test_escalations_name_their_connection_and_filter_by_it(manager, two_connections):
    body = api(manager).get("/api/escalations/", {"connection": "local"}).json()
    assert [(e["run"], e["connection"]) for e in body["results"]] == [
        (two_connections["local"], "local")
    ]


def test_connections_list_usage_and_never_credentials(viewer, hubspot):
    Connection.objects.filter(pk=hubspot.pk).update(daily_limit=500_000, daily_remaining=499_000)
    response = api(viewer).get("/api/connections/")
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert hubspot.credentials not in response.content.decode()
    hubspot_row = next(c for c in response.json() if c["slug"] == "hubspot-eu")
    assert hubspot_row == {
        "slug": "hubspot-eu",
        "kind": "hubspot",
        "name": "HubSpot EU",
        "account_id": "4711",
        "enabled": True,
        "from_env": False,
        "usage": {
            "calls_today": 0,
            "last_429_at": None,
            "daily_limit": 500000,
            "daily_remaining": 499000,
        },
    }


def test_connections_need_the_view_permission(rep, staff_without_permissions, hubspot):
    assert api(rep).get("/api/connections/").status_code == 403
    denied = api(staff_without_permissions).get("/api/connections/")
    assert denied.status_code == 403
    assert "salesops.view_connection" in denied.json()["detail"]
