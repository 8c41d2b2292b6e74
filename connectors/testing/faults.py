"""Conformance: error classification under transport faults, and two connections kept apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from connectors.base import (
    Action,
    ActionResult,
    CrmConnector,
    CRMError,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordNotFound,
    RecordRef,
    RetriableCRMError,
    TaskAction,
)
from connectors.testing.fixtures import ConformanceFixtures, read_all, record_ids, requires
from connectors.testing.seeder import Seeder

NO_TRANSPORT = "no transport between it and its CRM, so no 429, 5xx or expired session"


def _apply_classified(connector: CrmConnector, actions: Sequence[Action]) -> str:
    """ "retriable" or "permanent": how `apply` classified a failure (raised or per action)."""
    try:
        results: list[ActionResult] = connector.apply(actions)
    except RetriableCRMError:
        return "retriable"
    except PermanentCRMError:
        return "permanent"
    assert results and all(not r.ok for r in results), "the fault did not fail the call"
    return "retriable" if all(r.retriable for r in results) else "permanent"


class FaultConformance(ConformanceFixtures):
    """Needs `Seeder.fault_next`; skipped for connectors without a transport (local)."""

    @pytest.mark.parametrize("status", ["429", "500", "503"])
    def test_a_rate_limit_or_server_error_is_retriable(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any], status: str
    ) -> None:
        requires(connector, "transport", NO_TRANSPORT)
        seed.fault_next(status, retry_after=7 if status == "429" else None)
        with pytest.raises(RetriableCRMError) as caught:
            connector.get_many("contact", [graph["ada"]])
        if status == "429":
            assert caught.value.retry_after == pytest.approx(7)
        assert [r.id for r in connector.get_many("contact", [graph["ada"]])] == [graph["ada"]]

    def test_a_fault_during_apply_is_classified(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        requires(connector, "transport", NO_TRANSPORT)
        ref = RecordRef("contact", graph["ada"])
        seed.fault_next("429", retry_after=3)
        assert _apply_classified(connector, [NoteAction(ref, "n", "k-f1")]) == "retriable"
        seed.fault_next("400")
        assert _apply_classified(connector, [NoteAction(ref, "n", "k-f2")]) == "permanent"

    def test_a_client_error_is_permanent(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        requires(connector, "transport", NO_TRANSPORT)
        seed.fault_next("400")
        with pytest.raises(PermanentCRMError) as caught:
            connector.get_many("contact", [graph["ada"]])
        assert not isinstance(caught.value, RetriableCRMError)

    def test_an_expired_session_is_renewed_once(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any]
    ) -> None:
        requires(connector, "transport", NO_TRANSPORT)
        seed.fault_next("expired_session")
        assert [r.id for r in connector.get_many("contact", [graph["ada"]])] == [graph["ada"]]
        seed.fault_next("expired_session", times=2)  # renewed, still refused: give up
        with pytest.raises(CRMError):
            connector.get_many("contact", [graph["ada"]])

    @pytest.mark.parametrize("kind", ["note", "task"])
    def test_notes_and_tasks_stay_single_under_retries(
        self, connector: CrmConnector, seed: Seeder, graph: dict[str, Any], kind: str
    ) -> None:
        requires(connector, "transport", NO_TRANSPORT)
        ref = RecordRef("deal", graph["deal"])
        action: Action = (
            NoteAction(ref, "Risk: no next step", "k-retry")
            if kind == "note"
            else TaskAction(ref, "Book a call", "", date(2025, 3, 6), "k-retry")
        )
        seed.fault_next("503")
        assert _apply_classified(connector, [action]) == "retriable"
        statuses = [r.status for _ in range(2) for r in connector.apply([action])]
        assert statuses == ["created", "exists"]
        fetched = seed.fetch_notes(ref) if kind == "note" else seed.fetch_tasks(ref)
        assert len(fetched) == 1


class IsolationConformance(ConformanceFixtures):
    """Two connections of one kind (two portals, two orgs) never see each other's data."""

    def test_a_record_of_one_account_is_invisible_to_the_other(
        self,
        connector: CrmConnector,
        other_connector: CrmConnector,
        other_seed: Seeder,
        graph: dict[str, Any],
    ) -> None:
        theirs = other_seed.seed_contact({"first_name": "Theirs"})
        ada = RecordRef("contact", graph["ada"])

        assert other_connector.get_many("contact", [ada.id]) == []
        assert connector.get_many("contact", [theirs]) == []
        pages, _ = read_all(other_connector, "contact")
        assert set(record_ids(pages)) == {theirs}
        with pytest.raises(RecordNotFound):
            other_connector.activities(ada)

    def test_a_write_through_one_connection_never_reaches_the_other(
        self,
        connector: CrmConnector,
        other_connector: CrmConnector,
        seed: Seeder,
        other_seed: Seeder,
        graph: dict[str, Any],
    ) -> None:
        ada = RecordRef("contact", graph["ada"])
        before = seed.fetch_properties(ada)
        results = other_connector.apply(
            [NoteAction(ada, "wrong CRM", "k-iso"), PropertyUpdate(ada, {"job_title": "X"}, "k-p")]
        )
        assert [(r.status, r.retriable) for r in results] == [("failed", False)] * 2
        assert seed.fetch_notes(ada) == [] and seed.fetch_properties(ada) == before

        theirs = RecordRef("contact", other_seed.seed_contact({"first_name": "Theirs"}))
        # The same idempotency key is a different write in each account.
        (mine,) = connector.apply([NoteAction(ada, "mine", "k-shared")])
        (other,) = other_connector.apply([NoteAction(theirs, "theirs", "k-shared")])
        assert (mine.status, other.status) == ("created", "created")
        assert seed.fetch_notes(ada) == ["mine"] and other_seed.fetch_notes(theirs) == ["theirs"]

    def test_each_connection_reports_its_own_account(
        self,
        connector: CrmConnector,
        other_connector: CrmConnector,
        seed: Seeder,
        other_seed: Seeder,
    ) -> None:
        assert connector.check().account_id != other_connector.check().account_id
        if seed.account_id and other_seed.account_id:
            assert other_connector.check().account_id == other_seed.account_id
