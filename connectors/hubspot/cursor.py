"""The HubSpot feed's cursor: which mode it is in, where it stands, and the deletes pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.cursors import cursor_encode, cursor_feed_check, cursor_payload, cursor_refused

CURSOR_VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """Where a feed stands. `phase`: "bf" (backfill list), "gt" (search after `since`,
    inclusive when `inclusive`) or "tie" (records stamped `since` with id > `last_id`)."""

    object_type: str
    account: str
    phase: str = "gt"
    since: int | None = None  # epoch ms
    inclusive: bool = False
    last_id: int | None = None
    after: str | None = None  # the list endpoint's paging token (backfill)
    t0: int | None = None  # newest stamp when the backfill began
    head: int | None = None  # newest stamp delivered
    deletes: dict[str, Any] = field(default_factory=dict)  # {s, after, h, done}

    def encode(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        return cursor_encode(CURSOR_VERSION, data)


def cursor_decode(text: str | None, *, object_type: str, account: str) -> Cursor | None:
    """The cursor `text` holds (None for none), checked to be ours and for this feed."""
    if not text:
        return None
    data = cursor_payload(text, CURSOR_VERSION, vendor="HubSpot")
    try:
        cursor = Cursor(**data)
        if cursor.phase not in ("bf", "gt", "tie") or not isinstance(cursor.deletes, dict):
            raise ValueError("bad phase")
    except (ValueError, TypeError):
        raise cursor_refused(text, vendor="HubSpot") from None
    found = (cursor.object_type, cursor.account)
    cursor_feed_check(found, (object_type, account), account_word="portal")
    return cursor
