"""The local CRM's change feed: opaque cursors, keyset pages and a look-back for late commits.

A cursor holds two keyset positions, one over records (updated_at, id) and one over
tombstones (deleted_at, pk), each with the newest stamp delivered so far (its head). Pages move
strictly forward, so ties on equal timestamps never skip or repeat a row and paging always
ends. When a feed is caught up, its position steps back to `head - lookback`: a row committed
late by a long transaction, stamped before rows already delivered, is still picked up by the
next sync (rows inside the window are read again; the caller upserts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q

from connectors.cursors import cursor_encode, cursor_feed_check, cursor_payload, cursor_refused

CURSOR_VERSION = 1


@dataclass(frozen=True)
class Position:
    """Where one feed stands: after (stamp, key), or from `stamp` inclusive when key is None."""

    stamp: datetime
    key: str | int | None


@dataclass(frozen=True)
class FeedState:
    position: Position | None = None
    head: datetime | None = None


@dataclass(frozen=True)
class Cursor:
    """The decoded cursor: which feed it belongs to and both positions."""

    object_type: str
    account: str
    records: FeedState = FeedState()
    deletes: FeedState = FeedState()

    def encode(self) -> str:
        data = {
            "t": self.object_type,
            "a": self.account,
            "r": _state_dump(self.records),
            "d": _state_dump(self.deletes),
        }
        return cursor_encode(CURSOR_VERSION, data)


def cursor_decode(text: str | None, *, object_type: str, account: str) -> Cursor:
    """The cursor `text` names, checked to belong to this feed; None or "" start afresh.

    Raises:
        PermanentCRMError: not a local cursor, or one of another object type or account.
    """
    if not text:
        return Cursor(object_type, account)
    data = cursor_payload(text, CURSOR_VERSION, vendor="local")
    try:
        cursor = Cursor(
            str(data["t"]), str(data["a"]), _state_load(data["r"]), _state_load(data["d"])
        )
    except (ValueError, KeyError, TypeError):
        raise cursor_refused(text, vendor="local") from None
    found = (cursor.object_type, cursor.account)
    cursor_feed_check(found, (object_type, account), account_word="account")
    return cursor


def keyset_page(
    qs: models.QuerySet[Any],
    stamp_field: str,
    state: FeedState,
    *,
    size: int,
    lookback: timedelta,
) -> tuple[list[Any], FeedState, bool]:
    """One page of `qs` after `state` in (stamp, pk) order: rows, the next state, more?"""
    pos = state.position
    if pos is not None:
        if pos.key is None:
            qs = qs.filter(**{f"{stamp_field}__gte": pos.stamp})
        else:
            qs = qs.filter(
                Q(**{f"{stamp_field}__gt": pos.stamp})
                | Q(**{stamp_field: pos.stamp, "pk__gt": pos.key})
            )
    rows = list(qs.order_by(stamp_field, "pk")[: size + 1])  # one more says if more remain
    more = len(rows) > size
    rows = rows[:size]
    head = state.head
    if rows:
        last = rows[-1]
        last_stamp: datetime = getattr(last, stamp_field)
        head = last_stamp if head is None else max(head, last_stamp)
        pos = Position(last_stamp, last.pk)
    if not more and head is not None:
        pos = Position(head - lookback, None)  # caught up: look back for late commits
    return rows, FeedState(pos, head), more


def _state_dump(state: FeedState) -> dict[str, Any] | None:
    if state.position is None:
        return None
    return {
        "s": state.position.stamp.isoformat(),
        "k": state.position.key,
        "h": state.head.isoformat() if state.head else None,
    }


def _state_load(data: Any) -> FeedState:
    if data is None:
        return FeedState()
    if not isinstance(data, dict):
        raise TypeError("feed state must be an object")
    stamp = datetime.fromisoformat(data["s"])
    key = data["k"]
    if stamp.tzinfo is None or not (key is None or isinstance(key, str | int)):
        raise ValueError("bad position")
    head = datetime.fromisoformat(data["h"]) if data.get("h") else None
    return FeedState(Position(stamp, key), head)
