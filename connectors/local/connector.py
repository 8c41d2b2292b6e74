"""`LocalConnector`: the `CrmConnector` over the embedded local CRM's own tables.

Property values come back as Python types by neutral field type: string -> str (None when
empty), int -> int, double -> float, bool -> bool, timestamp -> aware datetime, date -> date,
owner -> the owner's id. Each instance is one account ("portal") of the local CRM: every read,
write and event is confined to it, and another account's record is `RecordNotFound`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from connectors.base import (
    Action,
    ActionResult,
    Activity,
    Capabilities,
    CheckLine,
    CheckReport,
    CRMError,
    CrmEvent,
    CrmRecord,
    NoteAction,
    Page,
    PermanentCRMError,
    PropertyUpdate,
    RecordRef,
    RetriableCRMError,
    TaskAction,
    WebhookRequest,
    WebhookResponse,
)
from connectors.inputs import InputRejected
from connectors.local import models as m
from connectors.local import signals
from connectors.local.feed import cursor_decode, keyset_page
from connectors.local.webhook import webhook_events_parse, webhook_signature_refusal
from connectors.local.writes import ai_write, model_get, properties_set, record_get
from connectors.record_model import OBJECT_FIELDS, RELATIONS
from connectors.vocabulary import VOCABULARY, unmapped_values, value_to_neutral

BATCH_SIZE = 500
# Longer than any local CRM transaction (the task timeout): rows committed that late are
# still read by the next sync.
LOOKBACK_SECONDS = 300.0

ValueMapping = Mapping[str, Mapping[str, str]]

# To-many relations per object type, (name, related object type); the model related names
# match the record model's relation names, which are also the association keys.
_MANY: dict[str, list[tuple[str, str]]] = {
    ot: [(name, rel) for name, (rel, many) in RELATIONS[ot].items() if many] for ot in RELATIONS
}


class LocalConnector:
    """One account of the local CRM. `webhook_secret` signs its JSON webhook, `mapping`
    translates its stored values to the neutral vocabulary, `clock` stamps AI writes."""

    kind = "local"

    def __init__(
        self,
        *,
        webhook_secret: str = "",
        account: str = m.DEFAULT_ACCOUNT,
        mapping: ValueMapping | None = None,
        page_size: int | None = None,
        lookback_seconds: float = LOOKBACK_SECONDS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not account:
            raise ValueError("a local connection needs an account id")
        self.webhook_secret = webhook_secret
        self.account = account
        self.mapping: ValueMapping = mapping or {}
        self.lookback = timedelta(seconds=lookback_seconds)
        self.clock = clock or timezone.now
        size = page_size or BATCH_SIZE
        # No HTTP between us and the CRM: no 429s, 5xx or sessions to expire.
        self.capabilities = Capabilities(
            batch_size=BATCH_SIZE, page_size=size, deletes=True, snapshots=True, transport=False
        )

    # -- reads -----------------------------------------------------------------------------

    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        """Records changed and ids deleted after `cursor`, one page of each (see `feed`).

        The local CRM has no cheaper full read, so `backfill` pages the same feed.
        """
        state = cursor_decode(cursor, object_type=object_type, account=self.account)
        size = self.capabilities.page_size
        rows, records_state, more_records = keyset_page(
            self._with_relations(self._records(object_type), object_type),
            "updated_at",
            state.records,
            size=size,
            lookback=self.lookback,
        )
        tombs = m.DeletedRecord.objects.filter(account=self.account, object_type=object_type)
        dead, deletes_state, more_deletes = keyset_page(
            tombs, "deleted_at", state.deletes, size=size, lookback=self.lookback
        )
        dead_ids = list(dict.fromkeys(t.record_id for t in dead))
        # A deleted id used again (a reload of sample data) is alive: report the record only.
        alive = set(self._records(object_type).filter(pk__in=dead_ids).values_list("pk", flat=True))
        next_state = type(state)(object_type, self.account, records_state, deletes_state)
        return Page(
            records=[self._record(row) for row in rows],
            deleted_ids=[i for i in dead_ids if i not in alive],
            next_cursor=next_state.encode(),
            has_more=more_records or more_deletes,
        )

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        """Records by id with associations, in request order; missing ids are left out."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, CrmRecord] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            rows = self._records(object_type).filter(pk__in=chunk)
            for row in self._with_relations(rows, object_type):
                found[row.pk] = self._record(row)
        return [found[i] for i in wanted if i in found]

    def activities(self, ref: RecordRef, *, limit: int = 50) -> list[Activity]:
        """Newest first. A contact's timeline also holds the activities on its deals."""
        record = record_get(ref, self.account)
        if ref.object_type == "contact":
            # Deal activities (a demo logged on the deal) are part of the person's story.
            where = Q(contact_id=record.pk) | Q(deal__contacts=record.pk)
        else:
            where = Q(**{f"{ref.object_type}_id": record.pk})
        rows = m.Activity.objects.filter(where, account=self.account)
        rows = rows.distinct().order_by("-timestamp", "-id")
        return [_activity(row) for row in rows[: max(limit, 0)]]

    # -- writes ----------------------------------------------------------------------------

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Apply each action in its own savepoint; a refused one is a `failed` result."""
        results: list[ActionResult] = []
        with signals.writes_by_salesops():
            for action in actions:
                try:
                    with transaction.atomic():
                        results.append(self._apply_one(action))
                except RetriableCRMError as exc:
                    results.append(_failed(action, exc, retriable=True))
                except (CRMError, ValidationError, ValueError, TypeError) as exc:
                    # Bad input for this one action (Django's own checks included): permanent.
                    results.append(_failed(action, exc, retriable=False))
        return results

    def _apply_one(self, action: Action) -> ActionResult:
        if isinstance(action, PropertyUpdate):
            return properties_set(action, self.account, self.mapping)
        if isinstance(action, NoteAction | TaskAction):
            return ai_write(action, self.account, self.clock())
        raise PermanentCRMError(f"unsupported action {type(action).__name__}")

    # -- health ----------------------------------------------------------------------------

    def check(self, *, provision: bool = False) -> CheckReport:
        """Identity, properties (columns by construction), unmapped values, webhook secret."""
        owners = m.Owner.objects.filter(account=self.account).count()
        lines = [
            CheckLine("identity", "ok", f"local CRM account {self.account!r} ({owners} owners)"),
            *_properties_lines(),
            *self._values_lines(),
            CheckLine("rate_limit", "ok", "no rate limit"),
        ]
        if provision:
            lines.append(
                CheckLine("provision", "ok", "nothing to provision: every property is a column")
            )
        if not self.webhook_secret:
            lines.append(
                CheckLine(
                    "webhook",
                    "warning",
                    "no webhook secret: the local webhook endpoint refuses every delivery",
                    fix="set the connection's webhook_secret credential",
                )
            )
        return CheckReport(account_id=self.account, user="salesops", lines=lines)

    def _values_lines(self) -> list[CheckLine]:
        lines = []
        for field in VOCABULARY:
            object_type, _, prop = field.partition(".")
            stored = self._records(object_type).exclude(**{prop: ""})
            values = sorted(set(stored.values_list(prop, flat=True)))
            unmapped = unmapped_values(field, values, self.mapping)
            if unmapped:
                shown = ", ".join(repr(v) for v in unmapped[:10])
                lines.append(
                    CheckLine(
                        "values",
                        "warning",
                        f"{field}: stored values with no neutral value: {shown}",
                        fix=f'map them in the connection\'s mapping["{field}"]',
                    )
                )
        return lines or [CheckLine("values", "ok", "every stored pick-list value is neutral")]

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
        """The body's events as neutral CrmEvents. Raises ValueError on a malformed body or a
        delivery that names another account."""
        events = webhook_events_parse(request.body, mapping=self.mapping)
        for event in events:
            if event.account_id and event.account_id != self.account:
                raise InputRejected(
                    f"delivery is for account {event.account_id!r}, "
                    f"this connection is {self.account!r}",
                    status=403,
                )
        return events

    def webhook_response(self, events: Sequence[CrmEvent], error: str | None) -> WebhookResponse:
        """A JSON body: the count received, or the reason for a refusal."""
        body = {"error": error} if error else {"received": len(events)}
        return WebhookResponse(400 if error else 200, json.dumps(body).encode())

    # -- rows ------------------------------------------------------------------------------

    def _records(self, object_type: str) -> models.QuerySet[Any]:
        return model_get(object_type).objects.filter(account=self.account)

    def _with_relations(self, qs: models.QuerySet[Any], object_type: str) -> models.QuerySet[Any]:
        # Only ids are needed for associations: one extra query per relation per batch.
        # A company's contacts and deals hang on their company FK; prefetch matches on it,
        # so it must be loaded too or each row fetches it on its own (N+1).
        fields = ("id", "company_id") if object_type == "company" else ("id",)
        prefetches = [
            Prefetch(
                name,
                queryset=m.RECORD_MODELS[related]
                .objects.filter(account=self.account)
                .only(*fields),
            )
            for name, related in _MANY[object_type]
        ]
        return qs.prefetch_related(*prefetches)

    def _record(self, row: m.CrmRecordModel) -> CrmRecord:
        object_type = row.object_type
        props = {
            name: value_to_neutral(
                f"{object_type}.{name}",
                None if (value := getattr(row, attname)) == "" else value,
                self.mapping,
            )
            for name, attname in m.neutral_fields(object_type).items()
        }
        associations: dict[str, list[str]] = {}
        if object_type in ("contact", "deal"):
            company_id = row.company_id  # type: ignore[attr-defined]
            associations["company"] = [company_id] if company_id else []
        for name, _related in _MANY[object_type]:
            associations[name] = sorted(r.pk for r in getattr(row, name).all())
        return CrmRecord(object_type, row.pk, props, row.updated_at, associations)


def _properties_lines() -> list[CheckLine]:
    missing = [
        f"{object_type}.{name}"
        for object_type, model in m.RECORD_MODELS.items()
        for name, attname in m.neutral_fields(object_type).items()
        if not hasattr(model, attname)
    ]
    if missing:
        return [CheckLine("properties", "problem", f"missing: {', '.join(missing)}", True)]
    count = sum(len(f) for f in OBJECT_FIELDS.values())
    return [CheckLine("properties", "ok", f"all {count} neutral properties are columns")]


def _failed(action: Action, exc: Exception, *, retriable: bool) -> ActionResult:
    retry_after = getattr(exc, "retry_after", None)
    return ActionResult(
        action.idempotency_key,
        "failed",
        error=str(exc),
        retriable=retriable,
        retry_after=retry_after,
    )


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
