"""Fixtures for the skills tests: hand-built record documents and the shipped sample CRM."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Activity, CrmRecord
from connectors.record_model import OBJECT_FIELDS
from salesops.skills.context import record_document_build

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)  # a Wednesday
_RELATIVE = re.compile(r"^(now|today)((?:[+-]\d+[wdhm])*)$")
_TERM = re.compile(r"([+-])(\d+)([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_SECTIONS = {"companies": "company", "contacts": "contact", "deals": "deal"}


def resolve_time(value: Any, kind: str, now: datetime) -> Any:
    """Resolve "now-3d-4h" / "today+14d" (or ISO text) to a datetime or a date."""
    if not isinstance(value, str):
        return value
    match = _RELATIVE.match(value)
    if not match:
        parsed = datetime.fromisoformat(value)
        return parsed.date() if kind == "date" else parsed
    delta = timedelta()
    for sign, amount, unit in _TERM.findall(match.group(2)):
        step = timedelta(**{_UNITS[unit]: int(amount)})
        delta += step if sign == "+" else -step
    moment = now + delta
    return moment.date() if kind == "date" or match.group(1) == "today" else moment


class SampleCrm:
    """The sample CRM (sop_library/sample_data/crm.json) as records, resolved at `now`."""

    def __init__(self, data: dict[str, Any], now: datetime) -> None:
        self.now = now
        self.records: dict[str, dict[str, CrmRecord]] = {t: {} for t in _SECTIONS.values()}
        for section, object_type in _SECTIONS.items():
            fields = OBJECT_FIELDS[object_type]
            for row in data.get(section, []):
                props = {
                    name: resolve_time(row.get(name), fields[name], now)
                    if fields[name] in ("timestamp", "date")
                    else row.get(name)
                    for name in fields
                }
                self.records[object_type][row["id"]] = CrmRecord(object_type, row["id"], props)
        self.rows = {s: {r["id"]: r for r in data.get(s, [])} for s in _SECTIONS}
        self.activities = data.get("activities", [])

    def _activities(self, key: str, record_id: str) -> list[Activity]:
        return [
            Activity(
                id=a["id"],
                kind=a["kind"],
                timestamp=resolve_time(a["timestamp"], "timestamp", self.now),
                subject=a.get("subject") or "",
                body=a.get("body") or "",
                direction=a.get("direction") or "",
                outcome=a.get("outcome") or "",
                ai_generated=bool(a.get("ai_generated")),
            )
            for a in self.activities
            if a.get(key) == record_id
        ]

    def document(self, object_type: str, record_id: str) -> dict[str, Any]:
        """The record document a run on this record would see."""
        record = self.records[object_type][record_id]
        row = self.rows[
            {"company": "companies", "contact": "contacts", "deal": "deals"}[object_type]
        ][record_id]
        companies, contacts, deals = (self.records[t] for t in ("company", "contact", "deal"))
        related: dict[str, list[CrmRecord]] = {}
        if object_type == "contact":
            related["company"] = [companies[row["company"]]] if row.get("company") else []
            related["deals"] = [
                deals[d["id"]]
                for d in self.rows["deals"].values()
                if record_id in d.get("contacts", [])
            ]
        elif object_type == "deal":
            related["company"] = [companies[row["company"]]] if row.get("company") else []
            related["contacts"] = [contacts[c] for c in row.get("contacts", [])]
        else:
            related["contacts"] = [
                contacts[c["id"]]
                for c in self.rows["contacts"].values()
                if c.get("company") == record_id
            ]
            related["deals"] = [
                deals[d["id"]] for d in self.rows["deals"].values() if d.get("company") == record_id
            ]
        return record_document_build(
            record,
            related=related,
            activities=self._activities(object_type, record_id),
            now=self.now,
        )

    def ids(self, object_type: str) -> list[str]:
        """Every record id of one object type."""
        return list(self.records[object_type])


@pytest.fixture(scope="session")
def sample_crm_documents() -> SampleCrm:
    """The shipped sample CRM, resolved at a fixed Wednesday; skips when the file is missing."""
    path = ROOT / "sop_library" / "sample_data" / "crm.json"
    if not path.exists():
        pytest.skip("sop_library/sample_data/crm.json is not there yet")
    return SampleCrm(json.loads(path.read_text()), NOW)


@pytest.fixture(scope="session")
def shipped_sops() -> dict[str, Any]:
    """The shipped SOP specs by name (parsed with the real parser)."""
    from salesops.skills.registry import offline_skill_names, tool_skill_names
    from salesops.specs.library import load_library

    library = load_library(
        ROOT / "sop_library", known_tools=tool_skill_names(), offline_skills=offline_skill_names()
    )
    assert not library.issues, library.issues
    return {name: loaded.spec for name, loaded in library.sops.items()}


def today() -> date:
    """The fixed test date."""
    return NOW.date()


def _activity(spec: dict[str, Any], now: datetime) -> Activity:
    """An Activity from a compact dict: {"id", "kind", "days_ago", ...}."""
    fields = dict(spec)
    moment = now - timedelta(days=fields.pop("days_ago", 0), hours=fields.pop("hours_ago", 0))
    return Activity(timestamp=moment, **fields)


def build_document(
    object_type: str,
    props: dict[str, Any],
    *,
    record_id: str = "r-1",
    company: dict[str, Any] | None = None,
    contacts: Sequence[dict[str, Any]] = (),
    deals: Sequence[dict[str, Any]] = (),
    activities: Sequence[dict[str, Any]] = (),
    now: datetime = NOW,
) -> dict[str, Any]:
    """A record document from compact dicts, through the real record_document_build."""
    related: dict[str, list[CrmRecord]] = {}
    if company is not None:
        related["company"] = [CrmRecord("company", company.get("id", "co-1"), company)]
    related["contacts"] = [CrmRecord("contact", c["id"], c) for c in contacts]
    related["deals"] = [CrmRecord("deal", d["id"], d) for d in deals]
    return record_document_build(
        CrmRecord(object_type, record_id, props),
        related=related,
        activities=[_activity(a, now) for a in activities],
        now=now,
    )


@pytest.fixture
def make_document() -> Callable[..., dict[str, Any]]:
    """build_document as a fixture, so test modules need no imports from conftest."""
    return build_document
