"""Conformance: reading records, the paged change feed, resume, ties and deletes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.base import Capabilities, CrmConnector, PermanentCRMError, RecordRef
from connectors.testing.fixtures import (
    NOW,
    ConformanceFixtures,
    ConnectorFactory,
    read_all,
    record_ids,
    requires,
)
from connectors.testing.seeder import Seeder


class ReadConformance(ConformanceFixtures):
    def test_it_implements_the_protocol(self, connector: CrmConnector) -> None:
        assert isinstance(connector, CrmConnector)
        assert isinstance(connector.kind, str) and connector.kind
        caps = connector.capabilities
        assert isinstance(caps, Capabilities)
        assert caps.page_size > 0 and caps.batch_size > 0

    def test_it_pages_every_record_once_from_the_beginning(
        self, make_connector: ConnectorFactory, seed: Seeder
    ) -> None:
        for i in range(7):
            seed.seed_contact({"first_name": f"P{i}"})
        pages, _ = read_all(make_connector(page_size=3), "contact")

        ids = record_ids(pages)
        assert len(ids) == len(set(ids)), "a record was delivered twice in one pass"
        assert set(ids) == seed.fetch_ids("contact")
        assert all(p.has_more for p in pages[:-1]) and not pages[-1].has_more
        assert all(len(p.records) <= 3 for p in pages)

    def test_it_resumes_from_a_saved_cursor_after_a_kill(
        self, make_connector: ConnectorFactory, seed: Seeder
    ) -> None:
        for i in range(8):
            seed.seed_contact({"first_name": f"R{i}"})
        first = make_connector(page_size=3).read_page("contact", None)
        saved = first.next_cursor  # what a sync stores after each page; then the process dies
        assert first.has_more

        rest, _ = read_all(make_connector(page_size=3), "contact", saved)

        ids = [r.id for r in first.records] + record_ids(rest)
        assert len(ids) == len(set(ids)), "resuming repeated a record"
        assert set(ids) == seed.fetch_ids("contact"), "resuming skipped a record"

    def test_it_never_skips_or_repeats_records_with_equal_timestamps(
        self, make_connector: ConnectorFactory, seed: Seeder
    ) -> None:
        seed.seed_contact({"first_name": "before"})
        with seed.same_timestamp():
            tied = {seed.seed_contact({"first_name": f"T{i}"}) for i in range(7)}
        seed.seed_contact({"first_name": "after"})

        pages, _ = read_all(make_connector(page_size=2), "contact")

        ids = record_ids(pages)
        assert len(ids) == len(set(ids))
        assert tied <= set(ids) and set(ids) == seed.fetch_ids("contact")
        stamps = {r.last_modified for p in pages for r in p.records if r.id in tied}
        assert len(stamps) == 1, "the seeder did not tie the timestamps"

    def test_it_lists_changes_after_a_cursor_oldest_first(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        first = seed.seed_contact({"first_name": "First"})
        second = seed.seed_contact({"first_name": "Second"})
        _, cursor = read_all(connector, "contact")
        third = seed.seed_contact({"first_name": "Third"})
        seed.seed_update(RecordRef("contact", second), {"job_title": "CTO"})

        pages, _ = read_all(connector, "contact", cursor)

        records = [r for p in pages for r in p.records]
        ours = [r.id for r in records if r.id in {first, second, third}]
        assert ours[-2:] == [third, second], "changes must come oldest first"
        (changed,) = [r for r in records if r.id == second]
        assert changed.properties["job_title"] == "CTO"
        stamps = [r.last_modified for r in records]
        assert None not in stamps and stamps == sorted(stamps)  # type: ignore[type-var]

    def test_it_refuses_a_cursor_it_did_not_make(self, connector: CrmConnector) -> None:
        with pytest.raises(PermanentCRMError):
            connector.read_page("contact", "definitely not a cursor")

    def test_it_reports_deleted_records_after_the_cursor(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        requires(connector, "deletes", "its change feed does not report deletes")
        keep = seed.seed_contact({"first_name": "Keep"})
        gone = seed.seed_contact({"first_name": "Gone"})
        _, cursor = read_all(connector, "contact")

        seed.seed_delete(RecordRef("contact", gone))
        pages, _ = read_all(connector, "contact", cursor)

        assert gone in {i for p in pages for i in p.deleted_ids}
        assert gone not in record_ids(pages) and keep not in {
            i for p in pages for i in p.deleted_ids
        }
        assert [r.id for r in connector.get_many("contact", [keep, gone])] == [keep]

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

    def test_it_reports_its_account_and_no_blocking_problem(
        self, connector: CrmConnector, seed: Seeder
    ) -> None:
        report = connector.check()
        if seed.account_id:
            assert report.account_id == seed.account_id
        assert report.blocking == [], [line.message for line in report.blocking]
        provisioned = connector.check(provision=True)
        assert provisioned.account_id == report.account_id
