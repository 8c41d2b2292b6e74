"""The HubSpot change feed (`Reader.read_page`): backfill, incremental search and deletes.

The feed has three modes, all in one opaque cursor (base64 JSON, bound to an object type and
portal):

- **backfill** (`backfill=True` from no cursor): the list endpoint, 100 per page with
  associations, paged by HubSpot's `after` (no 10,000 cap). Its first call asks search for
  the newest `hs_lastmodifieddate` (T0, in HubSpot's own clock); the pass's last cursor is an
  incremental one from T0 minus the look-back, so whatever changed while the pass ran is read.
- **incremental**: search on `hs_lastmodifieddate`, ascending, by keyset, never by offset: a
  full page ending at time T leaves its T-stamped records to the next page (`>= T`); a page
  holding nothing but T hands them to a *tie* query
  (`hs_lastmodifieddate == T AND hs_object_id > last`, sorted by id), then carries on with
  `> T`. Every query starts at offset 0, so none ever pages into the 10,000-result cap however
  large the window. Caught up, the position steps back `lookback` seconds from the newest
  stamp seen, so a record the search index had not caught up with is read by the next sync.
  One feed page is up to five searches (1,000 records), whose associations are then read in
  one associations v4 call per relation: 7 calls per ~1,000 records instead of 15.
- **property history** (deals: `stage_entered_at`, `close_date_changes`): only with
  `sync_history` (off by default; `get_many`, what a run reads, always has it). On, the
  backfill's list pages ask for it (50 per page, HubSpot's cap with history) and, since search
  cannot return it, each incremental page of deals adds one batch read with
  `propertiesWithHistory` per 50 records. Off, deals page like contacts and their feed records
  leave those two keys out (absent, not None: unknown, not empty).
- **deletes**, alongside either: the list endpoint with `archived=true`, reporting records
  archived (deleted or merged away) after the deletes watermark; one pass per sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from connectors.base import CrmRecord, Page
from connectors.hubspot.cursor import Cursor, cursor_decode
from connectors.hubspot.properties import (
    LAST_MODIFIED,
    OBJECTS,
    epoch_ms,
    parse_moment,
    vendor_names,
)
from connectors.hubspot.rows import history_names, hs_type_of, newest, stamp
from connectors.record_model import RELATIONS

if TYPE_CHECKING:
    from connectors.hubspot.reads import Reader

LIST_MAX, SEARCH_MAX = 100, 200
# A change-feed page: five searches of 200 share one associations read per relation.
FEED_MAX = 1000
# HubSpot caps list pages and batch reads that ask for propertiesWithHistory at 50 ("The
# maximum number of inputs supported in a batch request for property histories is 50").
HISTORY_MAX = 50
OBJECTS_API = "crm.objects"


class Feed:
    """The paged change feed of one portal, reading through its `Reader`."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    # -- pages --------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool) -> Page:
        """One page of the feed after `cursor` (see the module docstring)."""
        hs_type = hs_type_of(object_type)
        state = cursor_decode(cursor, object_type=object_type, account=self.reader.account)
        if state is None:
            state = Cursor(object_type, self.reader.account, phase="bf" if backfill else "gt")
            if backfill:
                state = replace(state, t0=self._newest_stamp(hs_type))
        if state.phase == "bf":
            records, state, more = self._backfill_step(object_type, state)
        else:
            records, state, more = self._search_pages(object_type, state)
        deleted: list[str] = []
        deletes = state.deletes
        if state.phase != "bf" and not deletes.get("done"):
            deleted, deletes, more_deletes = self._deletes_step(hs_type, deletes)
            more = more or more_deletes
        if not more:
            deletes = {**deletes, "done": False, "after": None}  # the next sync: a new pass
        gone = set(deleted)
        return Page(
            records=[r for r in records if r.id not in gone],
            deleted_ids=deleted,
            next_cursor=replace(state, deletes=deletes).encode(),
            has_more=more,
        )

    def _backfill_step(
        self, object_type: str, state: Cursor
    ) -> tuple[list[CrmRecord], Cursor, bool]:
        hs_type = hs_type_of(object_type)
        history = history_names(object_type) if self.reader.sync_history else []
        kwargs: dict[str, Any] = {
            "limit": min(self.reader.page_size, HISTORY_MAX if history else LIST_MAX),
            "properties": vendor_names(object_type),
            "associations": [OBJECTS[rel] for rel, _ in RELATIONS[object_type].values()],
        }
        if history:
            kwargs["properties_with_history"] = history
        if state.after:
            kwargs["after"] = state.after
        body = (
            self.reader.client.call(f"{OBJECTS_API}.basic_api", "get_page", hs_type, **kwargs) or {}
        )
        records = [
            self.reader._record(object_type, row, history=self.reader.sync_history)
            for row in body.get("results", [])
        ]
        head = newest(records, state.head)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if after:
            return records, replace(state, after=str(after), head=head), True
        # Done: carry on as a change feed from when the pass began (T0), looking back.
        start = state.t0 if state.t0 is not None else head
        since = None if start is None else start - self.reader.lookback_ms
        deletes = {"s": since, "done": False}
        feed = Cursor(
            object_type, self.reader.account, "gt", since, True, head=head, deletes=deletes
        )
        return records, feed, False

    def _search_pages(
        self, object_type: str, state: Cursor
    ) -> tuple[list[CrmRecord], Cursor, bool]:
        """Searches until the feed page is full or the feed caught up, then one associations
        read per relation for all of them: a search returns at most 200 rows but an
        associations read takes 1,000 ids, so five searches share two associations reads."""
        limit = min(self.reader.page_size, SEARCH_MAX)
        rows: dict[str, dict] = {}
        more = True
        while more and len(rows) + limit <= max(self.reader.page_size, limit):
            found, state, more = self._search_step(object_type, state, limit)
            rows.update((str(r["id"]), r) for r in found)  # a look-back re-read: once
        return self._feed_records(object_type, list(rows.values())), state, more

    def _search_step(
        self, object_type: str, state: Cursor, limit: int
    ) -> tuple[list[dict], Cursor, bool]:
        if state.phase == "tie":
            return self._tie_step(object_type, state, limit)
        filters = []
        if state.since is not None:
            op = "GTE" if state.inclusive else "GT"
            filters = [{"propertyName": LAST_MODIFIED, "operator": op, "value": str(state.since)}]
        rows = self._search(object_type, filters, LAST_MODIFIED, limit)
        if len(rows) < limit:  # caught up: step back for rows the index had not caught up with
            head = newest(rows, state.head)
            if head is None:
                return rows, state, False
            since = max(
                head - self.reader.lookback_ms, state.since or head - self.reader.lookback_ms
            )
            return rows, replace(state, since=since, inclusive=True, head=head), False
        # A full page: its last stamp may continue past it, so those records are left to
        # the next page (`>= T`); a page holding nothing but T goes on by id (ties).
        last = stamp(rows[-1])
        before = [r for r in rows if stamp(r) < last]
        if not before:
            tie = replace(state, phase="tie", since=last, last_id=None)
            return self._tie_step(object_type, tie, limit)
        head = newest(before, state.head)
        return before, replace(state, since=last, inclusive=True, head=head), True

    def _tie_step(
        self, object_type: str, state: Cursor, limit: int
    ) -> tuple[list[dict], Cursor, bool]:
        assert state.since is not None
        filters = [{"propertyName": LAST_MODIFIED, "operator": "EQ", "value": str(state.since)}]
        if state.last_id is not None:
            filters.append(
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(state.last_id)}
            )
        rows = self._search(object_type, filters, "hs_object_id", limit)
        head = newest(rows, state.head)
        if len(rows) == limit:
            return rows, replace(state, last_id=int(rows[-1]["id"]), head=head), True
        after = replace(state, phase="gt", inclusive=False, last_id=None, head=head)
        return rows, after, True

    def _search(self, object_type: str, filters: list[dict], sort: str, limit: int) -> list[dict]:
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": vendor_names(object_type),
            "limit": limit,
        }
        found = self.reader.client.call(
            f"{OBJECTS_API}.search_api", "do_search", hs_type_of(object_type), body
        )
        return list((found or {}).get("results", []))

    def _feed_records(self, object_type: str, rows: list[dict]) -> list[CrmRecord]:
        """Search rows as feed records: associations, and history only with `sync_history`."""
        if self.reader.sync_history:
            rows = self._with_history(object_type, rows)
        return self.reader._with_associations(object_type, rows, history=self.reader.sync_history)

    def _with_history(self, object_type: str, rows: list[dict]) -> list[dict]:
        """Search rows with their property history (which search cannot return): one batch
        read per 50 rows, for the object types that read fields from history (deals)."""
        history = history_names(object_type)
        if not history or not rows:
            return rows
        ids = [str(r["id"]) for r in rows]
        found: dict[str, Any] = {}
        for start in range(0, len(ids), HISTORY_MAX):
            body = {
                "inputs": [{"id": i} for i in ids[start : start + HISTORY_MAX]],
                "properties": ["hs_object_id"],
                "propertiesWithHistory": history,
            }
            answer = self.reader.client.call(
                f"{OBJECTS_API}.batch_api", "read", hs_type_of(object_type), body
            )
            for row in (answer or {}).get("results", []):
                found[str(row["id"])] = row.get("propertiesWithHistory") or {}
        # A record archived since the search has no history: its fields stay empty.
        return [{**r, "propertiesWithHistory": found.get(str(r["id"]), {})} for r in rows]

    def _newest_stamp(self, hs_type: str) -> int | None:
        body = {
            "sorts": [{"propertyName": LAST_MODIFIED, "direction": "DESCENDING"}],
            "properties": [LAST_MODIFIED],
            "limit": 1,
        }
        found = (
            self.reader.client.call(f"{OBJECTS_API}.search_api", "do_search", hs_type, body) or {}
        )
        rows = found.get("results") or []
        moment = (
            parse_moment((rows[0].get("properties") or {}).get(LAST_MODIFIED)) if rows else None
        )
        return epoch_ms(moment) if moment else None

    def _deletes_step(self, hs_type: str, state: Mapping[str, Any]) -> tuple[list[str], dict, bool]:
        kwargs: dict[str, Any] = {
            "limit": LIST_MAX,
            "archived": True,
            "properties": ["hs_object_id"],
        }
        if state.get("after"):
            kwargs["after"] = state["after"]
        body = (
            self.reader.client.call(f"{OBJECTS_API}.basic_api", "get_page", hs_type, **kwargs) or {}
        )
        since, head = state.get("s"), state.get("h")
        deleted = []
        for row in body.get("results", []):
            moment = parse_moment(row.get("archivedAt") or row.get("updatedAt"))
            stamp = epoch_ms(moment) if moment else None
            if since is None or stamp is None or stamp > since:
                deleted.append(str(row["id"]))
            if stamp is not None:
                head = stamp if head is None else max(head, stamp)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if after:
            return deleted, {**state, "after": str(after), "h": head}, True
        if head is not None:
            since = max(since or 0, head - self.reader.lookback_ms)
        return deleted, {"s": since, "h": head, "done": True}, False
