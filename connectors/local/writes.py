"""The local CRM's writes: notes, tasks and property updates, each confined to one account.

Every function raises `CRMError` for a refused action; `LocalConnector.apply` turns that
into a `failed` outcome for the one action, so a batch never fails as a whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction

from connectors.base import (
    ActionResult,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordNotFound,
    RecordRef,
    TaskAction,
)
from connectors.local import models as m
from connectors.record_model import OBJECT_FIELDS
from connectors.vocabulary import value_to_vendor

# Set by the CRM itself; a write would rewrite history.
READ_ONLY_PROPERTIES = frozenset({"created_at"})


def model_get(object_type: str) -> type[m.CrmRecordModel]:
    """The table of `object_type`. Raises PermanentCRMError for an unknown type."""
    try:
        return m.RECORD_MODELS[object_type]
    except KeyError:
        raise PermanentCRMError(f"unknown object type {object_type!r}") from None


def record_get(ref: RecordRef, account: str) -> m.CrmRecordModel:
    """The record `ref` of `account`; another account's record is RecordNotFound."""
    model = model_get(ref.object_type)
    record = model.objects.filter(pk=ref.id, account=account).first()
    if record is None:
        raise RecordNotFound(f"{ref} does not exist")
    return record


def properties_set(
    action: PropertyUpdate, account: str, mapping: Mapping[str, Mapping[str, str]]
) -> ActionResult:
    """Set neutral properties (vocabulary values mapped to the account's own) on one record."""
    object_type = action.record.object_type
    model = model_get(object_type)
    record = model.objects.select_for_update().filter(pk=action.record.id, account=account).first()
    if record is None:
        raise RecordNotFound(f"{action.record} does not exist")
    for prop, value in action.properties.items():
        vendor_value = value_to_vendor(f"{object_type}.{prop}", value, mapping)
        attname, coerced = property_coerce(model, object_type, prop, vendor_value, account)
        setattr(record, attname, coerced)
    record.save()  # events for ai_* properties are never sent (signals.is_ai_owned)
    return ActionResult(action.idempotency_key, "updated", external_id=record.pk)


def ai_write(action: NoteAction | TaskAction, account: str, now: datetime) -> ActionResult:
    """Create a note or task once per (account, idempotency key); a repeat is `exists`."""
    record = record_get(action.record, account)
    write_model: type[m.Note | m.Task] = m.Note if action.kind == "note" else m.Task
    same_key = write_model.objects.filter(account=account, idempotency_key=action.idempotency_key)
    existing = same_key.first()
    if existing is not None:
        return ActionResult(action.idempotency_key, "exists", f"{action.kind}-{existing.pk}")
    link = {action.record.object_type: record}
    owner_id = action.owner_id if isinstance(action, TaskAction) else None
    if owner_id and not m.Owner.objects.filter(pk=owner_id, account=account).exists():
        raise PermanentCRMError(f"task on {action.record}: unknown owner {owner_id!r}")
    if isinstance(action, TaskAction) and not isinstance(action.due_date, date):
        raise PermanentCRMError(f"task on {action.record}: due_date must be a date")
    # The default account keeps its historic ids; others get theirs, so keys never collide.
    scope = "" if account == m.DEFAULT_ACCOUNT else f"{account}:"
    digest = hashlib.sha256(f"{scope}{action.kind}:{action.idempotency_key}".encode()).hexdigest()
    common = {"idempotency_key": action.idempotency_key, "created_at": now, "account": account}
    try:
        with transaction.atomic():  # a savepoint, so a lost race leaves apply() usable
            # The timeline entry reps see; ai_generated keeps it from firing events.
            activity = m.Activity.objects.create(
                id=f"ai-{digest[:16]}",
                account=account,
                kind=action.kind,
                timestamp=now,
                subject=getattr(action, "subject", ""),
                body=action.body,
                ai_generated=True,
                **link,
            )
            write: m.Note | m.Task
            if isinstance(action, TaskAction):
                write = m.Task.objects.create(
                    subject=action.subject,
                    body=action.body,
                    due_date=action.due_date,
                    priority=action.priority,
                    owner_id=action.owner_id or getattr(record, "owner_id", None),
                    activity=activity,
                    **common,
                    **link,
                )
            else:
                write = m.Note.objects.create(body=action.body, activity=activity, **common, **link)
    except IntegrityError:
        # Another worker applied the same key between our check and insert.
        existing = same_key.first()
        if existing is None:
            raise PermanentCRMError(f"cannot write {action.kind} on {action.record}") from None
        return ActionResult(action.idempotency_key, "exists", f"{action.kind}-{existing.pk}")
    return ActionResult(action.idempotency_key, "created", f"{action.kind}-{write.pk}")


def property_coerce(
    model: type[m.CrmRecordModel], object_type: str, prop: str, value: Any, account: str
) -> tuple[str, Any]:
    """Check one neutral property write and convert it to the column's value."""
    fields = OBJECT_FIELDS[object_type]
    if prop not in fields:
        raise PermanentCRMError(f"{object_type} has no property {prop!r}")
    if prop in READ_ONLY_PROPERTIES:
        raise PermanentCRMError(f"{object_type}.{prop} is read-only")
    attname = m.neutral_fields(object_type)[prop]
    column = model._meta.get_field(attname.removesuffix("_id") if prop == "owner" else attname)
    where = f"{object_type}.{prop}"
    if value is None:
        if fields[prop] == "string":
            return attname, ""
        if not column.null:
            raise PermanentCRMError(f"{where} cannot be empty")
        return attname, None
    if prop == "owner":
        if not m.Owner.objects.filter(pk=value, account=account).exists():
            raise PermanentCRMError(f"{where}: unknown owner {value!r}")
        return attname, str(value)
    return attname, _typed(fields[prop], value, where)


def _typed(kind: str, value: Any, where: str) -> Any:
    ok: bool
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "timestamp":
        value, ok = _parsed(value, datetime, where)
        if ok and value.tzinfo is None:
            raise PermanentCRMError(f"{where}: timestamp needs a UTC offset")
    else:
        value, ok = _parsed(value, date, where)
        if isinstance(value, datetime):
            value = value.date()
    if not ok:
        raise PermanentCRMError(f"{where}: expected {kind}, got {value!r}")
    return value


def _parsed(value: Any, typ: type[date], where: str) -> tuple[Any, bool]:
    if isinstance(value, typ):
        return value, True
    if isinstance(value, str):
        try:
            return typ.fromisoformat(value), True
        except ValueError:
            raise PermanentCRMError(f"{where}: not ISO-8601: {value!r}") from None
    return value, False
