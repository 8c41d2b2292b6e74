"""Typed readers for deployment settings from the environment. They fail loudly on bad values.

Each `NAME` may also be given as `NAME_FILE` (a path whose contents are the value), for secrets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# ALLOWED_HOSTS entries: a name or address, `.example.com` for subdomains, `*`; never a scheme,
# path or port, which Django would silently never match.
_HOST = re.compile(r"\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\]")
# CSRF_TRUSTED_ORIGINS entries: scheme, host (`*.` allowed) and optional port; no path.
_ORIGIN = re.compile(
    r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
_HEADER = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")


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
