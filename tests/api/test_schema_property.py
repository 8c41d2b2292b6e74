"""Schemathesis against the API's own OpenAPI schema, through the WSGI app with a token:
generated requests (valid and invalid) never get a 500, every status is documented and every
body matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from salesops.api.auth import TokenRateThrottle
from salesops.services.api_tokens import token_issue
from salesops.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 10  # per operation and mode: about 300 requests, well under a minute


@pytest.fixture
def api_schema(escalation: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The schema the app serves, over a database with SOPs, records, runs and an open
    escalation, so reads return real rows."""
    monkeypatch.setattr(TokenRateThrottle, "rate", None)  # hundreds of requests, one account
    # As Django's test client does: the WSGI app must not close the test's connection (and
    # with it the transaction pytest-django rolls back) at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_500_and_no_schema_violation(api_schema: Any, manager: Any) -> None:
    # One test over every operation (schemathesis' pytest plugin does not load on pytest 9).
    headers = {"Authorization": f"Token {token_issue(user=manager)}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # Nothing to break: no parameters or body (the root, plain lists).
                assert mode is GenerationMode.NEGATIVE, operation.label
