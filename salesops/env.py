"""Typed readers for deployment settings from the environment. They fail loudly on bad values.

Each `NAME` may also be given as `NAME_FILE` (a path whose contents are the value), for secrets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

# ALLOWED_HOSTS entries: a name or address, `.example.com` for subdomains, `*`; never a scheme,
# path or port, which Django would silently never match.
_HOST = re.compile(r"\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\]")
# CSRF_TRUSTED_ORIGINS entries: scheme, host (`*.` allowed) and optional port; no path.
_ORIGIN = re.compile(
    r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
_HEADER = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
# HubSpot subscription tiers (their rate limits: connectors/hubspot/connector.py TIERS); kept
# here so settings load without importing the SDK.
HUBSPOT_TIERS = ("free", "starter", "professional", "enterprise")


class ConfigError(RuntimeError):
    """An environment variable is set to a value that cannot be used."""


def env_str(name: str, default: str = "") -> str:
    """A string from `NAME` or the file named by `NAME_FILE`, else `default`."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """`true/1/yes/on` or `false/0/no/off` (any case); anything else is an error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer, at least `minimum` when given."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_hosts(name: str, default: list[str]) -> list[str]:
    """Host names for ALLOWED_HOSTS, comma-separated."""
    hosts = env_list(name, default)
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise ConfigError(
                f"{name}={host!r} is not a host name (no scheme, path or port: "
                "salesops.example.com, .example.com or 127.0.0.1)"
            )
    return hosts


def env_origins(name: str, default: list[str]) -> list[str]:
    """Origins for CSRF_TRUSTED_ORIGINS, comma-separated."""
    origins = env_list(name, default)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{name}={origin!r} is not an origin (scheme and host, no path: "
                "https://salesops.example.com)"
            )
    return origins


def env_header(name: str) -> str | None:
    """An HTTP request header name, as its `request.META` key (`HTTP_X_FORWARDED_PROTO`)."""
    raw = env_str(name).strip()
    if not raw:
        return None
    if not _HEADER.fullmatch(raw):
        raise ConfigError(f"{name}={raw!r} is not an HTTP header name (e.g. X-Forwarded-Proto)")
    return "HTTP_" + raw.upper().replace("-", "_")


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys, newest first; each must be a valid key (never echoed)."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in env_str(name).split(",") if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            # The position, not the value: the value is a secret and goes to logs from here.
            raise ConfigError(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                'base64-encoded bytes; make one with `python -c "from cryptography.fernet '
                'import Fernet; print(Fernet.generate_key().decode())"`)'
            ) from None
    return keys


def env_url(name: str) -> str | None:
    """An http(s) base URL (scheme, host, optional port and path; no query), without a
    trailing slash; None when unset."""
    raw = env_str(name).strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"{name}={raw!r} is not a base URL (scheme and host, optional port and path: "
            "https://api.hubapi.com or http://127.0.0.1:8765)"
        )
    return raw.rstrip("/")


def env_choice(name: str, choices: tuple[str, ...]) -> str | None:
    """One of `choices` (any case), lower-cased; None when unset."""
    raw = env_str(name).strip()
    if not raw:
        return None
    if raw.lower() not in choices:
        raise ConfigError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw.lower()


def env_connections() -> list[dict[str, object]]:
    """The connections the environment defines (12-factor bootstrap), as plain specs.

    Each spec: kind, slug, account_id (None: leave as is) and credentials (the keys the
    environment manages; a None value removes that key). Applied at start-up by
    salesops/services/connections_env.py; an incomplete set of variables is a ConfigError.
    """
    specs: list[dict[str, object]] = []
    secret = env_str("SALESOPS_LOCAL_WEBHOOK_SECRET")
    if secret:
        specs.append(
            {
                "kind": "local",
                "slug": "local",
                "account_id": None,
                "credentials": {"webhook_secret": secret},
            }
        )
    hubspot = _env_hubspot()
    if hubspot:
        specs.append(hubspot)
    salesforce = _env_salesforce()
    if salesforce:
        specs.append(salesforce)
    return specs


def _env_slug(name: str, default: str) -> str:
    slug = env_str(name, default).strip() or default
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,50}", slug):
        raise ConfigError(f"{name}={slug!r} is not a slug (letters, digits, - and _)")
    return slug


