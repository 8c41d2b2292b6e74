"""Reading Salesforce records: the change feed (`read_page`) and reads by Id (`get_many`).

**The feed** is a keyset on (SystemModstamp, Id), one per sObject of the object type
(contacts: Contact *and* Lead), all in one opaque cursor bound to the object type and org:

    WHERE (SystemModstamp > :t OR (SystemModstamp = :t AND Id > :id))
    ORDER BY SystemModstamp, Id LIMIT :n

A contacts pass reads Contact to its end, then Lead (the cursor holds which sObject it is
on): every row a query returns is delivered, none re-read, and a page that ends one sObject
fills up from the next. Up to 2,000 rows a page (Salesforce's query batch); a shorter batch
is completed through `nextRecordsUrl` within the page. Caught up with every sObject, each
position steps back `lookback` seconds from the newest stamp seen (the stamp has whole
seconds, and a long transaction commits a row stamped before rows already read) and the next
sync starts a new pass.

A converted Lead is a tombstone of the Lead Id in `deleted_ids` (its Contact comes through
the Contact feed); deletes (and merges) come from `queryAll` on `IsDeleted = true` after the
deletes watermark, once per sync, on the page that catches up.

**Feed records** carry what their rows hold (Contact/Opportunity -> company by AccountId)
plus, for deals, the history fields (one query per page, `history`). A Contact's
`lifecycle_stage` needs its deals and is left out of feed records (absent: `SYNC_OMITS`);
`get_many` has it, and every association, in a few queries per 200 Ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.base import CrmRecord, Page, PermanentCRMError
from connectors.cursors import cursor_encode, cursor_feed_check, cursor_payload, cursor_refused
from connectors.salesforce.fields import (
    LAST_MODIFIED,
    SOBJECTS,
    ValueMapping,
    record_from_row,
    select_fields,
    sobject_of,
)
from connectors.salesforce.history import IN_MAX, history_by_ids, history_by_window
from connectors.salesforce.soql import SfId, bind, chunks, ids_valid, names
from connectors.salesforce.values import parse_moment, stage_to_neutral
from connectors.vocabulary import stage_status

if TYPE_CHECKING:
    from connectors.salesforce.client import SalesforceClient

CURSOR_VERSION = 1
QUERY_MAX = 2000
SYNC_OMITS: tuple[str, ...] = ("contact.lifecycle_stage",)
_AFTER = "(SystemModstamp > :t OR (SystemModstamp = :t AND Id > :id))"


@dataclass(frozen=True)
class FeedCursor:
    """Where a feed stands: per sObject the last (stamp, Id) delivered (Id "" = every row at
    that stamp still to come), the newest stamp seen and the deletes watermark."""

    object_type: str
    account: str
    pos: dict[str, list[str]] = field(default_factory=dict)  # sObject -> [iso stamp, Id]
    head: str | None = None
    deletes: str | None = None
    on: int = 0  # the index (in SOBJECTS) of the sObject this pass is reading

    def encode(self) -> str:
        data: dict[str, Any] = {"o": self.object_type, "a": self.account, "p": self.pos}
        data.update({k: v for k, v in (("h", self.head), ("d", self.deletes), ("s", self.on)) if v})
        return cursor_encode(CURSOR_VERSION, data)


def cursor_decode(text: str | None, *, object_type: str, account: str) -> FeedCursor:
    """The cursor `text` holds (a fresh one for None), checked to be ours and this feed's."""
    if not text:
        return FeedCursor(object_type, account)
    data = cursor_payload(text, CURSOR_VERSION, vendor="Salesforce")
    try:
        pos = data.get("p") or {}
        if not isinstance(pos, dict) or any(
            k not in SOBJECTS.get(str(data["o"]), ()) or not _position_ok(v) for k, v in pos.items()
        ):
            raise ValueError("bad position")
        on = data.get("s", 0)
        if not isinstance(on, int) or not 0 <= on < len(SOBJECTS[str(data["o"])]):
            raise ValueError("bad sObject index")
        cursor = FeedCursor(str(data["o"]), str(data["a"]), pos, data.get("h"), data.get("d"), on)
        for stamp in (cursor.head, cursor.deletes):
            if stamp is not None:
                _moment(stamp)
    except (KeyError, TypeError, ValueError):
        raise cursor_refused(text, vendor="Salesforce") from None
    cursor_feed_check(
        (cursor.object_type, cursor.account), (object_type, account), account_word="org"
    )
    return cursor


