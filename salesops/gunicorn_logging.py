"""gunicorn's access log without the Salesforce Outbound Message secret.

Salesforce authenticates an Outbound Message only by the URL it posts to, whose last path
segment is the connection's secret (/webhooks/salesforce/<slug>/<secret>/); a log line with
that URL would hand the secret to anyone who can read the logs.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from salesops.log_redact import REDACTED, url_redact

__all__ = ["REDACTED", "RedactingLogger", "url_redact"]


class RedactingLogger(Logger):
    """gunicorn's Logger whose access-log atoms never hold a Salesforce webhook secret."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        """gunicorn's atoms, every string one (request line, path, raw URI, headers,
        environ) with the secret segment redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom, not just %(r)s and %(U)s: a custom access_log_format may print the
        # environ's RAW_URI or PATH_INFO ({raw_uri}e) or a header that repeats the URL.
        return {
            key: url_redact(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
