"""The API is for staff: reps get 403, anonymous callers 401, both in the one error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/sops/"),
    ("get", "/api/sops/lead-qualification/"),
    ("post", "/api/sops/lead-qualification/versions/"),
    ("get", "/api/runs/"),
    ("post", "/api/runs/"),
    ("get", "/api/runs/1/"),
    ("get", "/api/escalations/"),
    ("post", "/api/escalations/1/approve/"),
    ("post", "/api/escalations/1/reject/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_refuses_a_rep(api_rep: APIClient, method: str, url: str):
    response = getattr(api_rep, method)(url, {}, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"error", "detail"}


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_refuses_an_outsider(api_outsider: APIClient, method: str, url: str):
    response = getattr(api_outsider, method)(url, {}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error", "detail"}
