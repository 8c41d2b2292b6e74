"""Creating runs: one per (SOP, connection, record, event), idempotently by key, and handing
them to the queue once their transaction commits."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from django.db import transaction

from connectors.base import RecordRef
from salesops.models import Connection, Run, Sop, SopVersion
from salesops.services.connections import connection_default
from salesops.tasks_enqueue import runs_enqueue


def run_key(*, sop: Sop, connection: Connection, ref: RecordRef, event_key: str) -> str:
    """One run per (SOP, connection, record, triggering event); long keys are hashed to fit."""
    key = f"{sop.name}|{connection.slug}|{ref.object_type}:{ref.id}|{event_key}"
    if len(key) > 200:
        key = f"{sop.name}|{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _version_for(sop: Sop, version: SopVersion | None, object_type: str) -> SopVersion:
    version = version or sop.published_version
    if version is None:
        raise ValueError(f"SOP {sop.name!r} has no published version")
    if object_type != sop.object_type:
        raise ValueError(f"SOP {sop.name!r} runs on {sop.object_type} records, not {object_type}")
    return version


def run_create(
    *,
    sop: Sop,
    ref: RecordRef,
    trigger: str,
    event_key: str,
    version: SopVersion | None = None,
    shadow: bool = False,
    connection: Connection | None = None,
    user: Any = None,
    enqueue: bool = True,
) -> tuple[Run, bool]:
    """Create the run for this (SOP, record, event) unless it exists; enqueue it after commit.

    Returns (run, created). A second call with the same event returns the first run untouched.
    """
    runs, new = runs_create(
        sop=sop,
        refs=[ref],
        trigger=trigger,
        event_key=event_key,
        version=version,
        shadow=shadow,
        connection=connection,
        user=user,
        enqueue=enqueue,
    )
    return runs[0], bool(new)


def runs_create(
    *,
    sop: Sop,
    refs: list[RecordRef],
    trigger: str,
    event_key: str,
    version: SopVersion | None = None,
    shadow: bool = False,
    connection: Connection | None = None,
    user: Any = None,
    enqueue: bool = True,
) -> tuple[list[Run], int]:
    """`run_create` for many records of one event, in three queries; returns (runs, new).

    Runs come back in the order of `refs`. A key created concurrently by another process may be
    enqueued twice; the claim in `run_execute` makes the second delivery a no-op.
    """
    for ref in refs:
        version = _version_for(sop, version, ref.object_type)
    connection = connection or connection_default()
    keys = [run_key(sop=sop, connection=connection, ref=ref, event_key=event_key) for ref in refs]
    with transaction.atomic():
        existing = set(
            Run.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        fresh = [
            Run(
                idempotency_key=key,
                sop=sop,
                sop_version=version,
                connection=connection,
                object_type=ref.object_type,
                record_id=ref.id,
                trigger=trigger,
                shadow=shadow,
                created_by=user if getattr(user, "pk", None) else None,
            )
            for key, ref in dict(zip(keys, refs, strict=True)).items()
            if key not in existing
        ]
        Run.objects.bulk_create(fresh, ignore_conflicts=True)
        by_key = {r.idempotency_key: r for r in Run.objects.filter(idempotency_key__in=keys)}
        created = [by_key[run.idempotency_key] for run in fresh]
        if created and enqueue:
            ids = [run.pk for run in created]
            transaction.on_commit(functools.partial(runs_enqueue, ids, sop_id=sop.pk))
    return [by_key[key] for key in keys], len(created)


def run_enqueue(*, run: Run) -> None:
    """Hand the run to django-q2 by dotted path: the task is a thin shim around run_execute."""
    runs_enqueue([run.pk], sop_id=run.sop_id)
