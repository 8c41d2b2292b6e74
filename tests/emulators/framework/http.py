"""Requests, responses and the router of the emulator framework."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

_UNSET: Any = object()


@dataclass
class Request:
    """One parsed request, as handlers and hooks see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    endpoint: str = ""  # the matched route's key, "POST /v1/messages/batches/{id}", or method+path
    params: dict[str, str] = field(default_factory=dict)
    _json: Any = field(default=_UNSET, repr=False)

    @classmethod
    def parse(cls, method: str, target: str, headers: dict[str, str], raw: bytes) -> Request:
        """Build a request from the request line's target, headers and body bytes."""
        path, _, qs = target.partition("?")
        return cls(method, path, parse_qs(qs, keep_blank_values=True), headers, raw)

    @property
    def json(self) -> Any:
        """The body parsed as JSON; None when empty or not valid JSON (see `bad_json`)."""
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.raw) if self.raw else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def bad_json(self) -> bool:
        """A body was sent and it is not JSON."""
        return bool(self.raw) and self.json is None

    @property
    def bearer(self) -> str:
        """The `Authorization: Bearer` token, or ""."""
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth[:7].lower() == "bearer " else ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """What a handler answers; the server adds content-length."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(status, json.dumps(payload).encode(), dict(headers or {}))


Handler = Callable[[Request], Response]
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    """A method and path pattern ("/objects/{type}/{id}") bound to a handler."""

    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler

    @property
    def key(self) -> str:
        """The endpoint key used by counters and per-endpoint faults."""
        return f"{self.method} {self.pattern}"


class Router:
    """Method + path pattern -> handler; `{name}` matches one path segment."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> Route:
        """Register a handler; earlier routes win when several match."""
        parts = _PARAM.split(pattern)
        # split() alternates literal text and parameter names.
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)
        )
        route = Route(method.upper(), pattern, re.compile(f"^{regex}/?$"), handler)
        self.routes.append(route)
        return route

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of `add`."""

        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, path known under another method) for a request."""
        other_method = False
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict(), False
            other_method = True
        return None, {}, other_method
