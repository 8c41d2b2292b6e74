"""Hostile payloads (deep JSON, huge integers, huge strings, NUL, lone surrogates, NaN) get a 400
or 413 with a reason from the API, never a 500, and change nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from salesops.models import Escalation, Sop

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE_EDITS = {
    "deeply nested": '{"edited_output": {"x": ' + DEEP + "}}",
    "a 5,000-digit integer": '{"edited_output": {"score": ' + "9" * 5000 + "}}",
    "a 4,000-digit integer": '{"edited_output": {"score": ' + "9" * 4000 + "}}",
    "a NUL character": '{"edited_output": {"summary": "a\\u0000b"}}',
    "a lone surrogate": '{"edited_output": {"summary": "\\ud800"}}',
    "a lone surrogate in a key": '{"overrides": {"\\udfff": "why"}}',
    "NaN": '{"edited_output": {"score": NaN}}',
    "1e400": '{"edited_output": {"score": 1e400}}',
    "not UTF-8": b'{"note": "\xff\xfe"}',
}


def post_raw(client: APIClient, url: str, body: str | bytes):
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize("name", HOSTILE_EDITS)
def test_it_refuses_a_hostile_approval_with_a_reason(
    api_manager: APIClient, escalation: Escalation, name: str
):
    response = post_raw(
        api_manager, f"/api/escalations/{escalation.pk}/approve/", HOSTILE_EDITS[name]
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN and escalation.edited_output is None


def test_it_answers_413_for_a_body_over_the_limit(api_manager: APIClient, escalation: Escalation):
    body = '{"note": "' + "x" * 2_000_000 + '"}'
    response = post_raw(api_manager, f"/api/escalations/{escalation.pk}/approve/", body)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_it_names_the_nesting_limit(api_manager: APIClient, escalation: Escalation):
    response = post_raw(
        api_manager, f"/api/escalations/{escalation.pk}/reject/", '{"reason": ' + DEEP + "}"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_it_refuses_a_rejection_reason_with_a_nul(api_manager: APIClient, escalation: Escalation):
    body = '{"reason": "no\\u0000pe"}'
    response = post_raw(api_manager, f"/api/escalations/{escalation.pk}/reject/", body)
    assert response.status_code == 400
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


@pytest.mark.parametrize(
    "text",
    ['"---\\nname: lead-qualification\\u0000\\n---\\n"', '"\\udc00"', '"' + "x" * 300_000 + '"'],
    ids=["nul", "lone surrogate", "300k characters"],
)
def test_it_refuses_hostile_sop_text(api_manager: APIClient, library, text: str):
    response = post_raw(
        api_manager, "/api/sops/lead-qualification/versions/", '{"text": ' + text + "}"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert Sop.objects.get(name="lead-qualification").versions.count() == 1


def test_it_refuses_a_form_encoded_body(api_manager: APIClient, escalation: Escalation):
    # One bounded parser: the API takes JSON only, so no other parser can let a NUL through.
    response = api_manager.post(
        f"/api/escalations/{escalation.pk}/reject/", {"reason": "a\x00b"}, format="multipart"
    )
    assert response.status_code == 415
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


@pytest.mark.parametrize(
    "query", ["offset=99999999999999999999999", "limit=-1&offset=-5", "offset=1e9"]
)
def test_it_answers_a_hostile_page_request_without_a_500(
    api_manager: APIClient, escalation: Escalation, query: str
):
    for path in ("/api/runs/", "/api/escalations/"):
        assert api_manager.get(f"{path}?{query}").status_code < 500, (path, query)


def test_it_answers_404_for_an_out_of_range_id(api_manager: APIClient, escalation: Escalation):
    huge = "9" * 40
    assert api_manager.get(f"/api/runs/{huge}/").status_code == 404
    response = api_manager.post(f"/api/escalations/{huge}/approve/", {}, format="json")
    assert response.status_code == 404
