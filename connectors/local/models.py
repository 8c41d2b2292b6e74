"""The local CRM's tables: owners, companies, contacts, deals, their activities, AI notes/tasks.

Neutral properties (connectors/record_model.py) are typed columns with the same names,
except `owner`, a foreign key whose `owner_id` holds the neutral value. Empty strings stand
for "unknown"; the connector reports them as None.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from django.db import models
from django.db.models.signals import post_delete
from django.utils import timezone

from connectors.local import signals
from connectors.record_model import OBJECT_FIELDS

DEFAULT_ACCOUNT = "local"
ACTIVITY_KINDS = [(k, k) for k in ("call", "email", "meeting", "note", "task")]
DIRECTIONS = [("inbound", "inbound"), ("outbound", "outbound")]


# Callables, not lambdas, so migrations can serialise them; ids stay readable in admin.
def company_id_new() -> str:
    return f"co-{uuid.uuid4().hex[:10]}"


def contact_id_new() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def deal_id_new() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def activity_id_new() -> str:
    return f"a-{uuid.uuid4().hex[:10]}"


def account_field() -> models.CharField[str, str]:
    """The account ("portal") a row belongs to: two local connections are two separate CRMs."""
    return models.CharField(max_length=64, default=DEFAULT_ACCOUNT, db_index=True)


def neutral_fields(object_type: str) -> dict[str, str]:
    """Neutral property name -> model attribute name for one object type."""
    return {name: "owner_id" if name == "owner" else name for name in OBJECT_FIELDS[object_type]}


class Owner(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    account = account_field()
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name or self.id


class CrmRecordModel(models.Model):
    """Shared columns and change tracking for the three neutral objects."""

    object_type: ClassVar[str]
    # Annotation only: each concrete subclass gets Django's default manager, which the
    # stubs cannot see on an abstract base (the connector works on type[CrmRecordModel]).
    objects: ClassVar[models.Manager[Self]]

    account = account_field()
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.SET_NULL)
    country = models.CharField(max_length=100, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # A plain default, not auto_now_add: sample data sets creation times in the past.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # from_db also goes through __init__, so this is the as-loaded state either way.
        self._loaded = self.tracked_values()

    def save(self, *args: Any, **kwargs: Any) -> None:
        creating = self._state.adding
        self._crm_behaviour_apply(creating)
        super().save(*args, **kwargs)
        current = self.tracked_values()
        # Only properties known before and after count; a deferred field is not a change.
        changed = (
            {}
            if creating
            else {k: v for k, v in current.items() if k in self._loaded and self._loaded[k] != v}
        )
        self._loaded = current
        signals.record_saved(self, created=creating, changed=changed)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._loaded = self.tracked_values()  # the fresh values are the new baseline

    def tracked_values(self) -> dict[str, Any]:
        """The neutral property values currently on the instance (deferred ones left out)."""
        return {
            name: getattr(self, attname)
            for name, attname in neutral_fields(self.object_type).items()
            if attname in self.__dict__
        }

    def _crm_behaviour_apply(self, creating: bool) -> None:
        """Hook for fields the CRM maintains itself (deal stage clock, close-date pushes)."""


class Company(CrmRecordModel):
    object_type = "company"

    id = models.CharField(max_length=64, primary_key=True, default=company_id_new)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employees = models.IntegerField(null=True, blank=True)
    annual_revenue = models.FloatField(null=True, blank=True)
    customer_status = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name or self.id


class Contact(CrmRecordModel):
    object_type = "contact"

    id = models.CharField(max_length=64, primary_key=True, default=contact_id_new)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    phone = models.CharField(max_length=50, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    lifecycle_stage = models.CharField(max_length=50, blank=True)
    lead_status = models.CharField(max_length=50, blank=True)
    lead_source = models.CharField(max_length=100, blank=True)
    email_opt_out = models.BooleanField(default=False)
    ai_score = models.IntegerField(null=True, blank=True)
    ai_tier = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email or self.id


class Deal(CrmRecordModel):
    object_type = "deal"

    id = models.CharField(max_length=64, primary_key=True, default=deal_id_new)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="deals")
    name = models.CharField(max_length=200)
    amount = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    stage = models.CharField(max_length=100, blank=True)
    close_date = models.DateField(null=True, blank=True)
    forecast_category = models.CharField(max_length=50, blank=True)
    next_step = models.CharField(max_length=500, blank=True)
    probability = models.FloatField(null=True, blank=True)
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    close_date_changes = models.IntegerField(default=0)
    ai_health = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name or self.id

    def _crm_behaviour_apply(self, creating: bool) -> None:
        # What a real CRM tracks for you: when the stage moved and how often the close date
        # slipped. Explicit values (sample data, a direct edit of these fields) win.
        before = self._loaded
        if creating:
            if self.stage and self.stage_entered_at is None:
                self.stage_entered_at = timezone.now()
        elif (
            "stage" in before
            and before["stage"] != self.stage
            and before.get("stage_entered_at") == self.stage_entered_at
        ):
            self.stage_entered_at = timezone.now()
        if (
            not creating
            and "close_date" in before
            and before["close_date"] is not None
            and before["close_date"] != self.close_date
            and before.get("close_date_changes") == self.close_date_changes
        ):
            self.close_date_changes += 1


class Activity(models.Model):
    """A timeline entry; AI-written notes and tasks appear here with ai_generated=True."""

    id = models.CharField(max_length=64, primary_key=True, default=activity_id_new)
    account = account_field()
    kind = models.CharField(max_length=20, choices=ACTIVITY_KINDS)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    direction = models.CharField(max_length=10, choices=DIRECTIONS, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    ai_generated = models.BooleanField(default=False)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject or self.id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        creating = self._state.adding
        if creating and (linked := self.linked_records()):
            self.account = linked[0].account  # an activity lives in its records' account
        super().save(*args, **kwargs)
        if creating and not self.ai_generated:
            self._last_activity_bump()
        if creating:
            signals.activity_created(self)

    def linked_records(self) -> list[CrmRecordModel]:
        """The records this activity sits on, in contact, company, deal order."""
        return [r for r in (self.contact, self.company, self.deal) if r is not None]

    def _last_activity_bump(self) -> None:
        # The CRM keeps last_activity_at current itself, as HubSpot and Salesforce do. A
        # queryset update, so it is reported once as activity_logged, not as a property change.
        now = timezone.now()
        for record in self.linked_records():
            type(record).objects.filter(pk=record.pk).filter(
                models.Q(last_activity_at__isnull=True)
                | models.Q(last_activity_at__lt=self.timestamp)
            ).update(last_activity_at=self.timestamp, updated_at=now)
            if record.last_activity_at is None or record.last_activity_at < self.timestamp:
                record.last_activity_at = self.timestamp
                record._loaded["last_activity_at"] = self.timestamp


class AiWrite(models.Model):
    """What the AI wrote on one record; `idempotency_key` makes a repeated apply a no-op."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE)
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE)
    activity = models.OneToOneField(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account = account_field()
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        # Keys are unique per account: two local "portals" are two CRMs.
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="%(class)s_account_key_unique"
            )
        ]

    @property
    def record(self) -> CrmRecordModel | None:
        return self.contact or self.company or self.deal


