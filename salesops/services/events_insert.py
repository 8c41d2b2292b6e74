"""One `INSERT ... ON CONFLICT DO NOTHING RETURNING` for a delivery's checked events.

Built straight from the neutral events, without a model instance or Django's per-value
preparation per row (that was most of a 100-event delivery's CPU): the SQL text is built once
per database vendor, and on PostgreSQL a delivery of any size is one prepared statement with
three parameters.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connections as db_connections
from django.utils import timezone

from connectors.base import CrmEvent
from salesops.models import Connection, WebhookEvent
from salesops.services.sync import mirror_properties


def events_insert(
    connection: Connection, events: Sequence[CrmEvent], using: str
) -> list[tuple[str, int]]:
    """Insert the events (unique event ids), skipping those stored before by the unique key;
    returns (event_id, pk) of the rows written now.

    The same statement on PostgreSQL and SQLite >= 3.35; any error other than a duplicate
    propagates and writes nothing (one statement).
    """
    db = db_connections[using]
    ops = db.ops
    received = ops.adapt_datetimefield_value(timezone.now())
    if db.vendor == "postgresql":
        rows = [
            {
                "e": e.event_id,
                "n": e.name,
                "o": e.record.object_type,
                "r": e.record.id,
                "p": event_payload(e),
                "t": e.occurred_at.isoformat(),
            }
            for e in events
        ]
        return _insert_postgresql(db, [connection.pk, received, json.dumps(rows)])
    params: list[Any] = []
    for e in events:
        params += [
            connection.pk,
            received,
            e.event_id,
            e.name,
            e.record.object_type,
            e.record.id,
            json.dumps(event_payload(e)),
            ops.adapt_datetimefield_value(e.occurred_at),
        ]
    with db.cursor() as cursor:
        cursor.execute(_sql_values(db.alias, len(events)), params)
        return [(event_id, pk) for event_id, pk in cursor.fetchall()]


def _insert_postgresql(db: Any, params: list[Any]) -> list[tuple[str, int]]:
    sql = _sql_unnest(db.alias)
    if db.queries_logged or db.execute_wrappers:
        # Someone watches the queries (DEBUG, a test, a profiler): through Django's cursor.
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return [(event_id, pk) for event_id, pk in cursor.fetchall()]
    # psycopg's server-side binding and a statement prepared once per database connection:
    # Django's cursor quotes every value into the SQL text in Python and PostgreSQL parses and
    # plans it again each time; together that was a third of a single-event request's CPU.
    import psycopg

    db.ensure_connection()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as raw:
        raw.execute(sql, params, prepare=True)
        return [(event_id, pk) for event_id, pk in raw.fetchall()]


def event_payload(event: CrmEvent) -> dict[str, Any]:
    """What a stored event keeps besides its columns: the change, its origin, a snapshot."""
    payload: dict[str, Any] = {
        "property": event.property,
        "value": _plain(event.value),
        "origin": event.origin,
    }
    if event.snapshot is not None:
        payload["snapshot"] = mirror_properties(dict(event.snapshot))
    return payload


def _plain(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, date):  # a datetime too: ISO text, as the mirror stores it
        return value.isoformat()
    return str(value)


# Column order of every statement: the delivery-wide values first, then one per event.
_FIXED = ("connection_id", "received_at")
_PER_EVENT = ("event_id", "name", "object_type", "record_id", "payload", "occurred_at")


def _head(alias: str) -> tuple[str, str]:
    qn = db_connections[alias].ops.quote_name
    columns = ", ".join(
        qn(c) for c in (*_FIXED, *_PER_EVENT, "processed_at", "runs_created", "skip_reason")
    )
    tail = (
        f"ON CONFLICT ({qn('connection_id')}, {qn('event_id')}) DO NOTHING "
        f"RETURNING {qn('event_id')}, {qn('id')}"
    )
    return f"INSERT INTO {qn(WebhookEvent._meta.db_table)} ({columns})", tail


@functools.lru_cache(maxsize=4)
def _sql_unnest(alias: str) -> str:
    head, tail = _head(alias)
    # One text for any delivery size, and three parameters: the events travel as one JSON
    # array that PostgreSQL unpacks in C (binding 600 values or six arrays was Python's work).
    return (
        f"{head} SELECT %s, %s, u.e, u.n, u.o, u.r, u.p, u.t, NULL, 0, '' "
        "FROM jsonb_to_recordset(%s::jsonb) "
        f"AS u(e text, n text, o text, r text, p jsonb, t timestamptz) {tail}"
    )


@functools.lru_cache(maxsize=256)
def _sql_values(alias: str, count: int) -> str:
    head, tail = _head(alias)
    row = "(" + ", ".join(["%s"] * (len(_FIXED) + len(_PER_EVENT))) + ", NULL, 0, '')"
    return f"{head} VALUES {', '.join([row] * count)} {tail}"
