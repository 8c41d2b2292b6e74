"""Service-account tokens: issued by a command, stored hashed, checked on every request,
replaced or revoked at once, and rate-limited per account."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from salesops.api.auth import TokenRateThrottle
from salesops.services.api_tokens import token_hash

pytestmark = pytest.mark.django_db


def issue(*args: str) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_token_reads_as_its_user_and_is_stored_hashed(manager, library):
    secret = issue("manager")
    assert secret.startswith("sot_") and len(secret) > 40
    stored = Token.objects.get(user=manager)
    assert stored.key == token_hash(secret) and secret not in stored.key
    response = with_token(secret).get("/api/sops/")
    assert response.status_code == 200
    assert {s["name"] for s in response.json()} >= {"lead-qualification"}


def test_a_new_token_replaces_the_old_one(manager, library):
    old = issue("manager")
    new = issue("manager")
    assert with_token(old).get("/api/sops/").status_code == 401
    assert with_token(new).get("/api/sops/").status_code == 200


def test_a_revoked_or_wrong_token_is_a_401_in_the_error_shape(manager, library):
    secret = issue("manager")
    issue("manager", "--revoke")
    for token in (secret, "sot_guess", token_hash(secret)):  # the stored hash is no password
        response = with_token(token).get("/api/sops/")
        assert response.status_code == 401, token
        assert set(response.json()) == {"detail", "errors"}
        assert response["WWW-Authenticate"] == "Token"


def test_an_inactive_account_is_refused(manager, library):
    secret = issue("manager")
    manager.is_active = False
    manager.save()
    assert with_token(secret).get("/api/sops/").status_code == 401


def test_a_token_keeps_its_users_permissions(viewer, library):
    client = with_token(issue("viewer"))
    assert client.get("/api/runs/").status_code == 200
    response = client.post("/api/runs/", {"sop": "follow-up", "record_id": "c-1"}, format="json")
    assert response.status_code == 403 and "salesops.add_run" in response.json()["detail"]


def test_create_makes_a_staff_service_account_without_a_password(django_user_model):
    secret = issue("crm-sync", "--create")
    user = django_user_model.objects.get(username="crm-sync")
    assert user.is_staff and not user.has_usable_password()
    assert Token.objects.get(user=user).key == token_hash(secret)


def test_an_anonymous_request_is_a_401_naming_the_scheme(db):
    response = APIClient().get("/api/runs/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["errors"] == {}


def test_token_clients_are_rate_limited_with_retry_after(manager, library, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "rate", "3/min")
    cache.clear()
    client = with_token(issue("manager"))
    assert [client.get("/api/sops/").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/sops/")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert set(limited.json()) == {"detail", "errors"}
    # A person in a browser session is not throttled by it.
    session = APIClient()
    session.force_login(manager)
    assert [session.get("/api/sops/").status_code for _ in range(5)] == [200] * 5
    cache.clear()