def _position_ok(value: Any) -> bool:
    if not (isinstance(value, list) and len(value) == 2):
        return False
    _moment(value[0])
    return value[1] == "" or bool(ids_valid([value[1]]))


def _moment(text: str) -> datetime:
    moment = parse_moment(text)
    if moment is None:
        raise ValueError("no stamp")
    return moment


class Reader:
    """Reads one org's contacts (Contact and Lead), companies and deals as neutral records."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        account: str | None = None,
        mapping: ValueMapping | None = None,
        page_size: int = QUERY_MAX,
        lookback_seconds: float = 1.0,
    ) -> None:
        self.client, self._account = client, str(account or "")
        self.mapping: ValueMapping = mapping or {}
        self.page_size = max(1, min(page_size, QUERY_MAX))
        self.lookback = timedelta(seconds=lookback_seconds)
        self._select: dict[str, list[str]] = {}  # sObject -> fields it has (after a describe)

    @property
    def account(self) -> str:
        """The org id cursors are bound to: the configured one, else the session's."""
        if not self._account:
            self._account = str(self.client.org_id)
        return self._account

    # -- queries ---------------------------------------------------------------------------

    def query(
        self, soql: str, *, include_deleted: bool = False, limit: int | None = None
    ) -> list[dict]:
        """Every row of `soql` (following nextRecordsUrl), or the first `limit` of them."""
        body = self.client.query(soql, include_deleted=include_deleted)
        rows = list(body.get("records") or [])
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            if limit is not None and len(rows) >= limit:
                break
            body = self.client.query_more(str(body["nextRecordsUrl"]))
            rows += body.get("records") or []
        return rows if limit is None else rows[:limit]

    def select(self, sobject: str, tail: str, **params: Any) -> list[dict]:
        """`SELECT <our fields of sobject> FROM sobject <tail>` with `params` bound. An org
        that lacks one of our custom fields (not provisioned yet) is described once and read
        without them (they read as None) instead of failing every read."""
        limit = params.pop("_limit", None)
        for attempt in range(2):
            fields = self._select.get(sobject) or select_fields(sobject, self.mapping)
            soql = bind(f"SELECT {names(fields)} FROM {sobject} {tail}", **params)
            try:
                return self.query(soql, limit=limit)
            except PermanentCRMError as exc:
                if attempt or sobject in self._select or "INVALID_FIELD" not in str(exc):
                    raise
                described = self.client.get(f"sobjects/{sobject}/describe") or {}
                have = {str(f.get("name")) for f in described.get("fields") or []}
                self._select[sobject] = [f for f in fields if f in have]
        return []  # pragma: no cover: the loop returns or raises

    # -- the feed --------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        """One page of the feed after `cursor` (see the module docstring). `backfill` reads
        the same way: a SOQL keyset page is already the cheapest full read."""
        sobjects = _sobjects(object_type)
        state = cursor_decode(cursor, object_type=object_type, account=self.account)
        kept: list[tuple[str, dict]] = []
        pos, on, more = dict(state.pos), state.on, True
        head = _moment(state.head) if state.head else None
        while on < len(sobjects):  # one sObject to its end, then the next, filling the page
            sobject, room = sobjects[on], self.page_size - len(kept)
            rows = self._after(sobject, pos.get(sobject), room)
            kept += [(sobject, r) for r in rows]
            for row in rows:
                stamp = _moment(row[LAST_MODIFIED])
                pos[sobject] = [_iso(stamp), str(row["Id"])]
                head = stamp if head is None else max(head, stamp)
            if len(rows) >= room:
                break  # this sObject may have more: the next page goes on with it
            on += 1
        else:
            more = False
        gone = [str(r["Id"]) for s, r in kept if s == "Lead" and r.get("IsConverted")]
        records = self._feed_records(object_type, kept, set(gone))
        deletes = state.deletes
        if not more:
            on = 0  # the next sync starts a new pass
            deleted, deletes = self._deletes(sobjects, state.deletes)
            gone += [d for d in deleted if d not in gone]
            if head is not None:  # caught up: look back for rows committed late
                back = _iso(head - self.lookback)
                pos = {s: [back, ""] for s in sobjects}
        newest = _iso(head) if head else None
        out = FeedCursor(object_type, self.account, pos, newest, deletes, on)
        dropped = set(gone)
        return Page(
            records=[r for r in records if r.id not in dropped],
            deleted_ids=gone,
            next_cursor=out.encode(),
            has_more=more,
        )

    def _after(self, sobject: str, position: list[str] | None, n: int) -> list[dict]:
        order = "ORDER BY SystemModstamp, Id LIMIT :n"
        if position is None:
            return self.select(sobject, order, n=n, _limit=n)
        stamp, rid = _moment(position[0]), position[1]
        if not rid:
            return self.select(
                sobject, f"WHERE SystemModstamp >= :t {order}", t=stamp, n=n, _limit=n
            )
        return self.select(sobject, f"WHERE {_AFTER} {order}", t=stamp, id=SfId(rid), n=n, _limit=n)

    def _feed_records(
        self, object_type: str, rows: list[tuple[str, dict]], skip: set[str]
    ) -> list[CrmRecord]:
        live = [(s, r) for s, r in rows if str(r["Id"]) not in skip]
        if object_type == "deal" and live:
            stamps = [_moment(r[LAST_MODIFIED]) for _s, r in live]
            ids = [str(r["Id"]) for _s, r in live]
            if min(stamps) == max(stamps):  # one stamp: the window could be a huge tie
                history = history_by_ids(self.query, ids)
            else:
                history = history_by_window(self.query, ids, min(stamps), max(stamps))
            live = [(s, {**r, "_history": history.get(str(r["Id"]), {})}) for s, r in live]
        return [record_from_row(s, r, self.mapping) for s, r in live]

    def _deletes(self, sobjects: Sequence[str], since: str | None) -> tuple[list[str], str | None]:
        """Ids deleted (recycle bin) after the watermark, and the next watermark."""
        deleted: list[str] = []
        newest: datetime | None = _moment(since) if since else None
        for sobject in sobjects:
            base = f"SELECT Id, SystemModstamp FROM {sobject} WHERE IsDeleted = true"
            soql = bind(f"{base} AND SystemModstamp > :t", t=_moment(since)) if since else base
            for row in self.query(soql, include_deleted=True):
                deleted.append(str(row["Id"]))
                stamp = _moment(row[LAST_MODIFIED])
                newest = stamp if newest is None else max(newest, stamp)
        if newest is None:
            return deleted, since
        watermark = newest - self.lookback
        if since:
            watermark = max(watermark, _moment(since))
        return deleted, _iso(watermark)

    # -- by id -----------------------------------------------------------------------------

    def rows_by_id(self, sobject: str, ids: Sequence[str]) -> list[dict]:
        """Live rows of `sobject` by Id (200 Ids a query), invalid Ids dropped."""
        out: list[dict] = []
        for chunk in chunks(ids_valid(ids), IN_MAX):
            out += self.select(sobject, "WHERE Id IN :ids", ids=chunk)
        return out

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations, in request order; missing ids left out. A
        converted Lead's id answers with its Contact."""
        sobjects = _sobjects(object_type)
        wanted = [str(i) for i in dict.fromkeys(ids)]
        by_type: dict[str, list[str]] = {s: [] for s in sobjects}
        for rid in wanted:
            sobject = sobject_of(rid)
            if sobject in by_type:
                by_type[sobject].append(rid)
        rows: dict[str, tuple[str, dict]] = {}
        follow: dict[str, str] = {}  # converted Lead Id -> Contact Id
        if "Lead" in by_type:
            for row in self.rows_by_id("Lead", by_type["Lead"]):
                if row.get("IsConverted") and row.get("ConvertedContactId"):
                    follow[str(row["Id"])] = str(row["ConvertedContactId"])
                else:
                    rows[str(row["Id"])] = ("Lead", row)
        for sobject in sobjects:
            if sobject == "Lead":
                continue
            more = by_type[sobject] + (list(follow.values()) if sobject == "Contact" else [])
            for row in self.rows_by_id(sobject, list(dict.fromkeys(more))):
                rows[str(row["Id"])] = (sobject, row)
        records = self._linked(object_type, rows)
        out: list[CrmRecord] = []
        for rid in wanted:
            record = records.get(follow.get(rid, rid))
            if record is not None and record not in out:
                out.append(record)
        return out

    def _linked(self, object_type: str, rows: dict[str, tuple[str, dict]]) -> dict[str, CrmRecord]:
        """Records with every association of `record_model.RELATIONS` read (a query each)."""
        if not rows:
            return {}
        ids = {s: [i for i, (so, _r) in rows.items() if so == s] for s in _sobjects(object_type)}
        extra: dict[str, dict[str, Any]] = {i: {} for i in rows}
        links: dict[str, dict[str, list[str]]] = {i: {} for i in rows}
        if object_type == "contact":
            roles = self._roles("ContactId", ids.get("Contact", []))
            accounts = self._accounts_named(
                [
                    str(r.get("Company"))
                    for s, r in rows.values()
                    if s == "Lead" and r.get("Company")
                ]
            )
            for rid in rows:
                deals = roles.get(rid, {})
                links[rid]["deals"] = sorted(deals)
                sobject, row = rows[rid]
                if sobject == "Lead" and accounts.get(str(row.get("Company"))):
                    links[rid]["company"] = [accounts[str(row["Company"])]]
                if rows[rid][0] == "Contact":
                    extra[rid]["_deal_states"] = sorted(deals.values())
        elif object_type == "company":
            account_ids = ids["Account"]
            for target, relation in (("Contact", "contacts"), ("Opportunity", "deals")):
                children = self._children(target, account_ids)
                for rid in rows:
                    links[rid][relation] = children.get(rid, [])
        else:
            opp_ids = ids["Opportunity"]
            roles = self._roles("OpportunityId", opp_ids)
            history = history_by_ids(self.query, opp_ids)
            for rid in rows:
                links[rid]["contacts"] = sorted(roles.get(rid, {}))
                extra[rid]["_history"] = history.get(rid, {})
        out: dict[str, CrmRecord] = {}
        for rid, (sobject, row) in rows.items():
            record = record_from_row(sobject, {**row, **extra[rid]}, self.mapping)
            record.associations.update(links[rid])
            out[rid] = record
        return out

    def _accounts_named(self, names: list[str]) -> dict[str, str]:
        """Lead Company -> the Id of the one Account of that name (Lead-to-Account matching:
        a Lead holds its company as text; a name two Accounts share matches neither)."""
        found: dict[str, list[str]] = {}
        for chunk in chunks(sorted(set(names)), IN_MAX):
            soql = bind("SELECT Id, Name FROM Account WHERE Name IN :names", names=chunk)
            for row in self.query(soql):
                found.setdefault(str(row["Name"]), []).append(str(row["Id"]))
        return {name: ids[0] for name, ids in found.items() if len(ids) == 1}

    def _roles(self, by: str, ids: list[str]) -> dict[str, dict[str, str]]:
        """OpportunityContactRole links: `by` Id -> {other Id: the deal's stage status}."""
        other = "OpportunityId" if by == "ContactId" else "ContactId"
        select = (
            "ContactId, OpportunityId, Opportunity.StageName, Opportunity.IsClosed,"
            " Opportunity.IsWon"
        )
        out: dict[str, dict[str, str]] = {}
        for chunk in chunks(ids_valid(ids), IN_MAX):
            soql = bind(
                f"SELECT {select} FROM OpportunityContactRole WHERE {by} IN :ids", ids=chunk
            )
            for row in self.query(soql):
                opp = row.get("Opportunity") or {}
                stage = stage_to_neutral(
                    opp.get("StageName"),
                    self.mapping,
                    closed=opp.get("IsClosed"),
                    won=opp.get("IsWon"),
                )
                key, value = str(row[by]), str(row[other])
                out.setdefault(key, {})[value] = stage_status(stage) or "open"
        return out

    def _children(self, sobject: str, account_ids: list[str]) -> dict[str, list[str]]:
        """Account Id -> Ids of its `sobject` rows (Contacts, Opportunities)."""
        out: dict[str, list[str]] = {}
        for chunk in chunks(ids_valid(account_ids), IN_MAX):
            soql = bind(f"SELECT Id, AccountId FROM {sobject} WHERE AccountId IN :ids", ids=chunk)
            for row in self.query(soql):
                out.setdefault(str(row["AccountId"]), []).append(str(row["Id"]))
        return {k: sorted(v) for k, v in out.items()}


def _sobjects(object_type: str) -> tuple[str, ...]:
    try:
        return SOBJECTS[object_type]
    except KeyError:
        raise PermanentCRMError(f"unknown object type {object_type!r}") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat()
