"""Django's own log records (a 4xx "Bad Request: <path>" warning) never print the Salesforce
webhook secret: the console handler's filter redacts it and leaves other paths alone."""

from __future__ import annotations

import io
import logging
import logging.config

from django.conf import settings

SECRET = "s3cr3t-abcdefghijklmnopqrstuvwx"


def log_through_settings(message: str, *args: object) -> str:
    """`message` logged by django.request through a copy of the project's LOGGING."""
    stream = io.StringIO()
    config = {**settings.LOGGING, "disable_existing_loggers": False}
    config["handlers"] = {
        name: {**handler, "stream": stream} for name, handler in config["handlers"].items()
    }
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(config)
        logging.getLogger("django.request").warning(message, *args)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    return stream.getvalue()


def test_a_bad_request_warning_names_the_path_without_the_secret() -> None:
    text = log_through_settings("%s: %s", "Bad Request", f"/webhooks/salesforce/sf/{SECRET}/")
    assert SECRET not in text
    assert "Bad Request: /webhooks/salesforce/sf/[redacted]/" in text


def test_other_paths_are_logged_as_they_are() -> None:
    text = log_through_settings("Not Found: %s", "/webhooks/hubspot/hubspot/")
    assert "Not Found: /webhooks/hubspot/hubspot/" in text
