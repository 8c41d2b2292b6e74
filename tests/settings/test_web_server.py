"""`make run` serves through gunicorn with the production config: the admin comes styled."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command

from salesops.services.workers import web_start, web_stop


def free_addr() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@pytest.fixture
def web(tmp_path, settings, monkeypatch):
    """gunicorn as the demo command starts it, after `collectstatic`; its base URL."""
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    monkeypatch.setenv("SALESOPS_STATIC_ROOT", str(tmp_path))
    addr = free_addr()
    host, port = addr.split(":")
    proc = web_start(addr=addr)
    deadline = time.monotonic() + 90  # the app imports slowly on a loaded CI machine
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "gunicorn exited at start"
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://{addr}"
    finally:
        web_stop(proc)
    assert proc.returncode == 0, "gunicorn did not stop cleanly on SIGTERM"


def test_it_serves_the_admin_login_and_its_css_with_gunicorn(web):
    status, headers = get(f"{web}/admin/login/")
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    status, headers = get(f"{web}/static/admin/css/base.css")
    assert status == 200
    assert headers["content-type"].startswith("text/css")
