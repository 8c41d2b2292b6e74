"""The local connector passes the conformance suite every connector must pass."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from connectors.base import CrmEvent, RecordRef, WebhookRequest, WebhookResponse
from connectors.local import models as m
from connectors.local.connector import LocalConnector
from connectors.local.webhook import SIGNATURE_HEADER, webhook_body_build, webhook_sign
from connectors.testing import ConnectorConformance, ConnectorFactory, Seeder

pytestmark = pytest.mark.django_db

SECRET = "test-secret"


class LocalSeeder(Seeder):
    """Seeds one account of the local tables directly, on a fake clock so modification order
    is certain."""

    def __init__(self, account: str = m.DEFAULT_ACCOUNT) -> None:
        self.account_id = account
        self._clock = timezone.now() - timedelta(days=1)
        self._frozen = False

    def _stamp(self, record: m.CrmRecordModel) -> str:
        # Each write gets its own second: same-microsecond saves cannot blur the order.
        if not self._frozen:
            self._clock += timedelta(seconds=1)
        type(record).objects.filter(pk=record.pk).update(updated_at=self._clock)
        return record.pk

    @contextmanager
    def same_timestamp(self) -> Iterator[None]:
        self._clock += timedelta(seconds=1)
        self._frozen = True
        try:
            yield
        finally:
            self._frozen = False

    def seed_company(self, props: dict[str, Any]) -> str:
        return self._stamp(m.Company.objects.create(account=self.account_id, **props))

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        contact = m.Contact.objects.create(account=self.account_id, company_id=company_id, **props)
        return self._stamp(contact)

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        deal = m.Deal.objects.create(account=self.account_id, company_id=company_id, **props)
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
        record = self._row(ref)
        for key, value in props.items():
            setattr(record, key, value)
        record.save()
        self._stamp(record)

    def seed_delete(self, ref: RecordRef) -> None:
        self._row(ref).delete()

    def _row(self, ref: RecordRef) -> m.CrmRecordModel:
        return m.RECORD_MODELS[ref.object_type].objects.get(pk=ref.id, account=self.account_id)

    def fetch_ids(self, object_type: str) -> set[str]:
        rows = m.RECORD_MODELS[object_type].objects.filter(account=self.account_id)
        return set(rows.values_list("pk", flat=True))

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        notes = m.Note.objects.filter(**{f"{ref.object_type}_id": ref.id}).order_by("pk")
        return [n.body for n in notes]

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        tasks = m.Task.objects.filter(**{f"{ref.object_type}_id": ref.id}).order_by("pk")
        return [{"subject": t.subject, "body": t.body, "due_date": t.due_date} for t in tasks]

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        record = self._row(ref)
        fields = m.neutral_fields(ref.object_type)
        return {name: getattr(record, attname) or None for name, attname in fields.items()}

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        return webhook_body_build(events)

    def webhook_body_of(self, events: Sequence[CrmEvent], account_id: str) -> bytes:
        return webhook_body_build(events, account=account_id)

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        return self.webhook_signed_at(body, timezone.now())

    def webhook_signed_at(self, body: bytes, at: datetime) -> WebhookRequest:
        headers = {SIGNATURE_HEADER: webhook_sign(body, SECRET, timestamp=int(at.timestamp()))}
        return WebhookRequest("POST", "http://testserver/webhooks/local/", headers, body)

    def webhook_malformed_bodies(self) -> list[bytes]:
        return [
            *super().webhook_malformed_bodies(),
            b"[]",
            b'{"events": {}}',
            b'{"events": [{"name": "contact.created"}]}',
        ]

    def webhook_response_expected(
        self, events: Sequence[CrmEvent], error: str | None
    ) -> WebhookResponse:
        body = {"error": error} if error else {"received": len(events)}
        return WebhookResponse(400 if error else 200, json.dumps(body).encode())


class TestLocalConformance(ConnectorConformance):
    @pytest.fixture
    def make_connector(self) -> ConnectorFactory:
        def make(page_size: int | None = None) -> LocalConnector:
            return LocalConnector(webhook_secret=SECRET, page_size=page_size)

        return make

    @pytest.fixture
    def seed(self) -> LocalSeeder:
        return LocalSeeder()

    @pytest.fixture
    def other_connector(self) -> LocalConnector:
        return LocalConnector(webhook_secret=SECRET, account="acme")

    @pytest.fixture
    def other_seed(self) -> LocalSeeder:
        return LocalSeeder("acme")
