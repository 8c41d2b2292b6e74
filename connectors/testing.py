"""The conformance suite every `CrmConnector` must pass (local, HubSpot, Salesforce).

Use: subclass `ConnectorConformance` in a test module as `Test<Kind>Conformance` and provide
two fixtures, `connector` (the connector under test) and `seed` (a `Seeder` for the same CRM).
The suite only talks to the CRM through the connector and the seeder, so it runs the same
against the local tables, an emulator or a sandbox account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.base import (
    OBJECT_TYPES,
    Action,
    CrmConnector,
    CrmEvent,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordNotFound,
    RecordRef,
    TaskAction,
    WebhookRequest,
)

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


class Seeder:
    """How the suite puts data into, and reads it back from, the CRM under test.

    Each `seed_*` returns the new record's CRM id. Records created later must have a later
    last-modified time than earlier ones (an emulator or the local seeder may fake the clock).
    """

    # Values the suite writes through PropertyUpdate; override where a CRM lacks one.
    writable_properties: dict[str, dict[str, Any]] = {
        "contact": {"lead_status": "IN_PROGRESS", "ai_score": 72},
        "deal": {"ai_health": "amber"},
    }

    def seed_company(self, props: dict[str, Any]) -> str:
        raise NotImplementedError

    def seed_contact(self, props: dict[str, Any], *, company_id: str | None = None) -> str:
        raise NotImplementedError

    def seed_deal(
        self,
        props: dict[str, Any],
        *,
        company_id: str | None = None,
        contact_ids: Sequence[str] = (),
    ) -> str:
        raise NotImplementedError

    def seed_activity(
        self, ref: RecordRef, *, kind: str, timestamp: datetime, subject: str = "", body: str = ""
    ) -> str:
        raise NotImplementedError

    def seed_update(self, ref: RecordRef, props: dict[str, Any]) -> None:
        """Change a record as a user would, moving its last-modified time forward."""
        raise NotImplementedError

    def fetch_notes(self, ref: RecordRef) -> list[str]:
        """Bodies of the notes on the record, read behind the connector's back."""
        raise NotImplementedError

    def fetch_tasks(self, ref: RecordRef) -> list[dict[str, Any]]:
        """Tasks on the record as {"subject", "body", "due_date": date}."""
        raise NotImplementedError

    def fetch_properties(self, ref: RecordRef) -> dict[str, Any]:
        """The record's stored neutral properties, read behind the connector's back."""
        raise NotImplementedError

    def missing_id(self, object_type: str) -> str:
        """An id no record of `object_type` has."""
        return "missing-000000"

    def webhook_body(self, events: Sequence[CrmEvent]) -> bytes:
        """The CRM's webhook body announcing `events`."""
        raise NotImplementedError

    def webhook_signed(self, body: bytes) -> WebhookRequest:
        """A request carrying `body`, authenticated the way the CRM does it."""
        raise NotImplementedError

    def webhook_forged(self, request: WebhookRequest) -> WebhookRequest:
        """The request altered after signing; the default changes the body."""
        return replace(request, body=request.body + b" ")

    def webhook_malformed_bodies(self) -> list[bytes]:
        """Bodies `parse_webhook` must reject with ValueError, even when signed."""
        return [b"", b"{", b"<not a payload"]


