"""What an approval would write: the run's CRM actions, built by the write-back code itself.

The actions come from `write_actions`, the function `run_write_back` sends, so the preview shows
the note exactly as the CRM will get it, each task with its owner and due date, and each
property with the value the run's record snapshot holds beside the new one. Nothing is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from connectors.base import Action, NoteAction, PropertyUpdate, TaskAction
from connectors.local import models as local_crm
from salesops.models import Connection, Run
from salesops.services.result_view import value_text
from salesops.services.sops import sop_spec_get
from salesops.services.writeback import write_actions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PropertyChange:
    """One property the write sets: its value in the run's record snapshot and the new one."""

    name: str
    current: str
    new: str
    changed: bool


@dataclass(frozen=True)
class PreviewItem:
    """One CRM write an approval would make (kind note, task or set_property), or why the
    write plan cannot be built (kind error)."""

    kind: str
    body: str = ""  # a note's or task's text as the CRM shows it
    subject: str = ""
    owner: str = ""  # the owner's name when salesops knows it, else the CRM's owner id
    owner_id: str = ""
    due_date: date | None = None
    priority: str = ""
    properties: list[PropertyChange] = field(default_factory=list)
    error: str = ""


def write_preview(
    run: Run, output: Any = None, *, now: datetime | None = None
) -> list[PreviewItem]:
    """The writes approving `run` now would make, in write order; `output` defaults to the
    result approval writes (an escalation's stored edit, else the run's result)."""
    if output is None:
        escalation = getattr(run, "escalation", None)
        stored_edit = escalation.edited_output if escalation is not None else None
        output = stored_edit if stored_edit is not None else run.output
    if not isinstance(output, dict):
        return []
    record = run.input if isinstance(run.input, dict) else {}
    try:
        actions = write_actions(
            run=run,
            spec=sop_spec_get(run.sop_version),
            output=output,
            record=record,
            now=now or timezone.now(),  # an approval writes with the clock of its write
        )
    except Exception as exc:  # the approval would fail the same way; the page must still render
        logger.info("write preview of run %s failed: %s", run.pk, exc)
        return [PreviewItem(kind="error", error=f"{type(exc).__name__}: {exc}")]
    owners = owner_names(run.connection, [a.owner_id for a in actions if isinstance(a, TaskAction)])
    return [_item(action, record, owners) for action in actions]


def owner_names(connection: Connection, owner_ids: list[str | None]) -> dict[str, str]:
    """Owner id -> name where salesops can tell without calling the CRM (the local CRM's
    owners); other CRMs' ids stay as they are."""
    ids = {i for i in owner_ids if i}
    if not ids or connection.kind != Connection.Kind.LOCAL:
        return {}
    account = connection.account_id or local_crm.DEFAULT_ACCOUNT
    rows = local_crm.Owner.objects.filter(pk__in=ids, account=account).values_list("pk", "name")
    return {pk: name for pk, name in rows if name}


def _item(action: Action, record: dict[str, Any], owners: dict[str, str]) -> PreviewItem:
    if isinstance(action, PropertyUpdate):
        changes = [
            PropertyChange(
                name=name,
                current=value_text(record.get(name)),
                new=value_text(value),
                changed=record.get(name) != value,
            )
            for name, value in action.properties.items()
        ]
        return PreviewItem(kind="set_property", properties=changes)
    if isinstance(action, NoteAction):
        return PreviewItem(kind="note", body=action.body)
    assert isinstance(action, TaskAction)  # write_actions makes only these three kinds
    owner_id = action.owner_id or ""
    return PreviewItem(
        kind="task",
        subject=action.subject,
        body=action.body,
        owner=owners.get(owner_id, owner_id) or "the record's owner (none set)",
        owner_id=owner_id,
        due_date=action.due_date,
        priority=action.priority,
    )