class Note(AiWrite):
    body = models.TextField()

    class Meta(AiWrite.Meta):
        pass

    def __str__(self) -> str:
        return f"note {self.pk} on {self.record}"


class Task(AiWrite):
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    due_date = models.DateField()
    status = models.CharField(max_length=20, default="NOT_STARTED")
    priority = models.CharField(max_length=10, default="MEDIUM")
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta(AiWrite.Meta):
        pass

    def __str__(self) -> str:
        return f"task {self.pk}: {self.subject}"


class DeletedRecord(models.Model):
    """A tombstone: a company, contact or deal deleted from one account, for sync's deletes."""

    account = account_field()
    object_type = models.CharField(max_length=20)
    record_id = models.CharField(max_length=64)
    deleted_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "object_type", "deleted_at", "id"],
                name="localcrm_deleted_feed_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.record_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"


RECORD_MODELS: dict[str, type[CrmRecordModel]] = {
    "company": Company,
    "contact": Contact,
    "deal": Deal,
}


def _tombstone_write(sender: type[CrmRecordModel], instance: CrmRecordModel, **_: Any) -> None:
    # post_delete fires for queryset deletes and cascades too, so no delete goes unreported.
    DeletedRecord.objects.create(
        account=instance.account, object_type=instance.object_type, record_id=instance.pk
    )


for _model in RECORD_MODELS.values():
    post_delete.connect(_tombstone_write, sender=_model, dispatch_uid=f"localcrm-tomb-{_model}")
