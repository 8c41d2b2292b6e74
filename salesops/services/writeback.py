"""Write-back: perform only the writes the SOP declares, each with an idempotency key."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from connectors.base import (
    Action,
    ActionResult,
    CRMError,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordRef,
    RetriableCRMError,
    TaskAction,
)
from salesops.agents.base import StepRecord
from salesops.models import Run, WriteBack
from salesops.services.connections import connection_connector
from salesops.services.rendering import string_render, template_render
from salesops.specs.model import SopSpec
from salesops.writeback import PlannedWrite, writes_plan


def write_key(run: Run, seq: int, output: dict[str, Any]) -> str:
    """Stable per (SOP, connection, record, write, result): a retry, a redelivery or a re-run
    that reaches the same result reuses the key, so the CRM gets no second note or task."""
    canonical = json.dumps(output, sort_keys=True, default=str)
    material = (
        f"{run.sop.name}|{run.connection.slug}|{run.object_type}:{run.record_id}|{seq}|{canonical}"
    )
    return f"salesops-{hashlib.sha256(material.encode()).hexdigest()[:40]}"


def run_url(run: Run) -> str:
    return f"{settings.SALESOPS_BASE_URL}/admin/salesops/run/{run.pk}/change/"


def _context(run: Run, spec: SopSpec, output: dict[str, Any], record: dict[str, Any]) -> dict:
    return {
        "record": record,
        "result": output,
        "sop": {"name": spec.name, "title": spec.title, "version": run.sop_version.number},
        "run_url": run_url(run),
        "run": {"id": run.pk},
    }


def _action(run: Run, planned: PlannedWrite, context: dict[str, Any], record: dict) -> Action:
    ref = RecordRef(run.object_type, run.record_id)
    key = write_key(run, planned.seq, context["result"])
    if planned.kind == "set_property":
        assert planned.property is not None  # writes_plan sets it on every set_property
        return PropertyUpdate(
            record=ref, properties={planned.property: planned.value}, idempotency_key=key
        )
    body = template_render(planned.template, context) if planned.template else ""
    if planned.kind == "note":
        return NoteAction(record=ref, body=body, idempotency_key=key)
    subject = string_render(planned.subject or spec_title(context), context)
    assert planned.due_date is not None  # writes_plan computes it for every task
    return TaskAction(
        record=ref,
        subject=f"[AI] {subject}"[:255],
        body=body,
        due_date=planned.due_date,
        idempotency_key=key,
        owner_id=record.get("owner"),
        priority=planned.priority,
    )


def _actions(
    run: Run, planned: list[PlannedWrite], context: dict[str, Any], record: dict[str, Any]
) -> list[Action]:
    """One property update carrying every property (one CRM call), then notes and tasks."""
    props = [p for p in planned if p.kind == "set_property"]
    properties: dict[str, Any] = {}
    for p in props:
        assert p.property is not None  # writes_plan sets it on every set_property
        properties[p.property] = p.value
    actions: list[Action] = []
    if props:
        actions.append(
            PropertyUpdate(
                record=RecordRef(run.object_type, run.record_id),
                properties=properties,
                idempotency_key=write_key(run, props[0].seq, context["result"]),
            )
        )
    actions += [_action(run, p, context, record) for p in planned if p.kind != "set_property"]
    return actions


def write_actions(
    *, run: Run, spec: SopSpec, output: dict[str, Any], record: dict[str, Any], now: datetime
) -> list[Action]:
    """The CRM actions a verified `output` makes, rendered exactly as `run_write_back` sends
    them (the admin's preview of an approval reads these). Raises ExpressionError."""
    context = _context(run, spec, output, record)
    return _actions(run, writes_plan(spec, output, record, now=now), context, record)


def spec_title(context: dict[str, Any]) -> str:
    return f"Follow up: {context['sop']['title']}"


def _payload(action: Action) -> dict[str, Any]:
    if isinstance(action, PropertyUpdate):
        return {"properties": dict(action.properties)}
    if isinstance(action, NoteAction):
        return {"body": action.body}
    return {
        "subject": action.subject,
        "body": action.body,
        "due_date": action.due_date.isoformat(),
        "owner_id": action.owner_id,
        "priority": action.priority,
    }


def _outcome_error(result: ActionResult) -> CRMError:
    """A failed outcome as the error the run's retry policy understands."""
    if result.retriable:
        return RetriableCRMError(result.error, retry_after=result.retry_after)
    return PermanentCRMError(result.error)


def run_write_back(
    *,
    run: Run,
    spec: SopSpec,
    output: dict[str, Any],
    record: dict[str, Any],
    now: datetime,
    recorder: Any,
) -> list[WriteBack]:
    """Plan, record (before the call), perform and update each write of a verified run.

    Raises CRMError when the CRM refuses a write: the run then fails with the reason and
    can be retried; writes already done are skipped by their keys on the retry.
    """
    actions = write_actions(run=run, spec=spec, output=output, record=record, now=now)
    with transaction.atomic():
        # A fresh run (first attempt, StepRecorder(fresh=True)) has no writes yet: no read.
        fresh = getattr(recorder, "fresh", False)
        existing = {} if fresh else {row.seq: row for row in run.writes.all()}
        missing = [
            WriteBack(
                run=run,
                seq=seq,
                kind=action.kind,
                idempotency_key=action.idempotency_key,
                payload=_payload(action),
            )
            for seq, action in enumerate(actions)
            if seq not in existing
        ]
        for row in WriteBack.objects.bulk_create(missing):
            existing[row.seq] = row
        rows = [existing[seq] for seq in range(len(actions))]
    connector = connection_connector(run.connection)
    for row, action in zip(rows, actions, strict=True):
        if row.status == WriteBack.Status.DONE:
            continue
        try:
            (result,) = connector.apply([action])
            if not result.ok:
                raise _outcome_error(result)
        except Exception as exc:
            WriteBack.objects.filter(pk=row.pk).update(
                status=WriteBack.Status.FAILED, error=str(exc)
            )
            recorder(
                StepRecord(
                    kind="write",
                    name=action.kind,
                    status="failed",
                    message=str(exc),
                    input=row.payload,
                )
            )
            raise
        row.status, row.result, row.external_id = (
            WriteBack.Status.DONE,
            result.status,
            result.external_id,
        )
        row.error = ""
        row.save(update_fields=["status", "result", "external_id", "error", "updated_at"])
        recorder(
            StepRecord(
                kind="write",
                name=action.kind,
                status="ok",
                message=f"{result.status} {result.external_id}".strip(),
                input=row.payload,
            )
        )
    return rows
