"""Reading HubSpot records: the paged change feed (`read_page`) and batch reads (`get_many`).

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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from connectors.base import CrmRecord, Page, PermanentCRMError, RecordNotFound, RecordRef
from connectors.hubspot.cursor import Cursor, cursor_decode
from connectors.hubspot.properties import (
    FROM_HISTORY,
    LAST_MODIFIED,
    OBJECTS,
    StageMap,
    ValueMapping,
    epoch_ms,
    history_fields,
    parse_moment,
    properties_from_hubspot,
    vendor_names,
)
from connectors.record_model import RELATIONS

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient

LIST_MAX, SEARCH_MAX, BATCH_MAX = 100, 200, 100
# HubSpot caps list pages and batch reads that ask for propertiesWithHistory at 50 ("The
# maximum number of inputs supported in a batch request for property histories is 50").
HISTORY_MAX = 50
ASSOCIATIONS_MAX = 1000  # associations v4 batch read inputs
OBJECTS_API = "crm.objects"


class Reader:
    """Reads one portal's contacts, companies and deals as neutral records."""

    def __init__(
        self,
        client: HubSpotClient,
        stages: StageMap,
        *,
        account: str,
        mapping: ValueMapping,
        page_size: int,
        lookback_seconds: float,
        sync_history: bool = False,
    ) -> None:
        self.client, self.stages, self.account = client, stages, account
        self.mapping, self.page_size = mapping, page_size
        self.lookback_ms = int(lookback_seconds * 1000)
        self.sync_history = sync_history

    # -- the feed --------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool) -> Page:
        """One page of the feed after `cursor` (see the module docstring)."""
        hs_type = _hs_type(object_type)
        state = cursor_decode(cursor, object_type=object_type, account=self.account)
        if state is None:
            state = Cursor(object_type, self.account, phase="bf" if backfill else "gt")
            if backfill:
                state = replace(state, t0=self._newest_stamp(hs_type))
        if state.phase == "bf":
            records, state, more = self._backfill_step(object_type, state)
        else:
            records, state, more = self._search_step(object_type, state)
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
        hs_type = _hs_type(object_type)
        history = _history_names(object_type) if self.sync_history else []
        kwargs: dict[str, Any] = {
            "limit": min(self.page_size, HISTORY_MAX if history else LIST_MAX),
            "properties": vendor_names(object_type),
            "associations": [OBJECTS[rel] for rel, _ in RELATIONS[object_type].values()],
        }
        if history:
            kwargs["properties_with_history"] = history
        if state.after:
            kwargs["after"] = state.after
        body = self.client.call(f"{OBJECTS_API}.basic_api", "get_page", hs_type, **kwargs) or {}
        records = [
            self._record(object_type, row, history=self.sync_history)
            for row in body.get("results", [])
        ]
        head = _newest(records, state.head)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if after:
            return records, replace(state, after=str(after), head=head), True
        # Done: carry on as a change feed from when the pass began (T0), looking back.
        start = state.t0 if state.t0 is not None else head
        since = None if start is None else start - self.lookback_ms
        deletes = {"s": since, "done": False}
        feed = Cursor(object_type, self.account, "gt", since, True, head=head, deletes=deletes)
        return records, feed, False

    def _search_step(self, object_type: str, state: Cursor) -> tuple[list[CrmRecord], Cursor, bool]:
        limit = min(self.page_size, SEARCH_MAX)
        if state.phase == "tie":
            return self._tie_step(object_type, state, limit)
        filters = []
        if state.since is not None:
            op = "GTE" if state.inclusive else "GT"
            filters = [{"propertyName": LAST_MODIFIED, "operator": op, "value": str(state.since)}]
        rows = self._search(object_type, filters, LAST_MODIFIED, limit)
        records = self._feed_records(object_type, rows)
        if len(rows) < limit:  # caught up: step back for rows the index had not caught up with
            head = _newest(records, state.head)
            if head is None:
                return records, state, False
            since = max(head - self.lookback_ms, state.since or head - self.lookback_ms)
            return records, replace(state, since=since, inclusive=True, head=head), False
        # A full page: its last stamp may continue past it, so those records are left to
        # the next page (`>= T`); a page holding nothing but T goes on by id (ties).
        last = _stamp(records[-1])
        before = [r for r in records if _stamp(r) < last]
        if not before:
            tie = replace(state, phase="tie", since=last, last_id=None)
            return self._tie_step(object_type, tie, limit)
        head = _newest(before, state.head)
        return before, replace(state, since=last, inclusive=True, head=head), True

    def _tie_step(
        self, object_type: str, state: Cursor, limit: int
    ) -> tuple[list[CrmRecord], Cursor, bool]:
        assert state.since is not None
        filters = [{"propertyName": LAST_MODIFIED, "operator": "EQ", "value": str(state.since)}]
        if state.last_id is not None:
            filters.append(
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(state.last_id)}
            )
        rows = self._search(object_type, filters, "hs_object_id", limit)
        records = self._feed_records(object_type, rows)
        head = _newest(records, state.head)
        if len(rows) == limit:
            return records, replace(state, last_id=int(records[-1].id), head=head), True
        after = replace(state, phase="gt", inclusive=False, last_id=None, head=head)
        return records, after, True

    def _search(self, object_type: str, filters: list[dict], sort: str, limit: int) -> list[dict]:
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": vendor_names(object_type),
            "limit": limit,
        }
        found = self.client.call(
            f"{OBJECTS_API}.search_api", "do_search", _hs_type(object_type), body
        )
        return list((found or {}).get("results", []))

    def _feed_records(self, object_type: str, rows: list[dict]) -> list[CrmRecord]:
        """Search rows as feed records: associations, and history only with `sync_history`."""
        if self.sync_history:
            rows = self._with_history(object_type, rows)
        return self._with_associations(object_type, rows, history=self.sync_history)

    def _with_history(self, object_type: str, rows: list[dict]) -> list[dict]:
        """Search rows with their property history (which search cannot return): one batch
        read per 50 rows, for the object types that read fields from history (deals)."""
        history = _history_names(object_type)
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
            answer = self.client.call(
                f"{OBJECTS_API}.batch_api", "read", _hs_type(object_type), body
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
        found = self.client.call(f"{OBJECTS_API}.search_api", "do_search", hs_type, body) or {}
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
        body = self.client.call(f"{OBJECTS_API}.basic_api", "get_page", hs_type, **kwargs) or {}
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
            since = max(since or 0, head - self.lookback_ms)
        return deleted, {"s": since, "h": head, "done": True}, False

    # -- by id -----------------------------------------------------------------------------

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations (and property history for deals), request order."""
        hs_type = _hs_type(object_type)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        found: dict[str, CrmRecord] = {}
        history = _history_names(object_type)
        size = HISTORY_MAX if history else BATCH_MAX
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            body: dict[str, Any] = {
                "inputs": [{"id": i} for i in chunk],
                "properties": vendor_names(object_type),
            }
            if history:
                body["propertiesWithHistory"] = history
            answer = self.client.call(f"{OBJECTS_API}.batch_api", "read", hs_type, body) or {}
            rows = list(answer.get("results", []))
            for record in self._with_associations(object_type, rows):
                found[record.id] = record
        return [found[i] for i in wanted if i in found]

    def exists(self, ref: RecordRef) -> None:
        """RecordNotFound unless the record exists (one GET of its id)."""
        hs_type = _hs_type(ref.object_type)
        if not ref.id.isdigit():
            raise RecordNotFound(f"{ref} does not exist")
        self.client.call(
            f"{OBJECTS_API}.basic_api",
            "get_by_id",
            hs_type,
            ref.id,
            properties=["hs_object_id"],
            not_found=str(ref),
        )

    def raw_many(self, object_type: str, ids: Sequence[str], props: list[str]) -> dict[str, dict]:
        """HubSpot property values of records by id (missing ids left out), batch reads."""
        hs_type = _hs_type(object_type)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        out: dict[str, dict] = {}
        for start in range(0, len(wanted), BATCH_MAX):
            body = {
                "inputs": [{"id": i} for i in wanted[start : start + BATCH_MAX]],
                "properties": props,
            }
            answer = self.client.call(f"{OBJECTS_API}.batch_api", "read", hs_type, body) or {}
            for row in answer.get("results", []):
                out[str(row["id"])] = row.get("properties") or {}
        return out

    def associations(
        self, from_type: str, ids: Sequence[str], to_type: str
    ) -> dict[str, list[dict[str, Any]]]:
        """Associations v4 batch read: from id -> [{"toObjectId", "associationTypes"}]."""
        out: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), ASSOCIATIONS_MAX):
            body = {"inputs": [{"id": i} for i in ids[start : start + ASSOCIATIONS_MAX]]}
            # A 207 lists ids without associations as errors: they simply have none.
            answer = self.client.call(
                "crm.associations.v4.batch_api", "get_page", from_type, to_type, body
            )
            for row in (answer or {}).get("results", []):
                out[str(row["from"]["id"])] = list(row.get("to") or [])
        return out

    def _with_associations(
        self, object_type: str, rows: list[dict], *, history: bool = True
    ) -> list[CrmRecord]:
        """Records from search or batch rows, their associations read in one call per type
        (without `history`, the fields computed from property history left out)."""
        if not rows:
            return []
        ids = [str(r["id"]) for r in rows]
        links: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
        for relation, (target, many) in RELATIONS[object_type].items():
            found = self.associations(_hs_type(object_type), ids, OBJECTS[target])
            for i in ids:
                links[i][relation] = _linked(found.get(i, []), many)
        return [
            self._record(object_type, row, links[str(row["id"])], history=history) for row in rows
        ]

    def _record(
        self,
        object_type: str,
        row: Mapping[str, Any],
        links: dict[str, list[str]] | None = None,
        *,
        history: bool = True,
    ) -> CrmRecord:
        values = row.get("properties") or {}
        props = properties_from_hubspot(object_type, values, self.stages, self.mapping)
        if history:
            props.update(history_fields(object_type, row.get("propertiesWithHistory") or {}))
        else:  # not read: absent (unknown), never None (which a selector would take as empty)
            for name in FROM_HISTORY.get(object_type, {}):
                props.pop(name, None)
        if links is None:
            links = _list_associations(object_type, row.get("associations") or {})
        modified = parse_moment(values.get(LAST_MODIFIED) or row.get("updatedAt"))
        return CrmRecord(object_type, str(row["id"]), props, modified, links)


def _hs_type(object_type: str) -> str:
    try:
        return OBJECTS[object_type]
    except KeyError:
        raise PermanentCRMError(f"unknown object type {object_type!r}") from None


def sync_omitted(sync_history: bool) -> tuple[str, ...]:
    """The "object.field" names feed records leave out (`Capabilities.sync_omits`)."""
    if sync_history:
        return ()
    return tuple(sorted(f"{ot}.{name}" for ot, names in FROM_HISTORY.items() for name in names))


def _history_names(object_type: str) -> list[str]:
    """The HubSpot properties whose history gives neutral fields (deals: dealstage, closedate)."""
    return sorted(FROM_HISTORY.get(object_type, {}).values())


def _stamp(record: CrmRecord) -> int:
    assert record.last_modified is not None
    return epoch_ms(record.last_modified)


def _newest(records: Sequence[CrmRecord], head: int | None) -> int | None:
    stamps = [_stamp(r) for r in records if r.last_modified is not None]
    if head is not None:
        stamps.append(head)
    return max(stamps) if stamps else None


def _linked(rows: list[dict[str, Any]], many: bool) -> list[str]:
    """Associated ids; for a to-one relation the Primary one (else the lowest id)."""
    ids = sorted({str(r["toObjectId"]) for r in rows}, key=int)
    if many or len(ids) <= 1:
        return ids
    primary = [
        str(r["toObjectId"])
        for r in rows
        if any(t.get("label") == "Primary" for t in r.get("associationTypes") or [])
    ]
    return primary[:1] or ids[:1]


def _list_associations(object_type: str, found: Mapping[str, Any]) -> dict[str, list[str]]:
    # The list endpoint's v3 shape: {"companies": {"results": [{"id", "type"}]}}.
    out: dict[str, list[str]] = {}
    for relation, (target, many) in RELATIONS[object_type].items():
        rows = (found.get(OBJECTS[target]) or {}).get("results") or []
        ids = sorted({str(r["id"]) for r in rows}, key=int)
        primary = [str(r["id"]) for r in rows if not str(r.get("type", "")).endswith("unlabeled")]
        out[relation] = ids if many or len(ids) <= 1 else (primary[:1] or ids[:1])
    return out
