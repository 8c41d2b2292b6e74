"""With DEBUG off the admin's CSS is served, whether or not `collectstatic` ran first."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture(autouse=True)
def _debug_off(settings) -> None:
    settings.DEBUG = False


def test_the_admin_css_is_served_from_a_fresh_checkout_never_collected(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "never-collected"
    response = Client().get("/static/admin/css/base.css")  # a new client: a new WhiteNoise
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"--body-fg" in b"".join(response.streaming_content)


def test_the_admin_script_is_served_too(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STATIC_ROOT.mkdir()
    response = Client().get("/static/admin/js/core.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]


def test_after_collectstatic_the_compressed_copies_are_served(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    response = Client().get("/static/admin/css/base.css", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response.get("Content-Encoding") == "gzip"


def test_an_unknown_static_file_is_still_a_404(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STATIC_ROOT.mkdir()
    assert Client().get("/static/admin/css/no-such-file.css").status_code == 404
