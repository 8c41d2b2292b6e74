"""`/` leads to the admin; `/healthz` answers load balancers without login, session or CSRF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_the_root_url_leads_to_the_admin(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_root_url_leads_a_manager_to_the_admin_index(client, manager) -> None:
    client.force_login(manager)
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert response.status_code == 200 and b"Site administration" in response.content


@pytest.mark.django_db
def test_health_answers_ok_with_one_query_and_no_session(
    django_assert_num_queries,
) -> None:
    client = Client()
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]
    # No login page, no cookie and no session row for a probe that asks every few seconds.
    assert not response.cookies
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_health_needs_no_csrf_token_and_refuses_writes_plainly() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/healthz")
    assert response.status_code == 405  # not 403: CSRF is not what stops it
    assert json.loads(response.content)["status"] == "error"
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_health_is_exempt_from_the_https_redirect(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/").status_code == 301  # the rest still redirects


def test_health_answers_503_when_the_database_does_not_answer(tmp_path) -> None:
    """A real process on a SQLite file it cannot open: the probe says which part failed."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SALESOPS_SQLITE_PATH"] = str(tmp_path / "missing-dir" / "db.sqlite3")
    env["DJANGO_SETTINGS_MODULE"] = "salesops.settings"
    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz')\n"
        "print(json.dumps([r.status_code, json.loads(r.content)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    status, body = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert status == 503
    assert body == {"status": "error", "database": "error"}