def _env_unused(needed: str, names: tuple[str, ...]) -> None:
    given = [name for name in names if env_str(name)]
    if given:
        raise ConfigError(f"{', '.join(given)} set without {needed}")


_HUBSPOT_OPTIONAL = (
    "HUBSPOT_PORTAL_ID",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_CLIENT_ID",
    "HUBSPOT_BASE_URL",
    "HUBSPOT_TIER",
    "HUBSPOT_SYNC_HISTORY",
)


def _env_hubspot() -> dict[str, object] | None:
    """A HubSpot spec from a private app's HUBSPOT_ACCESS_TOKEN, or a public app's OAuth
    (HUBSPOT_REFRESH_TOKEN + HUBSPOT_CLIENT_ID + HUBSPOT_CLIENT_SECRET; an access token
    then optional). Base URL, tier and sync_history ride along in the (encrypted) credentials."""
    token = env_str("HUBSPOT_ACCESS_TOKEN").strip()
    refresh = env_str("HUBSPOT_REFRESH_TOKEN").strip()
    if not token and not refresh:
        _env_unused("HUBSPOT_ACCESS_TOKEN or HUBSPOT_REFRESH_TOKEN", _HUBSPOT_OPTIONAL)
        return None
    client_id = env_str("HUBSPOT_CLIENT_ID").strip()
    client_secret = env_str("HUBSPOT_CLIENT_SECRET").strip()
    if refresh:
        for name, value in (
            ("HUBSPOT_CLIENT_ID", client_id),
            ("HUBSPOT_CLIENT_SECRET", client_secret),
        ):
            if not value:
                raise ConfigError(
                    f"HUBSPOT_REFRESH_TOKEN is set but {name} is not (renewing an OAuth token "
                    "needs the app's client id and client secret)"
                )
    elif client_id:
        raise ConfigError(
            "HUBSPOT_CLIENT_ID set without HUBSPOT_REFRESH_TOKEN (a private app's access "
            "token needs no client id; OAuth needs the refresh token)"
        )
    # OAuth without a given access token: the renewed token and its expiry (stored by the
    # connector's renewals) stay the connection's across restarts; a given token replaces
    # them (its expiry unknown).
    token_keys = {} if refresh and not token else {"access_token": token, "expires_at": None}
    return {
        "kind": "hubspot",
        "slug": _env_slug("HUBSPOT_CONNECTION_SLUG", "hubspot"),
        "account_id": env_str("HUBSPOT_PORTAL_ID").strip() or None,
        "credentials": {
            **token_keys,
            "client_secret": client_secret or None,
            "refresh_token": refresh or None,
            "client_id": client_id or None,
            "base_url": env_url("HUBSPOT_BASE_URL"),
            "tier": env_choice("HUBSPOT_TIER", HUBSPOT_TIERS),
            # Unset: left as the connection has it (admin may have set it).
            "sync_history": (
                env_bool("HUBSPOT_SYNC_HISTORY") if env_str("HUBSPOT_SYNC_HISTORY") else None
            ),
        },
    }


# The ways a Salesforce connection signs in; a group given in part is an error.
_SALESFORCE_GROUPS: dict[str, tuple[str, ...]] = {
    "JWT bearer": ("SALESFORCE_CONSUMER_KEY", "SALESFORCE_USERNAME", "SALESFORCE_PRIVATE_KEY"),
    "refresh token": (
        "SALESFORCE_REFRESH_TOKEN",
        "SALESFORCE_CLIENT_ID",
        "SALESFORCE_CLIENT_SECRET",
    ),
    "session": ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"),
}
# Variable -> the connector option (credential key) it becomes.
_SALESFORCE_KEYS = {
    "SALESFORCE_CONSUMER_KEY": "consumer_key",
    "SALESFORCE_USERNAME": "username",
    "SALESFORCE_PRIVATE_KEY": "private_key",
    "SALESFORCE_REFRESH_TOKEN": "refresh_token",
    "SALESFORCE_CLIENT_ID": "client_id",
    "SALESFORCE_CLIENT_SECRET": "client_secret",
    "SALESFORCE_INSTANCE_URL": "instance_url",
    "SALESFORCE_ACCESS_TOKEN": "access_token",
    "SALESFORCE_OUTBOUND_SECRET": "outbound_secret",
    # A CA bundle (PEM file) for an org behind a TLS-inspecting proxy, or an emulator.
    "SALESFORCE_CA_CERT": "ca_cert",
}
_SALESFORCE_OPTIONAL = (
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_OUTBOUND_SECRET",
    "SALESFORCE_ORG_ID",
    "SALESFORCE_API_VERSION",
    "SALESFORCE_CA_CERT",
)
# The username + password login this connector no longer offers (Salesforce retires SOAP login).
_SALESFORCE_RETIRED = ("SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN", "SALESFORCE_DOMAIN")
_SALESFORCE_ORG = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?", re.ASCII)
_SALESFORCE_VERSION = re.compile(r"[1-9][0-9]{1,2}\.0", re.ASCII)
# The last segment of the Outbound Message URL: URL-safe, and long enough not to be guessed.
_SALESFORCE_SECRET = re.compile(r"[A-Za-z0-9_-]{24,128}", re.ASCII)


