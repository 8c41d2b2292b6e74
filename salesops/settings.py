"""Django settings, read only from the environment, with embedded defaults that need no env.

Defaults: SQLite file `salesops.sqlite3`, django-q2's ORM broker, the local CRM, the rules
engine. `DATABASE_URL` switches to PostgreSQL; `REDIS_URL` switches the queue to Redis.
Every variable is listed in the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from salesops.env import (
    ConfigError,
    env_bool,
    env_connections,
    env_fernet_keys,
    env_header,
    env_hosts,
    env_int,
    env_origins,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("SALESOPS_DEBUG", False)
SECRET_KEY = env_str("SALESOPS_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("SALESOPS_REQUIRE_SECRET_KEY", False):
        raise ConfigError("SALESOPS_SECRET_KEY must be set")
    # A per-checkout key so a laptop install works with no env; production sets the variable.
    _key_file = BASE_DIR / ".secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env_hosts("SALESOPS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_origins("SALESOPS_CSRF_TRUSTED_ORIGINS", [])
SALESOPS_BASE_URL = env_str("SALESOPS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# HTTPS. The defaults suit the embedded run on http://127.0.0.1; deploy/production.env sets them
# all for a site behind a TLS-terminating proxy (README "Production").
_proxy_header = env_header("SALESOPS_PROXY_SSL_HEADER")
# Trust the header only when the proxy always overwrites it: a client could send it otherwise.
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None
SECURE_SSL_REDIRECT = env_bool("SALESOPS_SECURE_SSL_REDIRECT", False)
# Load balancers probe /healthz over plain HTTP inside the network: a redirect is not "up".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# One switch for both cookies: a site that sends one over plain HTTP leaks the other as well.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SALESOPS_SECURE_COOKIES", False)
# HSTS is remembered by browsers for its whole max-age: off until production opts in.
SECURE_HSTS_SECONDS = env_int("SALESOPS_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SALESOPS_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SALESOPS_HSTS_PRELOAD", False)

# The admin and DRF's browsable API load scripts only from files, so scripts are 'self' only.
# Styles allow inline: our admin pages carry a few style attributes and <style> blocks, and a
# style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",  # API tokens, stored hashed (salesops.services.api_tokens)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here (CSP: self only)
    "django_q",
    "connectors.local",
    "salesops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files answer here, before sessions and auth: no database work for a stylesheet.
    # WhiteNoise, serving the apps' folders when STATIC_ROOT was never collected (static_files.py).
    "salesops.static_files.StaticFilesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "salesops.urls"
WSGI_APPLICATION = "salesops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_sqlite_path = env_str("SALESOPS_SQLITE_PATH", str(BASE_DIR / "salesops.sqlite3"))
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_path,
            # Keep connections across worker tasks: opening one runs the PRAGMAs below.
            "CONN_MAX_AGE": 60,
            # WAL lets the worker write while the web reads; the busy timeout makes a writer
            # wait for the lock instead of failing with "database is locked".
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
                ),
            },
            # A file, not :memory:, so a real qcluster subprocess can share the test database.
            "TEST": {
                "NAME": env_str(
                    "SALESOPS_SQLITE_TEST_PATH", str(BASE_DIR / "test-salesops.sqlite3")
                )
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# `collectstatic` fills it (the demo command does so before serving); WhiteNoise serves it.
STATIC_ROOT = Path(env_str("SALESOPS_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, not hashed ("Manifest"): a template naming a file that was not collected
    # must not answer 500; the admin's few files do not need far-future caching.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REDIS_URL = env_str("REDIS_URL")
# The queue (README "Queue settings" has the reasoning). Our rows, not the broker, decide what
# is done: runs are claimed with a conditional UPDATE and a sweeper (every minute) takes back
# what a dead worker or a lost task left, so django-q2 only has to deliver at least once.
# - timeout: a task running longer is interrupted; its run is released to the sweeper.
# - retry: the ORM broker's redelivery of an unacknowledged task; above timeout, so a running
#   task is never handed to a second worker. Redis never redelivers (BLPOP has no ack).
# - bulk / queue_limit: what a cluster takes ahead of its workers; a killed cluster takes that
#   with it (ORM: locked until retry; Redis: gone), so it stays at one task per worker.
# - ack_failures: a failed task is not redelivered by the broker; the sweeper and
#   SALESOPS_Q_MAX_ATTEMPTS (counted in Run.attempts) decide whether its run goes again.
_task_timeout = env_int("SALESOPS_TASK_TIMEOUT", 300, minimum=2)
_workers = env_int("SALESOPS_Q_WORKERS", 2, minimum=1)
_max_attempts = env_int("SALESOPS_Q_MAX_ATTEMPTS", 3, minimum=1)
Q_CLUSTER: dict[str, object] = {
    "name": env_str("SALESOPS_Q_NAME", "salesops"),
    "workers": _workers,
    "timeout": _task_timeout,
    "retry": _task_timeout + 60,
    "max_attempts": _max_attempts,
    "queue_limit": _workers,
    "bulk": 1,
    # Run tasks skip result rows altogether (save=False, salesops/tasks_enqueue.py: the Run row
    # holds the outcome). The rest keep their last 200 successes for the admin: with a limit,
    # django-q2's monitor locks and loads every kept success row per finished task, so the
    # limit is that cost (the reasoning: salesops/tasks_enqueue.py's docstring).
    "save_limit": 200,
    "recycle": 2000,  # each recycled worker compiles the SOPs again
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "log_level": env_str("SALESOPS_LOG_LEVEL", "WARNING"),
}
# Agent runs wait on a model for seconds to minutes: they may get their own cluster with a
# longer timeout and more (I/O-bound) workers. Start it with `Q_CLUSTER_NAME=agents
# manage.py qcluster` and set SALESOPS_RUN_CLUSTER=agents to send runs there.
_agent_timeout = env_int("SALESOPS_AGENT_TASK_TIMEOUT", 900, minimum=2)
_agent_workers = env_int("SALESOPS_AGENT_WORKERS", 8, minimum=1)
Q_CLUSTER["ALT_CLUSTERS"] = {
    "agents": {
        "timeout": _agent_timeout,
        "retry": _agent_timeout + 120,
        "workers": _agent_workers,
        "queue_limit": _agent_workers,
        "max_attempts": _max_attempts,
    }
}
RUN_CLUSTER = env_str("SALESOPS_RUN_CLUSTER", "")
if RUN_CLUSTER not in ("", "agents"):
    raise ConfigError(f"SALESOPS_RUN_CLUSTER={RUN_CLUSTER!r}: use 'agents' or leave it empty")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # One Redis client per process for every get_broker() call (salesops/services/queue.py).
    Q_CLUSTER["broker_class"] = "salesops.services.queue.Redis"
else:
    Q_CLUSTER["orm"] = "default"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "salesops.api.auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "salesops.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "salesops.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "salesops API",
    "DESCRIPTION": "Runs, escalations and SOPs of salesops, for integrations. Errors are "
    '{"detail": "...", "errors": {"field": ["message"]}}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


def _anthropic_model() -> str:
    """SALESOPS_MODEL, checked at start-up against the price table (or a known model family)."""
    from salesops.agents import pricing

    model = env_str("SALESOPS_MODEL").strip() or pricing.DEFAULT_MODEL
    name = model.lower()
    # A dated snapshot or a newer model of a known family is accepted and priced at the
    # family's top price (pricing.price_for); anything else is a typo, refused before any run.
    family = name.startswith("claude-") and any(f in name for f in ("opus", "sonnet", "haiku"))
    if pricing.price_for(model)[1] or family:
        return model
    raise ConfigError(
        f"SALESOPS_MODEL={model!r} is not a Claude model we can price; use one of "
        f"{', '.join(pricing.PRICES)} (or a dated snapshot / newer opus, sonnet or haiku model)"
    )


# One namespaced settings dict for plug-ins, loaded lazily by dotted path.
SALESOPS: dict[str, Any] = {
    # The connection (slug) used when none is named: manual runs, trials, batch runs.
    "CONNECTION": env_str("SALESOPS_CONNECTION", "local"),
    # Fernet keys for credentials at rest, newest first (services/credentials.py).
    "ENCRYPTION_KEYS": env_fernet_keys("SALESOPS_ENCRYPTION_KEYS"),
    # Connections the environment defines (HUBSPOT_*, SALESFORCE_*, the local webhook secret),
    # created or updated at start-up by services/connections_env.py.
    "ENV_CONNECTIONS": env_connections(),
    "CONNECTORS": {
        "local": "connectors.local.connector.LocalConnector",
        "hubspot": "connectors.hubspot.connector.HubSpotConnector",
        "salesforce": "connectors.salesforce.connector.SalesforceConnector",
    },
    "CONNECTOR_OPTIONS": {
        # The local CRM's own webhook is HMAC-signed with this secret (empty: webhook disabled).
        "local": {"webhook_secret": env_str("SALESOPS_LOCAL_WEBHOOK_SECRET")},
    },
    "ENGINE": env_str("SALESOPS_ENGINE", "anthropic" if env_str("ANTHROPIC_API_KEY") else "rules"),
    # The engine that runs judge (rubric) checks; "" means the run's engine when it can judge.
    # With none, a model's result escalates on a judge check, the rules engine's skips it.
    "JUDGE_ENGINE": env_str(
        "SALESOPS_JUDGE_ENGINE", "anthropic" if env_str("ANTHROPIC_API_KEY") else ""
    ),
    "ENGINES": {
        "rules": "salesops.agents.rules.RulesEngine",
        "anthropic": "salesops.agents.anthropic_engine.AnthropicEngine",
    },
    # The anthropic engine's constructor options (services/plugins.py); the rules engine has none.
    "ANTHROPIC": {
        "API_KEY": env_str("ANTHROPIC_API_KEY") or None,
        "BASE_URL": env_str("ANTHROPIC_BASE_URL") or None,
        "MODEL": _anthropic_model(),
        # Per HTTP call, not per run; the SDK retries 408/409/429/5xx/529 and timeouts.
        "TIMEOUT": env_int("SALESOPS_ANTHROPIC_TIMEOUT", 60, minimum=1),
        "MAX_RETRIES": env_int("SALESOPS_ANTHROPIC_MAX_RETRIES", 3, minimum=0),
    },
    "LIBRARY_DIR": env_str("SALESOPS_LIBRARY_DIR", str(BASE_DIR / "sop_library")),
    # A run left `running` or `writing` longer than this (its lease) by a dead worker is
    # reclaimed by the sweeper, at most MAX_ATTEMPTS claims in all; then it fails.
    "RUN_TIMEOUT": _agent_timeout if RUN_CLUSTER else _task_timeout,
    "MAX_ATTEMPTS": _max_attempts,
    # A queued run this old whose task is not waiting in the broker is enqueued again.
    "REQUEUE_AFTER": env_int("SALESOPS_REQUEUE_AFTER", 60, minimum=1),
    "RUN_CLUSTER": RUN_CLUSTER or None,
    # A retriable CRM error (429, 5xx, timeout, dropped connection) during a run's read, its
    # write-back or an approval's write re-queues that work after the vendor's Retry-After, or
    # after exponential backoff with jitter (BASE * 2^n seconds, at most MAX_DELAY), at most
    # CRM_MAX_RETRIES times; then the run fails with the reason (services/run_state.py).
    "CRM_MAX_RETRIES": env_int("SALESOPS_CRM_MAX_RETRIES", 5, minimum=0),
    "CRM_RETRY_BASE": env_int("SALESOPS_CRM_RETRY_BASE", 30, minimum=1),
    "CRM_RETRY_MAX_DELAY": env_int("SALESOPS_CRM_RETRY_MAX_DELAY", 900, minimum=1),
    # Seconds a CRM call waits for a token of its connection's shared rate limiter before it
    # gives up with a retriable error (services/ratelimit.py).
    "RATE_LIMIT_MAX_WAIT": env_int("SALESOPS_RATE_LIMIT_MAX_WAIT", 30, minimum=0),
    # Below this share (percent) of its daily CRM budget, a connection starts no scheduled runs.
    "DAILY_BUDGET_RESERVE": env_int("SALESOPS_DAILY_BUDGET_RESERVE", 10, minimum=0),
    # Scheduled runs on the anthropic engine may go through the Message Batches API (half price).
    "BATCH_SCHEDULED_RUNS": env_bool("SALESOPS_BATCH_SCHEDULED_RUNS", False),
    "BATCH_MIN_RUNS": env_int("SALESOPS_BATCH_MIN_RUNS", 20, minimum=1),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No handler prints a Salesforce webhook secret (it is the last segment of that URL).
    "filters": {"redact": {"()": "salesops.log_redact.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("SALESOPS_LOG_LEVEL", "WARNING")},
}
