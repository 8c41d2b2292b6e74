"""Conformance: webhook authenticity, parsing, snapshots, accounts and the vendor's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import CrmConnector, CrmEvent, RecordRef
from connectors.testing.fixtures import NOW, ConformanceFixtures, requires
from connectors.testing.seeder import Seeder


def _shape(e: CrmEvent) -> tuple[Any, ...]:
    return (e.name, e.record, e.property, e.value, e.occurred_at)


class WebhookConformance(ConformanceFixtures):
    def test_it_accepts_a_correctly_signed_webhook(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        assert connector.verify_webhook(seed.webhook_signed(seed.webhook_body(events))) is True

    def test_it_rejects_a_forged_webhook(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        request = seed.webhook_signed(seed.webhook_body(events))
        assert connector.verify_webhook(seed.webhook_forged(request)) is False

    def test_it_rejects_a_stale_signature(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        requires(connector, "webhook_timestamps", "its webhook signatures carry no time")
        body = seed.webhook_body(events)
        stale = seed.webhook_signed_at(body, datetime.now(UTC) - timedelta(hours=1))
        assert connector.verify_webhook(stale) is False
        fresh = seed.webhook_signed_at(body, datetime.now(UTC) - timedelta(seconds=5))
        assert connector.verify_webhook(fresh) is True

    def test_it_parses_webhook_events_into_neutral_events(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        request = seed.webhook_signed(seed.webhook_body(events))

        parsed = connector.parse_webhook(request)

        assert [_shape(e) for e in parsed] == [_shape(e) for e in events]
        assert all(e.event_id for e in parsed) and len({e.event_id for e in parsed}) == 2

    def test_a_replayed_delivery_keeps_its_event_ids(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        body = seed.webhook_body(events)
        once = connector.parse_webhook(seed.webhook_signed(body))
        again = connector.parse_webhook(seed.webhook_signed(body))  # redelivered, re-signed
        assert [e.event_id for e in again] == [e.event_id for e in once]

    def test_it_parses_snapshot_events(self, connector: CrmConnector, seed: Seeder) -> None:
        requires(connector, "snapshots", "its webhooks never carry whole records")
        fields = {"first_name": "Ada", "lead_status": "OPEN"}
        event = CrmEvent(
            "ev-s", "contact.snapshot", RecordRef("contact", "101"), NOW, snapshot=fields
        )

        (parsed,) = connector.parse_webhook(seed.webhook_signed(seed.webhook_body([event])))

        assert (parsed.name, parsed.record, parsed.property) == (event.name, event.record, None)
        assert parsed.snapshot is not None
        assert {k: parsed.snapshot[k] for k in fields} == fields

    def test_it_tells_a_delivery_from_another_account(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        foreign = seed.foreign_account_id()
        own = connector.parse_webhook(seed.webhook_signed(seed.webhook_body(events)))
        request = seed.webhook_signed(seed.webhook_body_of(events, foreign))
        try:
            parsed = connector.parse_webhook(request)
        except ValueError:
            return  # refused outright: as good as reporting the account
        assert {e.account_id for e in parsed} == {foreign}
        assert all(e.account_id != foreign for e in own)

    def test_it_rejects_malformed_webhook_bodies(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        for body in seed.webhook_malformed_bodies():
            with pytest.raises(ValueError):
                connector.parse_webhook(seed.webhook_signed(body))

    def test_it_answers_a_delivery_as_its_vendor_expects(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        for stored, error in ((events, None), ([], "invalid signature")):
            answer = connector.webhook_response(stored, error)
            assert answer.content_type and isinstance(answer.body, bytes)
            if error is None:
                assert 200 <= answer.status < 300
            else:
                assert 400 <= answer.status < 500
            expected = seed.webhook_response_expected(stored, error)
            if expected is not None:
                assert (answer.status, answer.body, answer.content_type) == (
                    expected.status,
                    expected.body,
                    expected.content_type,
                )
