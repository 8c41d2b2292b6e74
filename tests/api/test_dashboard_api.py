"""GET /api/dashboard/: the admin dashboard's figures as JSON, filters checked like the
other endpoints (one error shape), for whoever may view runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from salesops.models import Run

pytestmark = pytest.mark.django_db


def test_the_figures_count_the_runs_of_the_period(api_manager: APIClient, escalation) -> None:
    response = api_manager.get("/api/dashboard/")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    counted = Run.objects.filter(shadow=False).count()
    assert body["runs"] == counted >= 1
    assert body["outcomes"]["escalated"] >= 1 and body["decisions"]["open"] >= 1
    assert {"since", "until", "queue", "days", "connections"} <= set(body)

    only = api_manager.get("/api/dashboard/", {"sop": escalation.run.sop.name})
    assert only.json()["runs"] == Run.objects.filter(sop=escalation.run.sop, shadow=False).count()
    past = (timezone.now() - timedelta(days=400)).isoformat()
    before = (timezone.now() - timedelta(days=390)).isoformat()
    empty = api_manager.get("/api/dashboard/", {"since": past, "until": before})
    assert empty.status_code == 200 and empty.json()["runs"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sop": "no-such-sop"}, "sop"),
        ({"connection": "nowhere"}, "connection"),
        ({"top": "0"}, "top"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ],
)
def test_bad_filters_are_400s_naming_the_field(api_manager: APIClient, params, field) -> None:
    response = api_manager.get("/api/dashboard/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and field in body["errors"]


def test_an_anonymous_caller_is_refused(api_outsider: APIClient, db) -> None:
    assert APIClient().get("/api/dashboard/").status_code == 401
