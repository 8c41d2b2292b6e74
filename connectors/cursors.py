"""The one codec of opaque sync cursors: versioned JSON in URL-safe base64, bound to a feed.

Every connector's `read_page` cursor goes through here, so each says what it holds and none
re-implements the wrapping, the version check or the "is this cursor for this feed" check.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from connectors.base import PermanentCRMError


def cursor_encode(version: int, data: Mapping[str, Any]) -> str:
    """`data` (JSON-safe) as an opaque cursor of `version`."""
    raw = json.dumps({"v": version, **data}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_payload(text: str, version: int, *, vendor: str) -> dict[str, Any]:
    """The data of a cursor of `version` (without its version key).

    Raises:
        PermanentCRMError: `text` is not a cursor of this version ("not a <vendor> sync cursor").
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        data = None
    if not isinstance(data, dict) or data.pop("v", None) != version:
        raise cursor_refused(text, vendor=vendor)
    return data


def cursor_refused(text: str, *, vendor: str) -> PermanentCRMError:
    """The error for a cursor that is not ours (shown cut short: the caller has the rest)."""
    return PermanentCRMError(f"not a {vendor} sync cursor: {text[:60]!r}")


def cursor_feed_check(
    found: tuple[str, str], wanted: tuple[str, str], *, account_word: str
) -> None:
    """Refuse a cursor of another (object type, account) than the feed it is used on."""
    if found != wanted:
        raise PermanentCRMError(
            f"the cursor is for {found[0]} of {account_word} {found[1]!r}, "
            f"not {wanted[0]} of {wanted[1]!r}"
        )
