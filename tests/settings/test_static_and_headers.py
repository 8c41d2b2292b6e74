"""The WSGI app serves the admin styled (WhiteNoise) and with its security headers (CSP)."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


def wsgi_get(app, path: str, **environ: str) -> tuple[int, dict[str, str], bytes]:
    """One GET through the WSGI callable, as gunicorn makes it."""
    env: dict[str, object] = {"PATH_INFO": path, "HTTP_HOST": "127.0.0.1:8000", **environ}
    setup_testing_defaults(env)
    env["wsgi.input"] = io.BytesIO()
    status: list[str] = []
    headers: dict[str, str] = {}

    def start_response(s, h, exc_info=None):
        status.append(s)
        headers.update({k.lower(): v for k, v in h})

    body = b"".join(app(env, start_response))
    return int(status[0].split()[0]), headers, body


@pytest.fixture(autouse=True)
def _keep_test_connections():
    """As Django's test client does: a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def app(tmp_path, settings):
    """The WSGI application after `collectstatic`, as `make run` and a deploy start it."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    return get_wsgi_application()


def test_it_serves_the_admin_css_compressed_and_cacheable(app):
    status, headers, body = wsgi_get(app, "/static/admin/css/base.css")
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert b"--body-fg" in body
    assert "max-age" in headers["cache-control"]
    status, headers, _ = wsgi_get(app, "/static/admin/css/base.css", HTTP_ACCEPT_ENCODING="gzip")
    assert headers.get("content-encoding") == "gzip"


def test_it_links_the_admin_login_page_to_css_it_can_serve(app):
    status, _, body = wsgi_get(app, "/admin/login/")
    assert status == 200
    assert b'href="/static/admin/css/base.css"' in body


def test_it_sends_a_content_security_policy_the_admin_works_with(app):
    _, headers, _ = wsgi_get(app, "/admin/login/")
    policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'"
    # The admin's scripts are all files: no inline script, no eval.
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


def test_it_sends_the_other_security_headers(app):
    _, headers, _ = wsgi_get(app, "/admin/login/")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in headers


def test_it_trusts_the_proxy_header_and_sends_hsts_over_https(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    app = get_wsgi_application()
    status, headers, _ = wsgi_get(app, "/admin/login/")
    assert status == 301
    assert headers["location"] == "https://127.0.0.1:8000/admin/login/"
    status, headers, _ = wsgi_get(app, "/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
