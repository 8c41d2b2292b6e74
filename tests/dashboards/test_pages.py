"""Dashboard and comparison pages: render with and without data, bad filters inline, access."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.dashboards.conftest import World

DASH = "admin:salesops_dashboard"
COMPARE = "admin:salesops_dashboard_compare"


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


def test_index_links_the_dashboard(as_manager: Client, world: World) -> None:
    page = as_manager.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse(DASH)}"' in page


def test_empty_dashboard_renders(as_manager: Client, world: World) -> None:
    response = as_manager.get(reverse(DASH))
    assert response.status_code == 200
    assert "no runs in this period" in response.content.decode()


def test_dashboard_with_data_shows_figures_and_accessible_charts(
    as_manager: Client, hand_built: World
) -> None:
    w = hand_built
    response = as_manager.get(reverse(DASH), {"sop": w.sop.pk, "version": 1, "period": "7"})
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["figures"].runs == 10
    # Three charts with data, each named by a <title> that aria-labelledby points at.
    svgs = re.findall(r'<svg[^>]*aria-labelledby="(chart\d+-t) chart\d+-d"', page)
    assert len(svgs) >= 4
    for title_id in svgs:
        assert f'<title id="{title_id}">' in page
    assert "Escalation reasons, ranked" in page
    assert "score-in-range" in page and "budget-over-100k" in page
    assert "86.0 s" in page  # p95
    assert "4.0%" in page  # the local connection's daily budget used


@pytest.mark.parametrize(
    "query",
    [
        {"version": "1"},  # a version without its SOP
        {"sop": "999999"},
        {"sop": "abc", "version": "-3"},
        {"period": "custom", "since": "2026-02-30"},
        {"period": "custom", "since": "2026-03-10", "until": "2026-03-01"},
        {"period": "custom", "since": "1900-01-01", "until": "2026-03-01"},
        {"period": "forever", "connection": "x"},
        {"version": "99999999999999999999"},
    ],
)
def test_bad_filters_show_a_message_not_an_error(
    as_manager: Client, hand_built: World, query: dict
) -> None:
    response = as_manager.get(reverse(DASH), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error"' in page or 'class="warning"' in page
    assert response.context["figures"].runs == 13  # the defaults: every SOP, last 30 days


def test_custom_period(as_manager: Client, hand_built: World) -> None:
    w = hand_built
    day = w.day1.date().isoformat()
    response = as_manager.get(
        reverse(DASH), {"sop": w.sop.pk, "period": "custom", "since": day, "until": day}
    )
    assert response.status_code == 200
    assert response.context["figures"].runs == 4  # only day 1's runs


def test_compare_page_side_by_side(as_manager: Client, hand_built: World) -> None:
    w = hand_built
    response = as_manager.get(reverse(COMPARE), {"sop": w.sop.pk, "v1": 1, "v2": 2, "period": "7"})
    assert response.status_code == 200
    rows = {label: (a, b) for label, a, b in response.context["rows"]}
    assert rows["Runs"] == ("10", "1")
    assert rows["Failed"] == ("1 (10.0%)", "1 (100.0%)")
    assert rows["Edited, then approved"] == ("33.3%", "-")
    assert "version 1 against version 2" in response.content.decode()


@pytest.mark.parametrize("query", [{}, {"sop": "1"}, {"v1": "1", "v2": "x"}])
def test_compare_page_without_or_with_bad_input(
    as_manager: Client, world: World, query: dict
) -> None:
    assert as_manager.get(reverse(COMPARE), query).status_code == 200


def test_compare_unknown_version_is_a_message(as_manager: Client, world: World) -> None:
    response = as_manager.get(reverse(COMPARE), {"sop": world.sop.pk, "v1": 1, "v2": 7})
    assert response.status_code == 200
    assert "has no version 7" in response.content.decode()


def test_staff_without_permission_is_refused(client: Client, staff_without_permissions) -> None:
    client.force_login(staff_without_permissions)
    assert client.get(reverse(DASH)).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(DASH) not in index


def test_anonymous_goes_to_login(client: Client, db) -> None:
    response = client.get(reverse(DASH))
    assert response.status_code == 302 and "/login/" in response["Location"]
