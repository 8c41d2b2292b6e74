"""Streaming selection over the record mirror and run creation in chunks, shared by `run_sop`
and the schedule tick, so memory stays flat whatever the CRM's size (issue 13).

A selection is a generator of record ids read a page of CHUNK rows at a time; runs are created
CHUNK at a time (one `runs_create` each) and each chunk's new runs are enqueued together after
commit.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from connectors.base import RecordRef
from salesops.models import Connection, CrmRecordMirror, Run, Sop
from salesops.services.connections import connection_default
from salesops.services.runs import run_key, runs_create
from salesops.specs.model import ExpressionError
from salesops.tasks_enqueue import runs_enqueue

logger = logging.getLogger(__name__)

# Rows per database round trip and runs per insert/enqueue: big enough that per-chunk costs
# vanish, small enough that a chunk's objects are a few MB at most.
CHUNK = 1000


def mirror_document(mirror: CrmRecordMirror, *, now: datetime) -> dict[str, Any]:
    """A selector's view of a mirrored record: its properties plus the derived day counts."""
    doc: dict[str, Any] = {
        "id": mirror.record_id,
        "object": mirror.object_type,
        **mirror.properties,
    }
    last = doc.get("last_activity_at")
    doc["days_since_last_activity"] = (
        (now - datetime.fromisoformat(last)).days if isinstance(last, str) and last else None
    )
    if mirror.object_type == "deal":
        close = doc.get("close_date")
        doc["days_to_close"] = (
            (datetime.fromisoformat(close).date() - now.date()).days
            if isinstance(close, str) and close
            else None
        )
    return doc


def mirror_ids_selected(
    *, connection: Connection, object_type: str, where: Any | None, now: datetime
) -> Iterator[str]:
    """Ids of the live mirrored records of `object_type` that `where` (a compiled CEL
    expression over `record`, or None for all) selects, in id order, CHUNK rows a query.

    A record the expression cannot evaluate (a missing field, a type error) is skipped."""
    mirrors = CrmRecordMirror.objects.filter(
        connection=connection, object_type=object_type, deleted_at__isnull=True
    )
    if where is None:
        yield from (m.record_id for m in _pages(mirrors.only("record_id")))
        return
    context = {"now": now.isoformat(), "today": now.date().isoformat()}
    for mirror in _pages(mirrors.only("record_id", "object_type", "properties")):
        try:
            chosen = where.evaluate({"record": mirror_document(mirror, now=now), **context})
        except ExpressionError as exc:
            logger.debug("selector skipped %s: %s", mirror, exc)
            continue
        if chosen is True:
            yield mirror.record_id


def _pages(mirrors: QuerySet[CrmRecordMirror]) -> Iterator[CrmRecordMirror]:
    """The rows a page of CHUNK at a time, each page its own query after the last id seen.

    Not one `.iterator()` cursor: the consumer enqueues between pages, and django-q2's ORM
    broker then closes a connection older than CONN_MAX_AGE, cursor and all (a tick over
    100k contacts on SQLite died so). A page query also holds no cursor open on PostgreSQL.
    """
    page = mirrors.order_by("record_id")
    while rows := list(page[:CHUNK]):
        yield from rows
        if len(rows) < CHUNK:
            return
        page = mirrors.filter(record_id__gt=rows[-1].record_id).order_by("record_id")


@dataclass(frozen=True)
class Chunk:
    """One chunk of started runs: every run of its records (in their order) and the new ones."""

    runs: list[Run]
    created: list[Run]


def runs_create_chunks(
    *,
    sop: Sop,
    record_ids: Iterable[str],
    trigger: str,
    event_key: str,
    connection: Connection | None = None,
    shadow: bool = False,
    user: Any = None,
    enqueue: bool = True,
) -> Iterator[Chunk]:
    """Create (idempotently) the runs of `record_ids` for one event, CHUNK at a time; with
    `enqueue`, each chunk's new runs are enqueued together once the chunk is committed."""
    connection = connection or connection_default()
    ids = iter(record_ids)
    while batch := list(itertools.islice(ids, CHUNK)):
        refs = [RecordRef(sop.object_type, record_id) for record_id in batch]
        keys = [
            run_key(sop=sop, connection=connection, ref=ref, event_key=event_key) for ref in refs
        ]
        # runs_create does not say which runs are new; the keys that exist before it are not.
        existing = set(
            Run.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        runs, _ = runs_create(
            sop=sop,
            refs=refs,
            trigger=trigger,
            event_key=event_key,
            shadow=shadow,
            connection=connection,
            user=user,
            enqueue=False,
        )
        created = list({r.pk: r for r in runs if r.idempotency_key not in existing}.values())
        if created and enqueue:
            new_ids = [run.pk for run in created]
            transaction.on_commit(functools.partial(runs_enqueue, new_ids, sop_id=sop.pk))
        yield Chunk(runs=runs, created=created)
