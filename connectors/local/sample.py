"""Load the local CRM's sample data (sop_library/sample_data/crm.json), idempotently.

Times are relative so the data never goes stale: timestamps `"now"`, `"now-3d-4h"`,
`"now+2h"`; dates `"today+14d"`, `"today-5d"` (units w, d, h, m); ISO strings also work.
Only missing rows (by id) are created; existing rows are never modified. No events fire:
loading sample data must not start hundreds of runs. Loaded into another account than the
default one, every id gets the account as a prefix (`acme-c-001`), so two accounts can both
hold the sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors.local import models as m
from connectors.local.signals import events_suppressed
from connectors.record_model import OBJECT_FIELDS

SECTIONS = {"owners": "owner", "companies": "company", "contacts": "contact", "deals": "deal"}
_RELATIVE = re.compile(r"^(now|today)((?:[+-]\d+[wdhm])*)$")
_TERM = re.compile(r"([+-])(\d+)([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_ACTIVITY_KEYS = {"id", "kind", "timestamp", "subject", "body", "direction", "outcome"}
_ACTIVITY_KEYS |= {"ai_generated", "contact", "company", "deal"}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "double": (int, float),
    "bool": (bool,),
}


def sample_data_load(
    path: Path, *, now: datetime | None = None, account: str = m.DEFAULT_ACCOUNT
) -> dict[str, int]:
    """Create the sample rows of `account` that do not exist yet; counts created per section.

    Raises:
        ValueError: bad JSON or bad data, naming the record (unknown id, bad relative time).
    """
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object with owners, companies, contacts, ...")
    unknown = sorted(set(data) - {*SECTIONS, "activities"} - {k for k in data if k[:1] == "_"})
    if unknown:
        raise ValueError(f"{path}: unknown sections {', '.join(unknown)}")
    if not account or not isinstance(account, str) or len(account) > 32:
        raise ValueError(f"account must be 1-32 characters, got {account!r}")
    loader = _Loader(data, now or timezone.now(), account)
    with events_suppressed(), transaction.atomic():
        return loader.load()


def relative_time_resolve(value: Any, kind: str, *, now: datetime, where: str) -> Any:
    """Resolve "now-3d-4h" / "today+14d" / ISO text into a datetime (kind "timestamp") or date."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a time string, got {value!r}")
    text = value.replace(" ", "")
    match = _RELATIVE.match(text)
    if match:
        base = now if match[1] == "now" else datetime.combine(now.date(), time(), tzinfo=UTC)
        for sign, amount, unit in _TERM.findall(match[2]):
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            base = base + delta if sign == "+" else base - delta
        return base if kind == "timestamp" else base.date()
    try:
        parsed: datetime | date = (
            datetime.fromisoformat(text) if kind == "timestamp" else date.fromisoformat(text)
        )
    except ValueError:
        raise ValueError(
            f"{where}: bad time {value!r} (use now-3d-4h, today+14d or ISO-8601)"
        ) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # sample data is written in UTC
    return parsed


