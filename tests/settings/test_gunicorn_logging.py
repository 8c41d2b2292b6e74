"""gunicorn's access log redacts the secret of Salesforce Outbound Message URLs, and only it."""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from salesops import gunicorn_conf
from salesops.gunicorn_logging import REDACTED, RedactingLogger, url_redact

SECRET = "Qm9vdGgtc2VjcmV0LXRva2VuLTEyMzQ1Njc4"


def access_line(tmp_path: Path, uri: str, *, method: str = "POST") -> str:
    """The access-log line gunicorn, configured as in production, writes for one request."""
    log = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(log))
    cfg.set("logger_class", gunicorn_conf.logger_class)
    # Every atom the line can show: the request line, path, raw URI and a header.
    cfg.set("access_log_format", "%(r)s | %(U)s | %({raw_uri}e)s | %({x-original-url}i)s")
    logger = cfg.logger_class(cfg)
    path, _, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
    }
    req = SimpleNamespace(headers=[("X-ORIGINAL-URL", uri)])
    resp = SimpleNamespace(status="200 OK", sent=120, headers=[("Content-Type", "text/xml")])
    logger.access(resp, req, environ, datetime.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    return log.read_text()


def test_the_production_config_uses_the_redacting_logger() -> None:
    cfg = Config()
    cfg.set("logger_class", gunicorn_conf.logger_class)
    assert cfg.logger_class is RedactingLogger
    assert gunicorn_conf.accesslog == "-"


def test_an_outbound_message_url_is_logged_without_its_secret(tmp_path: Path) -> None:
    line = access_line(tmp_path, f"/webhooks/salesforce/sf-prod/{SECRET}/")
    assert SECRET not in line
    expected = f"/webhooks/salesforce/sf-prod/{REDACTED}/"
    assert line.count(expected) == 4, line
    assert line.startswith(f"POST {expected} HTTP/1.1 | ")


def test_a_query_string_and_a_missing_trailing_slash_hide_it_too(tmp_path: Path) -> None:
    line = access_line(tmp_path, f"/webhooks/salesforce/sf-prod/{SECRET}?retry=1")
    assert SECRET not in line
    assert f"/webhooks/salesforce/sf-prod/{REDACTED}?retry=1" in line


@pytest.mark.parametrize(
    "uri",
    [
        "/admin/salesops/run/?state=written",
        "/webhooks/salesforce/sf-prod/",  # no secret segment: nothing to hide
        "/webhooks/hubspot/hubspot/",
        "/api/runs/42/",
    ],
)
def test_other_paths_are_logged_as_they_are(tmp_path: Path, uri: str) -> None:
    line = access_line(tmp_path, uri, method="GET")
    assert REDACTED not in line
    assert line.startswith(f"GET {uri} HTTP/1.1 | ")


def test_url_redact_leaves_non_webhook_text_alone() -> None:
    assert url_redact("GET /webhooks/salesforcex/a/b/ HTTP/1.1") == (
        "GET /webhooks/salesforcex/a/b/ HTTP/1.1"
    )
    assert url_redact(f"https://h.example/webhooks/salesforce/s/{SECRET}/") == (
        f"https://h.example/webhooks/salesforce/s/{REDACTED}/"
    )
