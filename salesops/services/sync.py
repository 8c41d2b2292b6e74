"""Sync the record mirror from a connection's CRM: page by page, resumable, one lease per
connection.

Each (connection, object type) has a `SyncState` holding the connector's opaque cursor. Every
page is stored in one transaction together with its next cursor, so a sync killed anywhere
resumes from the last stored page: nothing skipped, nothing stored twice (rows are upserted on
their unique key). Only one page is in memory at a time.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors.base import (
    OBJECT_TYPES,
    CrmConnector,
    CRMError,
    CrmRecord,
    Page,
    RetriableCRMError,
)
from salesops.models import Connection, CrmRecordMirror, SyncState
from salesops.services.connections import connection_connector

logger = logging.getLogger(__name__)

# A sync holds its connection's lease while its last page is younger than this; a sync killed
# with no chance to release it blocks the next one for at most this long (or use `force`).
LEASE = timedelta(seconds=120)
TASK_NAME = "salesops.tasks.sync_connection"

Progress = Callable[[int], None]


@dataclass
class ObjectSync:
    """What one object type's pass did: records stored, tombstones set, pages, outcome."""

    object_type: str
    records: int = 0
    deleted: int = 0
    pages: int = 0
    caught_up: bool = False
    error: str = ""
    retriable: bool = False


@dataclass
class SyncResult:
    """A sync of one connection: one entry per object type, or why it was skipped."""

    connection: str
    objects: list[ObjectSync] = field(default_factory=list)
    skipped: str = ""  # set when another sync holds the connection's lease

    @property
    def records(self) -> int:
        return sum(o.records for o in self.objects)

    @property
    def deleted(self) -> int:
        return sum(o.deleted for o in self.objects)

    @property
    def errors(self) -> list[str]:
        return [f"{o.object_type}: {o.error}" for o in self.objects if o.error]


class SyncBusy(Exception):
    """Another sync of the connection holds its lease."""


