"""Deal fields from OpportunityFieldHistory: `stage_entered_at` and `close_date_changes`.

One query covers many opportunities: by an Id list (`get_many`, 200 Ids a query) or, for a
feed page, by the page's SystemModstamp window through the parent relationship
(`Opportunity.SystemModstamp`), so a page of 2,000 deals costs one history query (plus
`query_more` batches when the history rows exceed 2,000) instead of ten Id lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.salesforce.soql import SfId, bind, chunks
from connectors.salesforce.values import parse_moment

IN_MAX = 200  # Ids per IN list: the query travels in a URL (16 KB at most)
# Only changes: a deal never moved has its CreatedDate as stage_entered_at (the reader's
# fallback), which spares a "created" row per deal in every history query.
FIELDS = ("StageName", "CloseDate")
_SELECT = (
    "SELECT OpportunityId, Field, OldValue, NewValue, CreatedDate FROM OpportunityFieldHistory"
)

Query = Callable[[str], list[dict[str, Any]]]


def history_by_ids(query: Query, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Opportunity Id -> its history fields, for `ids` (one query per 200 Ids)."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks([SfId(i) for i in ids], IN_MAX):
        rows += query(
            bind(
                f"{_SELECT} WHERE OpportunityId IN :ids AND Field IN :fields",
                ids=chunk,
                fields=list(FIELDS),
            )
        )
    return history_fields(rows, ids)


def history_by_window(
    query: Query, ids: Iterable[str], first: datetime, last: datetime
) -> dict[str, dict[str, Any]]:
    """The history fields of `ids`, opportunities stamped within [first, last]: one query
    over the window (rows of other opportunities in it are dropped)."""
    soql = bind(
        f"{_SELECT} WHERE Opportunity.SystemModstamp >= :first"
        " AND Opportunity.SystemModstamp <= :last AND Field IN :fields",
        first=first,
        last=last,
        fields=list(FIELDS),
    )
    return history_fields(query(soql), ids)


def history_fields(
    rows: Iterable[Mapping[str, Any]], ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """stage_entered_at (the newest StageName change; None when it never changed) and
    close_date_changes (CloseDate changes after it was first set) per opportunity."""
    wanted = {str(i) for i in ids}
    by_opp: dict[str, list[Mapping[str, Any]]] = {i: [] for i in wanted}
    for row in rows:
        opp = str(row.get("OpportunityId") or "")
        if opp in by_opp:
            by_opp[opp].append(row)
    out: dict[str, dict[str, Any]] = {}
    for opp, found in by_opp.items():
        stages = [
            parse_moment(r.get("CreatedDate")) for r in found if r.get("Field") == "StageName"
        ]
        moments = [m for m in stages if m]
        changes = sum(
            1
            for r in found
            if r.get("Field") == "CloseDate"
            and r.get("OldValue") not in (None, "")
            and r.get("OldValue") != r.get("NewValue")
        )
        out[opp] = {
            "stage_entered_at": max(moments) if moments else None,
            "close_date_changes": changes,
        }
    return out
