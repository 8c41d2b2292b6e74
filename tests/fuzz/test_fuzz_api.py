"""Fuzzing the API's write endpoints (approve, reject, new SOP version) as a client would.

Whatever arrives: never a 5xx; every refusal is a 4xx in the one error shape; a refused decision
leaves the escalation open, a refused SOP leaves its versions alone. Each example runs in a
transaction rolled back after it, so every one meets the same open escalation. About 1,500
generated requests per run, bounded to stay within seconds per backend.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from salesops.models import Escalation, Run, Sop
from tests import helpers
from tests.admin.conftest import LIKELY_ESCALATIONS

FUZZ = settings(
    deadline=None,
    database=None,  # no example files in the checkout; a failure prints its reproduction
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
pytestmark = pytest.mark.django_db
REFUSALS = {400, 404, 409, 413, 415}

# -- values ---------------------------------------------------------------------------------

HOSTILE_STRINGS = ["\x00", "a\x00b", "\ud800", "x\udfffy", "x" * 100_001, "", " ", "\u202e"]
HOSTILE_NUMBERS = [10**40, -(10**40), 10**29, 2**63, -(2**63) - 1, 0.1 + 0.2, 1e308, -0.0]
strings = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE_STRINGS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=12,
)

# Literals json.dumps never writes: out-of-range, non-finite, deep, huge or malformed.
RAW_TOKENS = [
    "NaN",
    "-Infinity",
    "1e400",
    "9" * 5000,
    "-" + "9" * 4000,
    "[" * 40 + "]" * 40,
    "[" * 20_000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '"\\ud800"',
    '"\\u0000"',
    '"\\udc00\\ud800"',
    "tru",
    "",
    "01",
    "1.e5",
]


def dumps(value: Any) -> str:
    # ensure_ascii writes lone surrogates as \\udXXX escapes, as a hostile client would.
    return json.dumps(value, ensure_ascii=True)


@st.composite
def bodies(draw: Any, fields: dict[str, st.SearchStrategy[Any]]) -> bytes:
    """A JSON object of some of `fields`, some values replaced by raw hostile literals."""
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields)))
    parts = []
    for name in chosen:
        if draw(st.integers(0, 5)) == 0:
            literal = draw(st.sampled_from(RAW_TOKENS))
        else:
            literal = dumps(draw(fields[name]))
        parts.append(f"{dumps(name)}: {literal}")
    if draw(st.booleans()):
        parts.append(f"{dumps(draw(strings))}: {dumps(draw(values))}")
    text = "{" + ", ".join(parts) + "}"
    if draw(st.integers(0, 9)) == 0:  # truncated or padded: not JSON at all
        text = text[: draw(st.integers(0, len(text)))] + draw(st.sampled_from(["", "}", "]", ","]))
    return text.encode("utf-8", "surrogatepass")


def edits_of(output: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The run's own result with one field replaced, removed or added; or anything at all."""

    def mutate(change: tuple[str, Any, int]) -> dict[str, Any]:
        key, value, how = change
        edited = copy.deepcopy(output)
        if how == 0:
            edited.pop(key, None)
        else:
            edited[key] = value
        return edited

    keys = st.one_of(st.sampled_from(sorted(output)), strings)
    return st.one_of(st.tuples(keys, values, st.integers(0, 3)).map(mutate), values)


# -- the harness ------------------------------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone after it (no on_commit callback ever runs)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def post(client: APIClient, url: str, body: bytes) -> Any:
    response = client.post(url, body, content_type="application/json")
    assert response.status_code < 500, (response.status_code, body[:300])
    if response.status_code >= 400:
        assert response.status_code in REFUSALS, (response.status_code, response.content[:300])
        assert set(response.json()) == {"detail", "errors"}, response.content[:300]
    return response


def assert_open(escalation: Escalation) -> None:
    assert Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.OPEN


@pytest.fixture
def api_manager(manager: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.fixture
def reviewed(api_manager: APIClient, library: Any, sample_crm: Any) -> tuple[APIClient, Escalation]:
    """The manager's client and an open escalation of a real lead-qualification run."""
    for record_id in LIKELY_ESCALATIONS:
        run = helpers.run_now("lead-qualification", record_id, key=f"fuzz-{record_id}")
        if run.state == Run.State.ESCALATED:
            return api_manager, run.escalation
    raise AssertionError("no sample contact escalates")


# -- the endpoints ----------------------------------------------------------------------------


def test_approvals_never_answer_5xx(reviewed: tuple[APIClient, Escalation]):
    client, escalation = reviewed
    url = f"/api/escalations/{escalation.pk}/approve/"
    fields = {
        "edited_output": edits_of(escalation.run.output),
        "overrides": st.dictionaries(
            st.one_of(st.sampled_from([c["id"] for c in escalation.checks]), strings),
            values,
            max_size=3,
        ),
        "note": values,
    }

    @settings(FUZZ, max_examples=500)
    @given(body=bodies(fields))
    def approve(body: bytes) -> None:
        with rolled_back():
            if post(client, url, body).status_code != 200:
                assert_open(escalation)

    approve()


def test_rejections_never_answer_5xx(reviewed: tuple[APIClient, Escalation]):
    client, escalation = reviewed
    url = f"/api/escalations/{escalation.pk}/reject/"

    @settings(FUZZ, max_examples=500)
    @given(body=bodies({"reason": values, "note": values}))
    def reject(body: bytes) -> None:
        with rolled_back():
            response = post(client, url, body)
            if response.status_code != 200:
                assert_open(escalation)
            else:
                assert response.json()["status"] == "rejected"

    reject()


@st.composite
def sop_texts(draw: Any, published: str) -> str:
    """The published SOP text with a generated splice (often breaking it), or anything."""
    if draw(st.integers(0, 4)) == 0:
        return draw(strings)
    start = draw(st.integers(0, len(published)))
    end = draw(st.integers(start, min(len(published), start + 80)))
    insert = draw(st.one_of(strings, values.map(dumps), st.sampled_from(RAW_TOKENS)))
    return published[:start] + insert + published[end:]


def test_new_sop_versions_never_answer_5xx(api_manager: APIClient, library):
    sop = Sop.objects.get(name="lead-qualification")
    published = sop.published_version.text
    fields = {"text": sop_texts(published), "publish": st.one_of(st.booleans(), values)}
    url = f"/api/sops/{sop.name}/versions/"

    @settings(FUZZ, max_examples=500)
    @given(body=bodies(fields))
    def create(body: bytes) -> None:
        with rolled_back():
            versions = sop.versions.count()
            response = post(api_manager, url, body)
            if response.status_code >= 400:
                assert sop.versions.count() == versions

    create()
