"""Small pure helpers on HubSpot rows the by-id reader and the change feed share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import CrmRecord, PermanentCRMError
from connectors.hubspot.properties import (
    FROM_HISTORY,
    LAST_MODIFIED,
    OBJECTS,
    epoch_ms,
    parse_moment,
)


def hs_type_of(object_type: str) -> str:
    """HubSpot's object type for a neutral one (PermanentCRMError when unknown)."""
    try:
        return OBJECTS[object_type]
    except KeyError:
        raise PermanentCRMError(f"unknown object type {object_type!r}") from None


def history_names(object_type: str) -> list[str]:
    """The HubSpot properties whose history gives neutral fields (deals: dealstage, closedate)."""
    return sorted(FROM_HISTORY.get(object_type, {}).values())


def stamp(item: CrmRecord | Mapping[str, Any]) -> int:
    """The last-modified stamp (epoch ms) of a record or of a search row."""
    if isinstance(item, CrmRecord):
        moment = item.last_modified
    else:
        moment = parse_moment(
            (item.get("properties") or {}).get(LAST_MODIFIED) or item.get("updatedAt")
        )
    assert moment is not None
    return epoch_ms(moment)


def modified(item: CrmRecord | Mapping[str, Any]) -> bool:
    """True when the record or row carries a last-modified time."""
    if isinstance(item, CrmRecord):
        return item.last_modified is not None
    return bool((item.get("properties") or {}).get(LAST_MODIFIED) or item.get("updatedAt"))


def newest(records: Sequence[CrmRecord | Mapping[str, Any]], head: int | None) -> int | None:
    """The newest stamp of `records` and `head` (None when there is none)."""
    stamps = [stamp(r) for r in records if modified(r)]
    if head is not None:
        stamps.append(head)
    return max(stamps) if stamps else None
