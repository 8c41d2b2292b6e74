"""Log lines without the Salesforce Outbound Message secret.

Salesforce authenticates an Outbound Message only by the URL it posts to, whose last path
segment is the connection's secret (/webhooks/salesforce/<slug>/<secret>/); a log line with
that URL would hand the secret to anyone who can read the logs. gunicorn's access log
(`gunicorn_logging`) and Django's own log records (`RedactFilter`, on every handler) both
pass through `url_redact`.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# The segment after the slug, up to the next slash, query or space (the request line's).
_SECRET_URL = re.compile(r"(/webhooks/salesforce/[^/?#\s]+/)[^/?#\s]+")


def url_redact(text: str) -> str:
    """`text` with the secret segment of every Salesforce webhook URL in it replaced."""
    return _SECRET_URL.sub(rf"\g<1>{REDACTED}", text)


class RedactFilter(logging.Filter):
    """Rewrites a record whose message names a Salesforce webhook URL (Django's "Bad
    Request: /webhooks/salesforce/<slug>/<secret>/" warnings) with the secret redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only its text changes."""
        message = record.getMessage()
        redacted = url_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
