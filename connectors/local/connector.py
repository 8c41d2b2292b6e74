"""`LocalConnector`: the `CrmConnector` over the embedded local CRM's own tables.

Property values come back as Python types by neutral field type: string -> str (None when
empty), int -> int, double -> float, bool -> bool, timestamp -> aware datetime, date -> date,
owner -> the owner's id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from connectors.base import (
    Action,
    ActionResult,
    Activity,
    CrmEvent,
    CrmRecord,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordNotFound,
    RecordRef,
    TaskAction,
    WebhookRequest,
)
from connectors.local import models as m
from connectors.local import signals
from connectors.local.webhook import webhook_events_parse, webhook_signature_refusal
from salesops.specs.record_model import OBJECT_FIELDS, RELATIONS

BATCH_SIZE = 500
# Set by the CRM itself; a write would rewrite history.
READ_ONLY_PROPERTIES = frozenset({"created_at"})

# To-many relations per object type, (name, related object type); the model related names
# match the record model's relation names, which are also the association keys.
_MANY: dict[str, list[tuple[str, str]]] = {
    ot: [(name, rel) for name, (rel, many) in RELATIONS[ot].items() if many] for ot in RELATIONS
}


class LocalConnector:
    """The local CRM. `webhook_secret` signs its JSON webhook; `clock` stamps AI writes."""

    kind = "local"

    def __init__(
        self, *, webhook_secret: str = "", clock: Callable[[], datetime] | None = None
    ) -> None:
        self.webhook_secret = webhook_secret
        self.clock = clock or timezone.now

    # -- reads -----------------------------------------------------------------------------

    def iter_changed(self, object_type: str, since: datetime | None) -> Iterator[CrmRecord]:
        """Records changed after `since`, oldest first, read in keyset-paginated batches."""
        model = _model(object_type)
        base = _with_relations(model.objects.order_by("updated_at", "id"), object_type)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)  # naive cursors are UTC by convention
            base = base.filter(updated_at__gt=since)
        last: tuple[datetime, str] | None = None
        while True:
            page = base
            if last is not None:
                page = page.filter(
                    Q(updated_at__gt=last[0]) | Q(updated_at=last[0], id__gt=last[1])
                )
            rows = list(page[:BATCH_SIZE])
            yield from (_record(row) for row in rows)
            if len(rows) < BATCH_SIZE:
                return
            last = (rows[-1].updated_at, rows[-1].id)

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations, in request order; missing ids are left out."""
        model = _model(object_type)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, CrmRecord] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            for row in _with_relations(model.objects.filter(pk__in=chunk), object_type):
                found[row.pk] = _record(row)
        return [found[i] for i in wanted if i in found]

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        """Newest first. A contact's timeline also holds the activities on its deals."""
        record = _record_get(ref)
        if ref.object_type == "contact":
            # Deal activities (a demo logged on the deal) are part of the person's story.
            where = Q(contact_id=record.pk) | Q(deal__contacts=record.pk)
        else:
            where = Q(**{f"{ref.object_type}_id": record.pk})
        rows = m.Activity.objects.filter(where).distinct().order_by("-timestamp", "-id")
        return [_activity(row) for row in rows[: max(limit, 0)]]

    # -- writes ----------------------------------------------------------------------------

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Apply all actions in one transaction: all take effect, or none (on an error)."""
        with transaction.atomic(), signals.writes_by_salesops():
            return [self._apply_one(action) for action in actions]

    def _apply_one(self, action: Action) -> ActionResult:
        if isinstance(action, PropertyUpdate):
            return self._properties_set(action)
        if isinstance(action, NoteAction | TaskAction):
            return self._ai_write(action)
        raise PermanentCRMError(f"unsupported action {type(action).__name__}")

    def _properties_set(self, action: PropertyUpdate) -> ActionResult:
        model = _model(action.record.object_type)
        try:
            record = model.objects.select_for_update().get(pk=action.record.id)
        except model.DoesNotExist:
            raise RecordNotFound(f"{action.record} does not exist") from None
        for prop, value in action.properties.items():
            attname, coerced = _property_coerce(model, action.record.object_type, prop, value)
            setattr(record, attname, coerced)
        record.save()  # events for ai_* properties are never sent (signals.is_ai_owned)
        return ActionResult(action.idempotency_key, "updated", external_id=record.pk)

    def _ai_write(self, action: NoteAction | TaskAction) -> ActionResult:
        record = _record_get(action.record)
        write_model: type[m.Note | m.Task] = m.Note if action.kind == "note" else m.Task
        existing = write_model.objects.filter(idempotency_key=action.idempotency_key).first()
        if existing is not None:
            return ActionResult(action.idempotency_key, "exists", f"{action.kind}-{existing.pk}")
        link = {action.record.object_type: record}
        owner_id = getattr(action, "owner_id", None)
        if owner_id and not m.Owner.objects.filter(pk=owner_id).exists():
            raise PermanentCRMError(f"task on {action.record}: unknown owner {owner_id!r}")
        now = self.clock()
        digest = hashlib.sha256(f"{action.kind}:{action.idempotency_key}".encode()).hexdigest()
        try:
            with transaction.atomic():  # a savepoint, so a lost race leaves apply() usable
                # The timeline entry reps see; ai_generated keeps it from firing events.
                activity = m.Activity.objects.create(
                    id=f"ai-{digest[:16]}",
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
                        **_ai_common(action, activity, now, link),
                    )
                else:
                    write = m.Note.objects.create(
                        body=action.body, **_ai_common(action, activity, now, link)
                    )
        except IntegrityError:
            # Another worker applied the same key between our check and insert.
            existing = write_model.objects.filter(idempotency_key=action.idempotency_key).first()
            if existing is None:
                raise PermanentCRMError(f"cannot write {action.kind} on {action.record}") from None
            return ActionResult(action.idempotency_key, "exists", f"{action.kind}-{existing.pk}")
        return ActionResult(action.idempotency_key, "created", f"{action.kind}-{write.pk}")

    # -- webhooks --------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True when X-Salesops-Signature signs the body under the secret, within the window."""
        return self.webhook_refusal(request) is None

    def webhook_refusal(self, request: WebhookRequest) -> str | None:
        """Why `verify_webhook` refuses the request (for the 401's reason), or None."""
        now = self.clock().timestamp()
        return webhook_signature_refusal(
            request.headers, request.body, self.webhook_secret, now=now
        )

    def parse_webhook(self, request: WebhookRequest) -> list[CrmEvent]:
        """The body's events as neutral CrmEvents. Raises ValueError on a malformed body."""
        return webhook_events_parse(request.body)


