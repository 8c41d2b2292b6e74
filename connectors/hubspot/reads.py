"""Reading HubSpot records by id: batch reads of 100 with associations v4 (`get_many`), and
the row-to-record mapping the change feed (`feed`) shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectors.base import CrmRecord, Page, RecordNotFound, RecordRef
from connectors.hubspot.feed import HISTORY_MAX, Feed
from connectors.hubspot.properties import (
    FROM_HISTORY,
    LAST_MODIFIED,
    OBJECTS,
    StageMap,
    ValueMapping,
    history_fields,
    parse_moment,
    properties_from_hubspot,
    vendor_names,
)
from connectors.hubspot.rows import history_names, hs_type_of
from connectors.record_model import RELATIONS

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient

BATCH_MAX = 100
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
        self.feed = Feed(self)

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool) -> Page:
        """One page of the change feed or backfill after `cursor` (see `feed`)."""
        return self.feed.read_page(object_type, cursor, backfill=backfill)

    # -- by id -----------------------------------------------------------------------------

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations (and property history for deals), request order."""
        hs_type = hs_type_of(object_type)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        found: dict[str, CrmRecord] = {}
        history = history_names(object_type)
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
        hs_type = hs_type_of(ref.object_type)
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
        hs_type = hs_type_of(object_type)
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
            found = self.associations(hs_type_of(object_type), ids, OBJECTS[target])
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


def sync_omitted(sync_history: bool) -> tuple[str, ...]:
    """The "object.field" names feed records leave out (`Capabilities.sync_omits`)."""
    if sync_history:
        return ()
    return tuple(sorted(f"{ot}.{name}" for ot, names in FROM_HISTORY.items() for name in names))


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