def connection_sync(
    *,
    connection: Connection,
    object_types: Sequence[str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    force: bool = False,
    max_seconds: float | None = None,
) -> SyncResult:
    """Bring the mirror of `connection` up to date, resuming each object type from its cursor.

    `full` restarts from no cursor (the connector's backfill mode when it declares one).
    A full pass upserts every record but does not delete mirror rows it did not see: only
    deletes the connector reports (`Page.deleted_ids`) become tombstones (`deleted_at`).
    A CRM error stops that object type's pass (a retriable one stops the whole sync), keeps
    the cursor and records `SyncState.last_error`; the next sync resumes there.
    `progress(n)` is called after each stored page with the records and deletes it held.
    Skipped (`SyncResult.skipped`) while another sync holds the lease, unless `force`.
    `max_seconds` ends the sync after the page that passes it (a task's time budget).

    Raises:
        ValueError: an unknown object type.
    """
    types = list(object_types or OBJECT_TYPES)
    unknown = [t for t in types if t not in OBJECT_TYPES]
    if unknown:
        raise ValueError(
            f"unknown object type {', '.join(unknown)} (known: {', '.join(OBJECT_TYPES)})"
        )
    result = SyncResult(connection=connection.slug)
    connector = connection_connector(connection)
    try:
        states = _lease_claim(connection, types, force=force)
    except SyncBusy as busy:
        result.skipped = str(busy)
        return result
    deadline = time.monotonic() + max_seconds if max_seconds else None
    # A page's ORM rows form reference cycles; left to the cyclic collector they pile up to a
    # share of the heap (peak memory grew with the record count). Freezing the heap first
    # makes the collection after each page cheap: it scans only the sync's own objects.
    gc.freeze()
    try:
        for state in states:
            outcome = _object_sync(
                connector, state, full=full, progress=progress, deadline=deadline
            )
            result.objects.append(outcome)
            if outcome.retriable or (deadline and time.monotonic() > deadline):
                break  # rate limited or out of time: the rest waits for the next sync
    finally:
        gc.unfreeze()
        SyncState.objects.filter(pk__in=[s.pk for s in states]).update(started_at=None)
    return result


def connection_sync_scheduled(*, connection_id: int) -> SyncResult | None:
    """The scheduled sync of one connection, within the task's time budget; None when the
    connection is gone or disabled."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return None
    # Stop well inside the task timeout; the next scheduled sync resumes from the cursor.
    budget = float(settings.Q_CLUSTER.get("timeout") or 300) / 2  # type: ignore[arg-type]
    result = connection_sync(connection=connection, max_seconds=budget)
    if result.skipped:
        logger.info("sync of %s skipped: %s", connection.slug, result.skipped)
    return result


def syncs_enqueue() -> int:
    """Enqueue a sync task for every enabled connection not being synced; returns how many."""
    from django_q.tasks import async_task

    queued = 0
    now = timezone.now()
    for connection in Connection.objects.filter(enabled=True):
        states = SyncState.objects.filter(connection=connection)
        if any(_lease_live(state, now) for state in states):
            continue  # the running sync carries on; its task would only skip
        async_task(TASK_NAME, connection.pk, task_name=f"sync-{connection.slug}")
        queued += 1
    return queued


def sync_states(connection: Connection) -> list[SyncState]:
    """The connection's sync states, one per object type it has synced."""
    return list(SyncState.objects.filter(connection=connection).order_by("object_type"))


def mirror_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """Record properties as JSON-safe values: dates and times as ISO strings."""
    return {str(name): _plain(value) for name, value in properties.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


# -- lease -----------------------------------------------------------------------------------


def _lease_live(state: SyncState, now: datetime) -> bool:
    if state.started_at is None:
        return False
    beat = max(state.started_at, state.last_page_at or state.started_at)
    return now - beat < LEASE


def _lease_claim(connection: Connection, types: list[str], *, force: bool) -> list[SyncState]:
    """Claim the connection's sync lease for `types`: their states, with started_at set."""
    now = timezone.now()
    with transaction.atomic():
        # The connection row lock serialises claims (SQLite: the IMMEDIATE transaction does).
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        existing = {s.object_type: s for s in SyncState.objects.filter(connection=connection)}
        busy = [s for s in existing.values() if _lease_live(s, now)]
        if busy and not force:
            held = busy[0]
            raise SyncBusy(
                f"a sync of {connection.slug} is running (since {held.started_at:%H:%M:%S} UTC,"
                f" {held.object_type}); it is taken over {int(LEASE.total_seconds())} s after"
                " its last page, or force it"
            )
        states = []
        for object_type in types:
            state = existing.get(object_type) or SyncState(
                connection=connection, object_type=object_type
            )
            state.started_at = now
            state.save()
            states.append(state)
    return states


# -- one object type -------------------------------------------------------------------------


def _object_sync(
    connector: CrmConnector,
    state: SyncState,
    *,
    full: bool,
    progress: Progress | None,
    deadline: float | None,
) -> ObjectSync:
    outcome = ObjectSync(state.object_type)
    if full or not state.cursor:
        # From the start: the connector's cheaper full read where it has one. A backfill
        # pass's last cursor continues as a change-feed cursor (the connector's contract).
        state.cursor = ""
        state.backfill = connector.capabilities.backfill
        state.save(update_fields=["cursor", "backfill"])
    while True:
        try:
            page = connector.read_page(
                state.object_type, state.cursor or None, backfill=state.backfill
            )
        except CRMError as exc:
            outcome.error = str(exc) or type(exc).__name__
            outcome.retriable = isinstance(exc, RetriableCRMError)
            kind = "retriable" if outcome.retriable else "permanent"
            state.last_error = f"{timezone.now():%Y-%m-%d %H:%M:%S} {kind}: {outcome.error}"
            state.save(update_fields=["last_error"])
            logger.warning("sync of %s stopped: %s", state, state.last_error)
            return outcome
        records, deleted = _page_store(state, page)
        reported, more = len(page.deleted_ids), page.has_more
        del page  # before collecting: the page's rows are the garbage
        gc.collect()
        outcome.pages += 1
        outcome.records += records
        outcome.deleted += deleted
        if progress is not None:
            progress(records + reported)
        if not more:
            outcome.caught_up = True
            return outcome
        if deadline is not None and time.monotonic() > deadline:
            return outcome


def _page_store(state: SyncState, page: Page) -> tuple[int, int]:
    """Store one page and its next cursor in one transaction: (records, new tombstones)."""
    now = timezone.now()
    with transaction.atomic():
        rows = _mirror_rows(state, _last_per_id(page.records))
        if rows:
            CrmRecordMirror.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["connection", "object_type", "record_id"],
                update_fields=["properties", "last_modified", "synced_at", "deleted_at"],
            )
        deleted = 0
        if page.deleted_ids:
            deleted = CrmRecordMirror.objects.filter(
                connection_id=state.connection_id,
                object_type=state.object_type,
                record_id__in=list(page.deleted_ids),
                deleted_at__isnull=True,
            ).update(deleted_at=now)
        state.cursor = page.next_cursor
        state.backfill = state.backfill and page.has_more
        state.last_page_at = now
        state.records_synced += len(rows)
        state.records_deleted += deleted
        fields = ["cursor", "backfill", "last_page_at", "records_synced", "records_deleted"]
        if not page.has_more:
            state.finished_at = now
            state.last_error = ""
            fields += ["finished_at", "last_error"]
        state.save(update_fields=fields)
    return len(rows), deleted


def _last_per_id(records: Iterable[CrmRecord]) -> list[CrmRecord]:
    # One upsert statement may not touch a row twice (PostgreSQL refuses): keep the newest.
    return list({record.id: record for record in records}.values())


def _mirror_rows(state: SyncState, records: list[CrmRecord]) -> list[CrmRecordMirror]:
    return [
        CrmRecordMirror(
            connection_id=state.connection_id,
            object_type=state.object_type,
            record_id=record.id,
            properties=mirror_properties(record.properties),
            last_modified=record.last_modified,
            deleted_at=None,  # a record the CRM reports again is alive
        )
        for record in records
    ]