def _model(object_type: str) -> type[m.CrmRecordModel]:
    try:
        return m.RECORD_MODELS[object_type]
    except KeyError:
        raise PermanentCRMError(f"unknown object type {object_type!r}") from None


def _record_get(ref: RecordRef) -> m.CrmRecordModel:
    model = _model(ref.object_type)
    record = model.objects.filter(pk=ref.id).first()
    if record is None:
        raise RecordNotFound(f"{ref} does not exist")
    return record


def _with_relations(qs: models.QuerySet[Any], object_type: str) -> models.QuerySet[Any]:
    # Only ids are needed for associations: one extra query per relation per batch.
    # A company's contacts and deals hang on their company FK; prefetch matches on it, so it
    # must be loaded too or each row fetches it on its own (N+1).
    fields = ("id", "company_id") if object_type == "company" else ("id",)
    prefetches = [
        Prefetch(name, queryset=m.RECORD_MODELS[related].objects.only(*fields))
        for name, related in _MANY[object_type]
    ]
    return qs.prefetch_related(*prefetches)


def _record(row: m.CrmRecordModel) -> CrmRecord:
    object_type = row.object_type
    props = {
        name: None if (value := getattr(row, attname)) == "" else value
        for name, attname in m.neutral_fields(object_type).items()
    }
    associations: dict[str, list[str]] = {}
    if object_type in ("contact", "deal"):
        associations["company"] = [row.company_id] if row.company_id else []  # type: ignore[attr-defined]
    for name, _related in _MANY[object_type]:
        associations[name] = sorted(r.pk for r in getattr(row, name).all())
    return CrmRecord(object_type, row.pk, props, row.updated_at, associations)


def _activity(row: m.Activity) -> Activity:
    return Activity(
        id=row.pk,
        kind=row.kind,
        timestamp=row.timestamp,
        subject=row.subject,
        body=row.body,
        direction=row.direction,
        outcome=row.outcome,
        ai_generated=row.ai_generated,
    )


def _ai_common(
    action: NoteAction | TaskAction, activity: m.Activity, now: datetime, link: dict[str, Any]
) -> dict[str, Any]:
    return {
        "idempotency_key": action.idempotency_key,
        "activity": activity,
        "created_at": now,
        **link,
    }


def _property_coerce(
    model: type[m.CrmRecordModel], object_type: str, prop: str, value: Any
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
        if not m.Owner.objects.filter(pk=value).exists():
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