def _env_salesforce() -> dict[str, object] | None:
    """A Salesforce spec from one or more complete sign-in groups: JWT bearer
    (SALESFORCE_CONSUMER_KEY + SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY, or its _FILE),
    a refresh token (+ SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET) or a session
    (SALESFORCE_INSTANCE_URL + SALESFORCE_ACCESS_TOKEN). Every value rides along in the
    (encrypted) credentials, under the connector's option names."""
    retired = [name for name in _SALESFORCE_RETIRED if env_str(name)]
    if retired:
        raise ConfigError(
            f"{', '.join(retired)}: the username + password login is not supported; sign in "
            "with JWT bearer (SALESFORCE_CONSUMER_KEY, SALESFORCE_USERNAME, "
            "SALESFORCE_PRIVATE_KEY_FILE) or a refresh token (SALESFORCE_REFRESH_TOKEN, "
            "SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET)"
        )
    values = {name: env_str(name).strip() for name in _SALESFORCE_KEYS}
    complete = 0
    for method, group in _SALESFORCE_GROUPS.items():
        present = [name for name in group if values[name]]
        if present and len(present) < len(group):
            missing = ", ".join(name for name in group if not values[name])
            raise ConfigError(
                f"{', '.join(present)} set but {missing} not ({method} sign-in needs all of "
                f"{', '.join(group)})"
            )
        complete += bool(present)
    if not complete:
        _env_unused(
            "a Salesforce sign-in (SALESFORCE_CONSUMER_KEY, SALESFORCE_REFRESH_TOKEN or "
            "SALESFORCE_INSTANCE_URL)",
            _SALESFORCE_OPTIONAL,
        )
        return None
    org_id = env_str("SALESFORCE_ORG_ID").strip()
    if org_id and not _SALESFORCE_ORG.fullmatch(org_id):
        raise ConfigError(f"SALESFORCE_ORG_ID={org_id!r} is not a 15- or 18-character org id")
    version = env_str("SALESFORCE_API_VERSION").strip()
    if version and not _SALESFORCE_VERSION.fullmatch(version):
        raise ConfigError(f"SALESFORCE_API_VERSION={version!r} is not a version like 61.0")
    secret = values["SALESFORCE_OUTBOUND_SECRET"]
    if secret and not _SALESFORCE_SECRET.fullmatch(secret):
        # The value is a secret: say what is wrong with it, never the value.
        raise ConfigError(
            "SALESFORCE_OUTBOUND_SECRET must be 24 to 128 letters, digits, - or _ (it is a "
            'URL segment; make one with `python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"`)'
        )
    ca_cert = values["SALESFORCE_CA_CERT"]
    if ca_cert and not Path(ca_cert).is_file():
        raise ConfigError(f"SALESFORCE_CA_CERT={ca_cert!r} is not a file (a PEM CA bundle)")
    credentials: dict[str, object] = {
        key: values[name] or None for name, key in _SALESFORCE_KEYS.items()
    }
    credentials["login_url"] = env_url("SALESFORCE_LOGIN_URL")
    credentials["api_version"] = version or None
    return {
        "kind": "salesforce",
        "slug": _env_slug("SALESFORCE_CONNECTION_SLUG", "salesforce"),
        "account_id": org_id or None,
        "credentials": credentials,
    }
