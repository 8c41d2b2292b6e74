"""Fixtures for verifier tests: a record document and a result that holds against it."""

from __future__ import annotations

import pytest


@pytest.fixture
def record():
    return {
        "id": "c-1",
        "object": "contact",
        "job_title": "VP of Sales",
        "email": "dana@acme.com",
        "company": {"id": "co-1", "employees": 250, "name": "Acme  Corp"},
        "activities": [
            {"id": "a-0104", "kind": "email", "body": "We want a DEMO next week.",
             "timestamp": "2025-06-10T09:00:00Z"},
        ],
        "days_since_last_activity": 1,
    }  # fmt: skip


@pytest.fixture
def good_result():
    return {
        "tier": "A",
        "score": 85,
        "rationale": [
            {"claim": "Senior", "field": "job_title", "value": "VP of Sales"},
            {"claim": "Size", "field": "company.employees", "value": 250},
        ],
    }
