"""The API's one body parser: JSON within bounds, checked before anything can recurse."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from connectors.inputs import InputRejected, Limits, json_loads_bounded

# The longest legitimate string is an SOP's text (a few kB); escalation edits are small objects.
API_LIMITS = Limits(max_bytes=1_000_000, max_depth=32, max_string=100_000, max_int_digits=30)


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "request body too large"
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """JSONParser through `json_loads_bounded`: size, UTF-8, depth, then every value."""

    limits = API_LIMITS

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = self.limits.max_bytes
        # Read one byte past the limit, never the whole of a hostile body.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        try:
            return json_loads_bounded(raw, self.limits)
        except InputRejected as exc:
            if exc.status == 413:
                raise PayloadTooLarge(exc.reason) from None
            raise ParseError(exc.reason) from None
