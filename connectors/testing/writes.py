"""Conformance: notes, tasks and property updates, one outcome per action, idempotent."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.base import (
    OBJECT_TYPES,
    Action,
    CrmConnector,
    NoteAction,
    PropertyUpdate,
    RecordRef,
    TaskAction,
)
from connectors.testing.fixtures import ConformanceFixtures
from connectors.testing.seeder import Seeder


class WriteConformance(ConformanceFixtures):
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
        action = _keyed(kind, ref, "k-once")

        first = connector.apply([action])
        second = connector.apply([action])  # a retry after a lost answer
        within = connector.apply([_keyed(kind, ref, "k-twice"), _keyed(kind, ref, "k-twice")])

        assert [r.status for r in first + second] == ["created", "exists"]
        assert [r.status for r in within] == ["created", "exists"]
        assert second[0].external_id == first[0].external_id
        fetched = seed.fetch_notes(ref) if kind == "note" else seed.fetch_tasks(ref)
        assert len(fetched) == 2

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

    def test_it_fails_one_bad_action_and_does_the_others(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ada = RecordRef("contact", graph["ada"])
        missing = RecordRef("contact", seed.missing_id("contact"))
        actions: list[Action] = [
            NoteAction(ada, "first", "k-p1"),
            NoteAction(missing, "nowhere", "k-p2"),
            PropertyUpdate(ada, {"lead_status": "OPEN"}, "k-p3"),
            TaskAction(ada, "last", "", date(2025, 3, 6), "k-p4"),
        ]

        results = connector.apply(actions)

        assert [r.status for r in results] == ["created", "failed", "updated", "created"]
        bad = results[1]
        assert bad.idempotency_key == "k-p2" and bad.error and not bad.retriable
        assert seed.fetch_notes(ada) == ["first"] and len(seed.fetch_tasks(ada)) == 1

    @pytest.mark.parametrize("object_type", OBJECT_TYPES)
    def test_it_fails_an_action_on_a_missing_record_for_good(
        self, connector: CrmConnector, seed: Seeder, object_type: str
    ) -> None:
        ref = RecordRef(object_type, seed.missing_id(object_type))
        results = connector.apply(
            [
                NoteAction(ref, "x", "k-missing-note"),
                PropertyUpdate(ref, {"owner": None}, "k-missing-prop"),
            ]
        )
        assert [(r.status, r.retriable) for r in results] == [("failed", False)] * 2
        assert all(r.error for r in results)

    def test_it_fails_a_property_outside_the_neutral_model(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        ref = RecordRef("contact", graph["ada"])
        (result,) = connector.apply([PropertyUpdate(ref, {"favourite_colour": "red"}, "k-bad")])
        assert (result.status, result.retriable) == ("failed", False)
        assert "favourite_colour" in result.error
        assert seed.fetch_properties(ref).get("favourite_colour") is None


def _keyed(kind: str, ref: RecordRef, key: str) -> Action:
    if kind == "note":
        return NoteAction(ref, "Follow up", key)
    return TaskAction(ref, "Follow up", "Draft", date(2025, 3, 6), key)
