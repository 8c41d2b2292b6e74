"""gunicorn settings for the web process: `gunicorn -c python:salesops.gunicorn_conf salesops.wsgi`.

Read from the environment like the Django settings; `make run` (the demo command) uses it too.
"""

from __future__ import annotations

from typing import Any

from salesops.env import env_int, env_str

bind = [env_str("SALESOPS_BIND", "127.0.0.1:8000")]
workers = env_int("SALESOPS_WEB_WORKERS", 2, minimum=1)
# Requests are short (admin pages, API calls, webhooks that only store rows): a slow one is a bug.
timeout = env_int("SALESOPS_WEB_TIMEOUT", 30, minimum=5)
graceful_timeout = 20
# Import Django once in the arbiter: workers boot fast and within `timeout` on a busy host.
preload_app = True
# Recycle workers now and then so a slow leak in any dependency cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# TLS ends at the reverse proxy; Django trusts its X-Forwarded-Proto (SALESOPS_PROXY_SSL_HEADER).
forwarded_allow_ips = env_str("SALESOPS_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
# The access log without the secret in Salesforce's Outbound Message URLs.
logger_class = "salesops.gunicorn_logging.RedactingLogger"
errorlog = "-"
loglevel = env_str("SALESOPS_LOG_LEVEL", "WARNING").lower()
# gunicorn 25+ opens a control socket in $HOME by default; nothing here uses it.
control_socket_disable = True


def post_fork(server: Any, worker: Any) -> None:
    """Give each worker its own database connections, never the preloading arbiter's."""
    if server.cfg.preload_app:
        from django.db import connections

        connections.close_all()