class ConnectorConformance:
    """The behaviour salesops relies on, as tests. Subclasses provide `connector` and `seed`."""

    @pytest.fixture
    def connector(self) -> CrmConnector:
        raise NotImplementedError("provide a `connector` fixture in the subclass")

    @pytest.fixture
    def seed(self) -> Seeder:
        raise NotImplementedError("provide a `seed` fixture in the subclass")

    @pytest.fixture
    def graph(self, seed: Seeder) -> dict[str, Any]:
        """A company with two contacts and one deal linking both."""
        company = seed.seed_company({"name": "Acme Tools", "domain": "acme.test"})
        ada = seed.seed_contact({"first_name": "Ada", "email": "ada@acme.test"}, company_id=company)
        bo = seed.seed_contact({"first_name": "Bo", "email": "bo@acme.test"}, company_id=company)
        deal = seed.seed_deal(
            {"name": "Acme expansion", "amount": 50000.0}, company_id=company, contact_ids=[ada, bo]
        )
        return {"company": company, "ada": ada, "bo": bo, "deal": deal}

    # -- reads -----------------------------------------------------------------------------

    def test_it_implements_the_protocol(self, connector: CrmConnector) -> None:
        assert isinstance(connector, CrmConnector)
        assert isinstance(connector.kind, str) and connector.kind

    def test_it_lists_records_changed_after_a_cursor_oldest_first(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        first = seed.seed_contact({"first_name": "First"})
        second = seed.seed_contact({"first_name": "Second"})
        third = seed.seed_contact({"first_name": "Third"})
        seed.seed_update(RecordRef("contact", second), {"job_title": "CTO"})
        (cursor_record,) = connector.get_many("contact", [first])
        cursor = cursor_record.last_modified
        assert cursor is not None

        changed = list(connector.iter_changed("contact", cursor))

        ours = [r.id for r in changed if r.id in {first, second, third}]
        assert ours == [third, second]
        stamps = [r.last_modified for r in changed]
        assert all(s is not None and s > cursor for s in stamps)
        assert stamps == sorted(stamps)  # type: ignore[type-var]

    def test_it_lists_every_record_without_a_cursor(
        self, connector: CrmConnector, graph: dict[str, Any]
    ) -> None:
        ids = {r.id for r in connector.iter_changed("contact", None)}
        assert {graph["ada"], graph["bo"]} <= ids
        assert graph["company"] in {r.id for r in connector.iter_changed("company", None)}

    def test_it_reads_records_by_id_with_neutral_properties(
        self, connector: CrmConnector, graph: dict[str, Any]
    ) -> None:
        (ada,) = connector.get_many("contact", [graph["ada"]])
        assert (ada.object_type, ada.id) == ("contact", graph["ada"])
        assert ada.properties["first_name"] == "Ada"
        assert ada.properties["email"] == "ada@acme.test"
        assert ada.last_modified is not None
        (deal,) = connector.get_many("deal", [graph["deal"]])
        assert deal.properties["name"] == "Acme expansion"
        assert float(deal.properties["amount"]) == 50000.0

    def test_it_reads_associations_of_every_object(
        self, connector: CrmConnector, graph: dict[str, Any]
    ) -> None:
        (deal,) = connector.get_many("deal", [graph["deal"]])
        assert deal.associations["company"] == [graph["company"]]
        assert sorted(deal.associations["contacts"]) == sorted([graph["ada"], graph["bo"]])
        (ada,) = connector.get_many("contact", [graph["ada"]])
        assert ada.associations["company"] == [graph["company"]]
        assert ada.associations["deals"] == [graph["deal"]]
        (company,) = connector.get_many("company", [graph["company"]])
        assert sorted(company.associations["contacts"]) == sorted([graph["ada"], graph["bo"]])
        assert company.associations["deals"] == [graph["deal"]]

    def test_it_leaves_missing_ids_out(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        records = connector.get_many("contact", [seed.missing_id("contact"), graph["bo"]])
        assert [r.id for r in records] == [graph["bo"]]
        assert connector.get_many("deal", []) == []

    def test_it_lists_activities_newest_first_up_to_the_limit(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("contact", graph["ada"])
        for days, subject in ((3, "oldest"), (1, "newest"), (2, "middle")):
            seed.seed_activity(
                ref, kind="call", timestamp=NOW - timedelta(days=days), subject=subject
            )

        everything = connector.activities(ref)
        two = connector.activities(ref, limit=2)

        assert [a.subject for a in everything] == ["newest", "middle", "oldest"]
        assert [a.subject for a in two] == ["newest", "middle"]
        assert all(a.kind == "call" and not a.ai_generated for a in everything)

    # -- writes ----------------------------------------------------------------------------

    def test_it_writes_a_note_that_shows_as_an_ai_activity(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("contact", graph["ada"])
        (result,) = connector.apply([NoteAction(ref, "Tier A: 500 staff.", "k-note-1")])

        assert (result.idempotency_key, result.status) == ("k-note-1", "created")
        assert seed.fetch_notes(ref) == ["Tier A: 500 staff."]
        notes = [a for a in connector.activities(ref) if a.kind == "note"]
        assert len(notes) == 1 and notes[0].ai_generated
        assert "Tier A: 500 staff." in notes[0].body

    def test_it_writes_a_task(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("deal", graph["deal"])
        due = date(2025, 3, 6)
        (result,) = connector.apply([TaskAction(ref, "Call Ada", "Agenda", due, "k-task-1")])

        assert result.status == "created"
        (task,) = seed.fetch_tasks(ref)
        assert (task["subject"], task["due_date"]) == ("Call Ada", due)

    @pytest.mark.parametrize("object_type", ["contact", "deal"])
    def test_it_updates_properties(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any], object_type: str
    ) -> None:
        ref = RecordRef(object_type, graph["ada"] if object_type == "contact" else graph["deal"])
        values = seed.writable_properties[object_type]

        (result,) = connector.apply([PropertyUpdate(ref, values, "k-props")])

        assert result.status == "updated"
        stored = seed.fetch_properties(ref)
        assert {k: stored[k] for k in values} == values
        (record,) = connector.get_many(object_type, [ref.id])
        assert {k: record.properties[k] for k in values} == values

    @pytest.mark.parametrize("kind", ["note", "task"])
    def test_it_applies_each_key_once(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any], kind: str
    ) -> None:
        ref = RecordRef("contact", graph["bo"])
        action = (
            NoteAction(ref, "Follow up", "k-once")
            if kind == "note"
            else TaskAction(ref, "Follow up", "Draft", date(2025, 3, 6), "k-once")
        )

        first = connector.apply([action])
        second = connector.apply([action])

        assert [r.status for r in first + second] == ["created", "exists"]
        fetched = seed.fetch_notes(ref) if kind == "note" else seed.fetch_tasks(ref)
        assert len(fetched) == 1

    def test_it_returns_one_result_per_action_in_order(
        self, connector: CrmConnector, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("contact", graph["ada"])
        actions: list[Action] = [
            NoteAction(ref, "n", "k-a"),
            PropertyUpdate(ref, {"lead_status": "OPEN"}, "k-b"),
            TaskAction(ref, "t", "", date(2025, 3, 6), "k-c"),
        ]
        results = connector.apply(actions)
        assert [(r.idempotency_key, r.status) for r in results] == [
            ("k-a", "created"),
            ("k-b", "updated"),
            ("k-c", "created"),
        ]

    @pytest.mark.parametrize("object_type", OBJECT_TYPES)
    def test_it_raises_record_not_found_for_a_missing_record(
        self, connector: CrmConnector, seed: Seeder, object_type: str
    ) -> None:
        ref = RecordRef(object_type, seed.missing_id(object_type))
        with pytest.raises(RecordNotFound):
            connector.apply([NoteAction(ref, "x", "k-missing-note")])
        with pytest.raises(RecordNotFound):
            connector.apply([PropertyUpdate(ref, {"owner": None}, "k-missing-prop")])

    def test_it_rejects_a_property_outside_the_neutral_model(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("contact", graph["ada"])
        with pytest.raises(PermanentCRMError) as caught:
            connector.apply([PropertyUpdate(ref, {"favourite_colour": "red"}, "k-bad")])
        assert not isinstance(caught.value, RecordNotFound)
        assert "favourite_colour" in str(caught.value)
        assert seed.fetch_properties(ref).get("favourite_colour") is None

    # -- webhooks --------------------------------------------------------------------------

    @pytest.fixture
    def events(self) -> list[CrmEvent]:
        return [
            CrmEvent("ev-1", "contact.created", RecordRef("contact", "101"), NOW),
            CrmEvent(
                "ev-2",
                "deal.property_changed",
                RecordRef("deal", "202"),
                NOW + timedelta(seconds=1),
                property="stage",
                value="closedwon",
            ),
        ]

    def test_it_accepts_a_correctly_signed_webhook(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        assert connector.verify_webhook(seed.webhook_signed(seed.webhook_body(events))) is True

    def test_it_rejects_a_forged_webhook(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        request = seed.webhook_signed(seed.webhook_body(events))
        assert connector.verify_webhook(seed.webhook_forged(request)) is False

    def test_it_parses_webhook_events_into_neutral_events(
        self, connector: CrmConnector, seed: Seeder, events: list[CrmEvent]
    ) -> None:
        request = seed.webhook_signed(seed.webhook_body(events))

        parsed = connector.parse_webhook(request)

        def shape(e: CrmEvent) -> tuple[Any, ...]:
            return (e.name, e.record, e.property, e.value, e.occurred_at)

        assert [shape(e) for e in parsed] == [shape(e) for e in events]
        assert all(e.event_id for e in parsed) and len({e.event_id for e in parsed}) == 2
        assert [e.event_id for e in connector.parse_webhook(request)] == [
            e.event_id for e in parsed
        ]  # replays keep their ids, so they dedupe

    def test_it_rejects_malformed_webhook_bodies(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        for body in seed.webhook_malformed_bodies():
            with pytest.raises(ValueError):
                connector.parse_webhook(seed.webhook_signed(body))