class _Loader:
    def __init__(self, data: Mapping[str, Any], now: datetime, account: str) -> None:
        self.data = data
        self.now = now
        self.account = account
        self.prefix = "" if account == m.DEFAULT_ACCOUNT else f"{account}-"
        self.counts: dict[str, int] = {}

    def _id(self, sample_id: str) -> str:
        """The row id of a sample id in this account."""
        return self.prefix + sample_id

    def load(self) -> dict[str, int]:
        self._owners()
        last_activity = self._last_activity_by_record()
        for section in ("companies", "contacts", "deals"):
            self._records(section, last_activity)
        self._activities()
        return self.counts

    def _items(self, section: str) -> list[dict[str, Any]]:
        items = self.data.get(section, [])
        if not isinstance(items, list):
            raise ValueError(f"{section}: expected a list")
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                raise ValueError(f"{section}[{i}]: every item needs a string id")
            if item["id"] in seen:
                raise ValueError(f"{section}[{item['id']}]: duplicate id")
            seen.add(item["id"])
        return items

    def _new(self, model: type[Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [self._id(item["id"]) for item in items]
        existing = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        return [item for item in items if self._id(item["id"]) not in existing]

    def _require(self, model: type[Any], refs: dict[str, str], label: str) -> None:
        # refs: referenced id -> where it was referenced; checked in one query per relation.
        ids = [self._id(ref) for ref in refs]
        rows = model.objects.filter(pk__in=ids, account=self.account)
        found = set(rows.values_list("pk", flat=True))
        for ref, where in refs.items():
            if self._id(ref) not in found:
                raise ValueError(f"{where}: unknown {label} {ref!r}")

    def _owners(self) -> None:
        items = self._new(m.Owner, self._items("owners"))
        for item in items:
            extra = set(item) - {"id", "name", "email"}
            if extra:
                raise ValueError(f"owners[{item['id']}]: unknown fields {', '.join(sorted(extra))}")
        rows = [
            m.Owner(
                id=self._id(i["id"]),
                account=self.account,
                name=i.get("name", ""),
                email=i.get("email", ""),
            )
            for i in items
        ]
        m.Owner.objects.bulk_create(rows)
        self.counts["owners"] = len(rows)

    def _last_activity_by_record(self) -> dict[tuple[str, str], datetime]:
        # Records without last_activity_at get their newest human activity's time, as a CRM would.
        latest: dict[tuple[str, str], datetime] = {}
        for item in self._items("activities"):
            if item.get("ai_generated"):
                continue
            where = f"activities[{item['id']}].timestamp"
            ts = relative_time_resolve(
                item.get("timestamp"), "timestamp", now=self.now, where=where
            )
            for object_type in ("contact", "company", "deal"):
                if ts is not None and item.get(object_type):
                    key = (object_type, item[object_type])
                    latest[key] = max(latest.get(key, ts), ts)
        return latest

    def _records(self, section: str, last_activity: dict[tuple[str, str], datetime]) -> None:
        object_type = SECTIONS[section]
        model = m.RECORD_MODELS[object_type]
        items = self._new(model, self._items(section))
        rows, owners, companies, links = [], {}, {}, []
        for item in items:
            where = f"{section}[{item['id']}]"
            values: dict[str, Any] = {
                "id": self._id(item["id"]),
                "account": self.account,
                "created_at": self.now,
            }
            for key, value in item.items():
                if key == "id" or key.startswith("_"):
                    continue
                if key == "company" and object_type != "company":
                    if value is not None:
                        companies[value] = f"{where}.company"
                        values["company_id"] = self._id(value)
                elif key == "contacts" and object_type == "deal":
                    if not isinstance(value, list):
                        raise ValueError(f"{where}.contacts: expected a list of contact ids")
                    links += [(item["id"], c, f"{where}.contacts") for c in value]
                elif key == "owner":
                    if value is not None:
                        owners[value] = f"{where}.owner"
                        values["owner_id"] = self._id(value)
                else:
                    values[key] = self._value(object_type, key, value, f"{where}.{key}")
            if values.get("last_activity_at") is None:
                values["last_activity_at"] = last_activity.get((object_type, item["id"]))
            rows.append(model(**values))
        self._require(m.Owner, owners, "owner")
        self._require(m.Company, companies, "company")
        model.objects.bulk_create(rows, batch_size=500)
        if links:
            self._require(m.Contact, {c: w for _, c, w in links}, "contact")
            through = m.Deal.contacts.through
            through.objects.bulk_create(
                [through(deal_id=self._id(d), contact_id=self._id(c)) for d, c, _ in links],
                ignore_conflicts=True,
            )
        self.counts[section] = len(rows)

    def _value(self, object_type: str, key: str, value: Any, where: str) -> Any:
        kind = OBJECT_FIELDS[object_type].get(key)
        if kind is None:
            raise ValueError(f"{where}: unknown {object_type} field")
        if kind in ("timestamp", "date"):
            return relative_time_resolve(value, kind, now=self.now, where=where)
        if value is None:
            return "" if kind == "string" else None
        if not isinstance(value, _PY_TYPES[kind]) or (kind != "bool" and isinstance(value, bool)):
            raise ValueError(f"{where}: expected {kind}, got {value!r}")
        return value

    def _activities(self) -> None:
        items = self._new(m.Activity, self._items("activities"))
        rows: list[m.Activity] = []
        refs: dict[str, dict[str, str]] = {"contact": {}, "company": {}, "deal": {}}
        kinds = {k for k, _ in m.ACTIVITY_KINDS}
        for item in items:
            where = f"activities[{item['id']}]"
            unknown = sorted(set(item) - _ACTIVITY_KEYS - {k for k in item if k[:1] == "_"})
            if unknown:
                raise ValueError(f"{where}: unknown fields {', '.join(unknown)}")
            if item.get("kind") not in kinds:
                raise ValueError(
                    f"{where}.kind: {item.get('kind')!r} is not one of {sorted(kinds)}"
                )
            if not item.get("timestamp"):
                raise ValueError(f"{where}.timestamp: required")
            links = {t: item[t] for t in refs if item.get(t)}
            if not links:
                raise ValueError(f"{where}: must link a contact, company or deal")
            for object_type, ref in links.items():
                refs[object_type][ref] = f"{where}.{object_type}"
            rows.append(
                m.Activity(
                    id=self._id(item["id"]),
                    account=self.account,
                    kind=item["kind"],
                    timestamp=relative_time_resolve(
                        item["timestamp"], "timestamp", now=self.now, where=f"{where}.timestamp"
                    ),
                    subject=item.get("subject") or "",
                    body=item.get("body") or "",
                    direction=item.get("direction") or "",
                    outcome=item.get("outcome") or "",
                    ai_generated=bool(item.get("ai_generated", False)),
                    **{f"{t}_id": self._id(ref) for t, ref in links.items()},
                )
            )
        for object_type, found in refs.items():
            self._require(m.RECORD_MODELS[object_type], found, object_type)
        m.Activity.objects.bulk_create(rows, batch_size=500)
        self.counts["activities"] = len(rows)
