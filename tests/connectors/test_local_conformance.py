"""The local connector passes the conformance suite every connector must pass."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from connectors.base import CrmEvent, RecordRef, WebhookRequest
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.local.webhook import SIGNATURE_HEADER, webhook_body_build, webhook_sign
from connectors.testing import ConnectorConformance, Seeder

pytestmark = pytest.mark.django_db

SECRET = "test-secret"


class LocalSeeder(Seeder):
    """Seeds the local tables directly, on a fake clock so modification order is certain."""

    def __init__(self) -> None:
        self._clock = timezone.now() - timedelta(days=1)

    def _stamp(self, record: m.CrmRecordModel) -> str:
        # Each write gets its own second: same-microsecond saves cannot blur the order.
        self._clock += timedelta(seconds=1)
        type(record).objects.filter(pk=record.pk).update(updated_at=self._clock)
        return record.pk

    def seed_company(self, props: dict[str, Any]) -> str:
        return self._stamp(m.Company.objects.create(**props))

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        return self._stamp(m.Contact.objects.create(company_id=company_id, **props))

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        deal = m.Deal.objects.create(company_id=company_id, **props)
        deal.contacts.set(contact_ids)
        return self._stamp(deal)

    def seed_activity(
        self, ref: RecordRef, *, kind: str, timestamp: datetime, subject: str = "", body: str = ""
    ) -> str:
        link = {f"{ref.object_type}_id": ref.id}
        activity = m.Activity.objects.create(
            kind=kind, timestamp=timestamp, subject=subject, body=body, **link
        )
        return activity.pk

    def seed_update(self, ref: RecordRef, props: dict[str, Any]) -> None:
        record = m.RECORD_MODELS[ref.object_type].objects.get(pk=ref.id)
        for key, value in props.items():
            setattr(record, key, value)
        record.save()
        self._stamp(record)

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        notes = m.Note.objects.filter(**{f"{ref.object_type}_id": ref.id}).order_by("pk")
        return [n.body for n in notes]

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        tasks = m.Task.objects.filter(**{f"{ref.object_type}_id": ref.id}).order_by("pk")
        return [{"subject": t.subject, "body": t.body, "due_date": t.due_date} for t in tasks]

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        record = m.RECORD_MODELS[ref.object_type].objects.get(pk=ref.id)
        fields = m.neutral_fields(ref.object_type)
        return {name: getattr(record, attname) or None for name, attname in fields.items()}

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        return webhook_body_build(events)

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        headers = {SIGNATURE_HEADER: webhook_sign(body, SECRET)}
        return WebhookRequest("POST", "http://testserver/webhooks/local/", headers, body)

    def webhook_malformed_bodies(self) -> list[bytes]:
        return [
            *super().webhook_malformed_bodies(),
            b"[]",
            b'{"events": {}}',
            b'{"events": [{"name": "contact.created"}]}',
        ]


class TestLocalConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self) -> LocalConnector:
        return LocalConnector(webhook_secret=SECRET)

    @pytest.fixture
    def seed(self) -> LocalSeeder:
        return LocalSeeder()
