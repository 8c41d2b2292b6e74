"""A neutral record store for vendor emulators, seeded from sop_library/sample_data/.

Records are vendor-neutral (owner, company, contact, deal, activity with the sample file's
field names); a vendor emulator maps them into its own shape and ids. Every change stamps
`last_modified` from the emulator's clock; deletes leave tombstones so incremental syncs see them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.emulators.framework.clock import Clock, FakeClock

SAMPLE_PATH = Path(__file__).resolve().parents[3] / "sop_library" / "sample_data" / "crm.json"
SECTIONS = {
    "owners": "owner",
    "companies": "company",
    "contacts": "contact",
    "deals": "deal",
    "activities": "activity",
}
OBJECT_TYPES = tuple(SECTIONS.values())
# Fields holding ids of other records (remapped when an id_factory renames records).
LINKS = {"owner": "owner", "company": "company", "contact": "contact", "deal": "deal"}
LINK_LISTS = {"contacts": "contact"}
_RELATIVE = re.compile(r"^(now|today)((?:[+-]\d+[wdhm])*)$")
_TERM = re.compile(r"([+-])(\d+)([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_TIME_FIELDS = re.compile(r"(_at|timestamp)$")
_DATE_FIELDS = re.compile(r"_date$")

IdFactory = Callable[[str, int], str]


@dataclass
class StoredRecord:
    """One neutral record; `deleted_at` set means it is a tombstone."""

    object_type: str
    id: str
    fields: dict[str, Any]
    created_at: datetime
    last_modified: datetime
    deleted_at: datetime | None = None
    sample_id: str | None = field(default=None)  # its id in the sample file, when seeded

    @property
    def deleted(self) -> bool:
        """Whether the record was deleted (kept as a tombstone)."""
        return self.deleted_at is not None


def resolve_time(value: Any, *, now: datetime, kind: str) -> Any:
    """ "now-3d-4h" / "today+14d" / ISO text -> datetime (kind "timestamp") or date."""
    if not isinstance(value, str):
        return value
    text = value.replace(" ", "")
    match = _RELATIVE.match(text)
    if match:
        base = now if match[1] == "now" else datetime.combine(now.date(), time(), tzinfo=UTC)
        for sign, amount, unit in _TERM.findall(match[2]):
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            base = base + delta if sign == "+" else base - delta
        return base if kind == "timestamp" else base.date()
    if kind == "date":
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sample_load(path: Path = SAMPLE_PATH) -> dict[str, list[dict[str, Any]]]:
    """The raw sections of a sample file (.json, .yaml or .yml), unresolved."""
    text = Path(path).read_text()
    data = yaml.safe_load(text) if Path(path).suffix in (".yaml", ".yml") else json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object with owners, companies, contacts, ...")
    return {k: list(data.get(k) or []) for k in SECTIONS}


class RecordStore:
    """Neutral records by type and id, with change times, tombstones and id assignment."""

    def __init__(self, clock: Clock | None = None, *, id_factory: IdFactory | None = None) -> None:
        self.clock: Clock = clock or FakeClock()
        self.id_factory = id_factory
        self._records: dict[str, dict[str, StoredRecord]] = {t: {} for t in OBJECT_TYPES}
        self._sequence = dict.fromkeys(OBJECT_TYPES, 0)
        self._lock = threading.RLock()

    @classmethod
    def from_sample(
        cls,
        path: Path = SAMPLE_PATH,
        *,
        clock: Clock | None = None,
        id_factory: IdFactory | None = None,
    ) -> RecordStore:
        """A store holding every record of a sample file."""
        store = cls(clock, id_factory=id_factory)
        store.seed(path)
        return store

    def seed(self, path: Path = SAMPLE_PATH) -> dict[str, int]:
        """Add the sample file's records (relative times resolved now); counts per object type."""
        now = self.clock.now()
        sections = sample_load(path)
        renamed: dict[tuple[str, str], str] = {}
        with self._lock:
            for section, object_type in SECTIONS.items():
                for item in sections[section]:
                    renamed[(object_type, item["id"])] = self._new_id(object_type, item["id"])
            counts = {}
            for section, object_type in SECTIONS.items():
                for item in sections[section]:
                    values = self._resolve(item, now, renamed)
                    created = values.get("created_at") or values.get("timestamp") or now
                    stamps = [v for v in values.values() if isinstance(v, datetime) and v <= now]
                    record = StoredRecord(
                        object_type,
                        renamed[(object_type, item["id"])],
                        values,
                        created_at=created,
                        last_modified=max(stamps, default=now),
                        sample_id=item["id"],
                    )
                    self._records[object_type][record.id] = record
                counts[object_type] = len(sections[section])
        return counts

    # -- reads -----------------------------------------------------------------------------
    def get(
        self, object_type: str, id: str, *, include_deleted: bool = False
    ) -> StoredRecord | None:
        """One record by id (tombstones only when asked)."""
        record = self._table(object_type).get(id)
        if record is None or (record.deleted and not include_deleted):
            return None
        return record

    def by_sample_id(self, object_type: str, sample_id: str) -> StoredRecord | None:
        """The record seeded from a sample-file id."""
        return next(
            (r for r in self._table(object_type).values() if r.sample_id == sample_id), None
        )

    def all(self, object_type: str, *, include_deleted: bool = False) -> list[StoredRecord]:
        """Records of one type, oldest change first (ties by id), as a sync would page them."""
        with self._lock:
            rows = [
                r for r in self._table(object_type).values() if include_deleted or not r.deleted
            ]
        return sorted(rows, key=lambda r: (r.last_modified, r.id))

    def changed_since(
        self, object_type: str, since: datetime, *, include_deleted: bool = True
    ) -> list[StoredRecord]:
        """Records (and tombstones) changed at or after `since`, oldest first."""
        rows = self.all(object_type, include_deleted=include_deleted)
        return [r for r in rows if r.last_modified >= since]

    def count(self, object_type: str, *, include_deleted: bool = False) -> int:
        """How many records of a type there are."""
        return len(self.all(object_type, include_deleted=include_deleted))

    # -- writes ----------------------------------------------------------------------------
    def create(
        self, object_type: str, fields: dict[str, Any], *, id: str | None = None
    ) -> StoredRecord:
        """Add a record; the store assigns its id unless one is given."""
        now = self.clock.now()
        with self._lock:
            table = self._table(object_type)
            new_id = id or self._new_id(object_type, None)
            if new_id in table:
                raise KeyError(f"{object_type} {new_id} already exists")
            record = StoredRecord(object_type, new_id, dict(fields), now, now)
            table[new_id] = record
            return record

    def update(self, object_type: str, id: str, fields: dict[str, Any]) -> StoredRecord:
        """Change some fields of a live record; raises KeyError when missing or deleted."""
        with self._lock:
            record = self._live(object_type, id)
            record.fields.update(fields)
            record.last_modified = self.clock.now()
            return record

    def delete(self, object_type: str, id: str) -> StoredRecord:
        """Delete a live record, leaving a tombstone; raises KeyError when missing or deleted."""
        with self._lock:
            record = self._live(object_type, id)
            record.deleted_at = record.last_modified = self.clock.now()
            return record

    # -- internals -------------------------------------------------------------------------
    def _table(self, object_type: str) -> dict[str, StoredRecord]:
        if object_type not in self._records:
            raise KeyError(f"unknown object type {object_type!r}; one of {OBJECT_TYPES}")
        return self._records[object_type]

    def _live(self, object_type: str, id: str) -> StoredRecord:
        record = self.get(object_type, id)
        if record is None:
            raise KeyError(f"{object_type} {id} not found")
        return record

    def _new_id(self, object_type: str, sample_id: str | None) -> str:
        table = self._table(object_type)
        while True:
            self._sequence[object_type] += 1
            n = self._sequence[object_type]
            if self.id_factory is not None:
                candidate = self.id_factory(object_type, n)
            else:
                candidate = sample_id or f"{object_type}-{n}"
            if candidate not in table:
                return candidate
            if sample_id is not None and self.id_factory is None:
                raise KeyError(f"{object_type} {sample_id} already exists")

    def _resolve(
        self, item: dict[str, Any], now: datetime, renamed: dict[tuple[str, str], str]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in item.items():
            if key == "id" or key.startswith("_"):
                continue
            if key in LINKS and isinstance(value, str):
                value = renamed.get((LINKS[key], value), value)
            elif key in LINK_LISTS and isinstance(value, list):
                value = [renamed.get((LINK_LISTS[key], v), v) for v in value]
            elif _TIME_FIELDS.search(key):
                value = resolve_time(value, now=now, kind="timestamp")
            elif _DATE_FIELDS.search(key):
                value = resolve_time(value, now=now, kind="date")
            values[key] = value
        return values
