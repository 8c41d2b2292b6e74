"""One HubSpot portal's data for the emulator: objects with property history, archived records,
associations, property definitions, pipelines, owners and a journal of changes (for webhooks).

Seeded from the framework's neutral `RecordStore` (sop_library/sample_data/) mapped to HubSpot
property names. Values are stored as HubSpot returns them: text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.emulators.framework import Clock
from tests.emulators.hubspot_model import (
    ASSOCIATION_TYPES,
    INVERSE,
    OBJECT_TYPES,
    default_pipelines,
    default_properties,
    iso,
    property_definition,
    value_text,
)

# First id per object type: HubSpot ids are numeric and per type (so two portals share ids).
ID_BASE = {
    "contacts": 1001,
    "companies": 5_000_001,
    "deals": 9_000_001,
    "owners": 70_000_001,
    "notes": 40_000_001,
    "tasks": 41_000_001,
    "calls": 42_000_001,
    "emails": 43_000_001,
    "meetings": 44_000_001,
}


class StoreError(Exception):
    """A write HubSpot refuses: status, category and message in its error shape."""

    def __init__(
        self, status: int, category: str, message: str, *, context: dict | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message
        self.context = context or {}


@dataclass
class HsObject:
    """One CRM record; `archived_at` set means deleted (or merged into `merged_into`)."""

    type: str
    id: str
    properties: dict[str, str]
    created_at: datetime
    updated_at: datetime
    history: dict[str, list[tuple[str, datetime, str]]] = field(default_factory=dict)
    archived_at: datetime | None = None
    merged_into: str | None = None
    search_view: dict[str, str] | None = None  # what search still sees while it lags
    search_until: datetime | None = None

    @property
    def archived(self) -> bool:
        """Whether the record was archived (deleted or merged away)."""
        return self.archived_at is not None


class PortalStore:
    """A portal's records and schema; every write stamps `hs_lastmodifieddate`."""

    def __init__(
        self,
        portal_id: int,
        clock: Clock,
        *,
        search_lag: float = 0.0,
        second_pipeline: bool = False,
        id_offset: int = 0,
    ) -> None:
        self.portal_id = portal_id
        self.clock = clock
        self.search_lag = search_lag
        now = clock.now()
        self.objects: dict[str, dict[str, HsObject]] = {t: {} for t in OBJECT_TYPES}
        self.properties = {t: default_properties(t, now) for t in OBJECT_TYPES}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in OBJECT_TYPES}
        self.pipelines = default_pipelines(now, second=second_pipeline)
        self.owners: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        # (neutral type, sample-file id) -> HubSpot id, for records seeded from the sample data.
        self.sample_ids: dict[tuple[str, str], str] = {}
        # (from type, from id, to type) -> {to id: {typeIds}}
        self.links: dict[tuple[str, str, str], dict[str, set[int]]] = {}
        # HubSpot ids are unique across portals: each portal's sequences start `id_offset` on.
        self._sequence = {type_: base + id_offset for type_, base in ID_BASE.items()}
        self._frozen: datetime | None = None
        self._last_stamp: datetime | None = None
        self.lock = threading.RLock()
        for t, name in (("contacts", "contactinformation"), ("companies", "companyinformation")):
            self.groups[t][name] = {
                "name": name,
                "label": name,
                "displayOrder": 0,
                "archived": False,
            }
        self.groups["deals"]["dealinformation"] = {
            "name": "dealinformation",
            "label": "Deal information",
            "displayOrder": 0,
            "archived": False,
        }

    # -- time ------------------------------------------------------------------------------
    def stamp(self) -> datetime:
        """The time of a write: strictly after the previous one unless frozen (tie tests)."""
        if self._frozen is not None:
            return self._frozen
        now = self.clock.now()
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    @contextmanager
    def same_timestamp(self, moment: datetime | None = None) -> Iterator[datetime]:
        """Every write inside gets one `hs_lastmodifieddate` (ties on equal timestamps)."""
        with self.lock:
            self._frozen = moment or self.stamp()
            try:
                yield self._frozen
            finally:
                self._last_stamp, self._frozen = self._frozen, None

    # -- reads -----------------------------------------------------------------------------
    def get(self, type_: str, id_: str, *, archived: bool = False) -> HsObject | None:
        """A record by id: live ones, or only archived ones when `archived`."""
        obj = self.objects[type_].get(str(id_))
        if obj is None or obj.archived != archived:
            return None
        return obj

    def find_unique(self, type_: str, prop: str, value: str) -> HsObject | None:
        """The live record holding `value` in a unique property."""
        return next(
            (
                o
                for o in self.objects[type_].values()
                if not o.archived and o.properties.get(prop) == value
            ),
            None,
        )

    def live(self, type_: str, *, archived: bool = False) -> list[HsObject]:
        """Records of a type (archived ones only when asked), by numeric id."""
        with self.lock:
            rows = [o for o in self.objects[type_].values() if o.archived == archived]
        return sorted(rows, key=lambda o: int(o.id))

    def search_view(self, obj: HsObject) -> dict[str, str] | None:
        """The record as the (lagging) search index sees it; None when not indexed yet."""
        if obj.search_until is not None and self.clock.now() < obj.search_until:
            return obj.search_view
        return None if obj.archived else obj.properties

    def associated(self, type_: str, id_: str, to_type: str) -> dict[str, set[int]]:
        """Associated record ids (live ones) with their association type ids."""
        found = self.links.get((type_, str(id_), to_type), {})
        return {to: set(types) for to, types in found.items() if self.get(to_type, to) is not None}

    # -- writes ----------------------------------------------------------------------------
    def validate(self, type_: str, props: dict[str, Any]) -> dict[str, str]:
        """Written values normalised, or StoreError (400) listing every invalid property."""
        defs = self.properties[type_]
        errors, out = [], {}
        for name, value in (props or {}).items():
            spec = defs.get(name)
            problem = None
            if spec is None or spec["archived"]:
                problem = ("PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
            elif spec["modificationMetadata"]["readOnlyValue"]:
                problem = (
                    "READ_ONLY_VALUE",
                    f'"{name}" is a read only property; its value cannot be set.',
                )
            elif value is None or value == "":
                out[name] = ""
                continue
            else:
                try:
                    out[name] = value_text(value, spec["type"])
                except (TypeError, ValueError):
                    problem = (
                        "INVALID_" + spec["type"].upper(),
                        f"{value!r} is not a valid {spec['type']}",
                    )
                else:
                    allowed = [o["value"] for o in spec["options"]]
                    if spec["type"] == "enumeration" and allowed and out[name] not in allowed:
                        problem = (
                            "INVALID_OPTION",
                            f"{value!r} was not one of the allowed options: {allowed}",
                        )
            if problem:
                errors.append(
                    {"isValid": False, "message": problem[1], "error": problem[0], "name": name}
                )
        if type_ == "deals" and "dealstage" in out and not errors:
            self._check_stage(out, props)
        if errors:
            raise StoreError(
                400,
                "VALIDATION_ERROR",
                f"Property values were not valid: {errors}",
                context={"properties": [e["name"] for e in errors]},
            )
        return out

    def _check_stage(self, out: dict[str, str], props: dict[str, Any]) -> None:
        pipe_id = out.get("pipeline") or "default"
        pipe = next((p for p in self.pipelines if p["id"] == pipe_id), None)
        stages = [s["id"] for s in pipe["stages"]] if pipe else []
        if out["dealstage"] not in stages:
            raise StoreError(
                400,
                "VALIDATION_ERROR",
                f"Property values were not valid: dealstage {out['dealstage']!r} is not a stage "
                f"of pipeline {pipe_id!r}",
                context={"properties": ["dealstage"]},
            )

    def _check_unique(self, type_: str, values: dict[str, str], own_id: str | None) -> None:
        for name, value in values.items():
            if value and self.properties[type_][name].get("hasUniqueValue"):
                other = self.find_unique(type_, name, value)
                if other is not None and other.id != own_id:
                    label = OBJECT_TYPES[type_].singular.title()
                    raise StoreError(
                        409,
                        "CONFLICT",
                        f"{label} already exists. Existing ID: {other.id}",
                        context={"id": [other.id]},
                    )

    def create(
        self,
        type_: str,
        props: dict[str, Any],
        *,
        source: str = "INTEGRATION",
        validate: bool = True,
    ) -> HsObject:
        """Create a record (HubSpot assigns the id); StoreError on invalid or duplicate values."""
        with self.lock:
            values = self.validate(type_, props) if validate else dict(props)
            if type_ == "deals" and validate:
                values.setdefault("pipeline", "default")
            self._check_unique(type_, values, None)
            now = self.stamp()
            id_ = self.next_id(type_)
            created = values.pop("createdate", None) or iso(now)
            obj = HsObject(type_, id_, {}, now, now)
            if self.search_lag:
                obj.search_view, obj.search_until = None, now + timedelta(seconds=self.search_lag)
            self.apply_values(
                obj, {"createdate": created, "hs_createdate": created, **values}, now, source
            )
            obj.properties["hs_object_id"] = id_
            self.objects[type_][id_] = obj
            self._journal(obj, "creation", source, now)
            return obj

    def update(
        self, type_: str, id_: str, props: dict[str, Any], *, source: str = "INTEGRATION"
    ) -> HsObject:
        """Change properties of a live record; StoreError 404 when it is missing."""
        with self.lock:
            obj = self._live(type_, id_)
            values = self.validate(type_, props)
            if type_ == "deals" and "dealstage" in values and "pipeline" not in values:
                self._check_stage({**values, "pipeline": obj.properties.get("pipeline", "")}, props)
            self._check_unique(type_, values, obj.id)
            now = self.stamp()
            self._lag(obj, now)
            changed = self.apply_values(obj, values, now, source)
            for name in changed:
                self._journal(obj, "propertyChange", source, now, name, obj.properties[name])
            return obj

    def archive(self, type_: str, id_: str, *, source: str = "INTEGRATION") -> HsObject:
        """Archive (delete) a live record; it stays readable with archived=true."""
        with self.lock:
            obj = self._live(type_, id_)
            now = self.stamp()
            self._lag(obj, now)
            obj.archived_at = obj.updated_at = now
            obj.properties["hs_lastmodifieddate"] = iso(now)
            self._journal(obj, "deletion", source, now)
            return obj

    def merge(self, type_: str, primary: str, merged: str) -> HsObject:
        """Merge `merged` into `primary`: the first is archived, the second keeps its id."""
        with self.lock:
            keep, gone = self._live(type_, primary), self._live(type_, merged)
            self.archive(type_, gone.id)
            gone.merged_into = keep.id
            ids = [i for i in keep.properties.get("hs_merged_object_ids", "").split(";") if i]
            self.apply_values(
                keep, {"hs_merged_object_ids": ";".join([*ids, gone.id])}, self.stamp(), "CRM_UI"
            )
            for (f, fid, t), tos in list(self.links.items()):
                if f == type_ and fid == gone.id:
                    for to, kinds in tos.items():
                        for kind in kinds:
                            self.associate(type_, keep.id, t, to, kind)
            self._journal(keep, "merge", "CRM_UI", keep.updated_at)
            return keep

    def associate(
        self,
        type_: str,
        id_: str,
        to_type: str,
        to_id: str,
        type_id: int | None = None,
        *,
        source: str = "INTEGRATION",
    ) -> int:
        """Link two records both ways (the default type when none is given); the type id used."""
        kinds = ASSOCIATION_TYPES.get((type_, to_type))
        if not kinds:
            raise StoreError(
                400, "VALIDATION_ERROR", f"{type_} cannot be associated with {to_type}"
            )
        type_id = kinds[0][0] if type_id is None else type_id
        if type_id not in dict(kinds):
            raise StoreError(
                400,
                "VALIDATION_ERROR",
                f"association type id {type_id} does not exist between {type_} and {to_type}",
            )
        with self.lock:
            for f, fid, t, tid, kind in (
                (type_, str(id_), to_type, str(to_id), type_id),
                (to_type, str(to_id), type_, str(id_), INVERSE[type_id]),
            ):
                if self.get(f, fid) is None:
                    raise StoreError(404, "OBJECT_NOT_FOUND", f"{f} {fid} does not exist")
                self.links.setdefault((f, fid, t), {}).setdefault(tid, set()).add(kind)
            obj = self.objects[type_][str(id_)]
            self._journal(
                obj, "associationChange", source, self.clock.now(), to=(to_type, str(to_id))
            )
        return type_id

    def disassociate(self, type_: str, id_: str, to_type: str, to_id: str) -> None:
        """Remove every association between two records."""
        with self.lock:
            self.links.get((type_, str(id_), to_type), {}).pop(str(to_id), None)
            self.links.get((to_type, str(to_id), type_), {}).pop(str(id_), None)

    def next_id(self, type_: str) -> str:
        """A new HubSpot-style numeric id for a type (or "owners")."""
        with self.lock:
            self._sequence[type_] += 1
            return str(self._sequence[type_] - 1)

    def _live(self, type_: str, id_: str) -> HsObject:
        obj = self.get(type_, id_)
        if obj is None:
            raise StoreError(404, "OBJECT_NOT_FOUND", f"Object {type_} {id_} not found")
        return obj

    def _lag(self, obj: HsObject, now: datetime) -> None:
        # Search keeps the last indexed version until the index catches up.
        if self.search_lag and (obj.search_until is None or now >= obj.search_until):
            obj.search_view = dict(obj.properties) if not obj.archived else None
            obj.search_until = now + timedelta(seconds=self.search_lag)

    def apply_values(
        self, obj: HsObject, values: dict[str, str], now: datetime, source: str
    ) -> list[str]:
        """Set values (with history) and stamp the change; the names whose value changed."""
        changed = []
        for name, value in values.items():
            if obj.properties.get(name) != value:
                changed.append(name)
            obj.properties[name] = value
            obj.history.setdefault(name, []).append((value, now, source))
        obj.updated_at = now
        obj.properties["hs_lastmodifieddate"] = iso(now)
        if obj.type == "contacts":
            obj.properties["lastmodifieddate"] = iso(now)
        return changed

    def _journal(
        self,
        obj: HsObject,
        kind: str,
        source: str,
        now: datetime,
        name: str | None = None,
        value: str | None = None,
        to: tuple[str, str] | None = None,
    ) -> None:
        event: dict[str, Any] = {
            "objectType": obj.type,
            "objectId": int(obj.id),
            "subscriptionType": f"{OBJECT_TYPES[obj.type].singular}.{kind}",
            "changeSource": source,
            "occurredAt": int(now.timestamp() * 1000),
        }
        if name is not None:
            event.update(propertyName=name, propertyValue=value)
        if to is not None:
            event.update(toObjectTypeId=OBJECT_TYPES[to[0]].type_id, toObjectId=int(to[1]))
        self.events.append(event)


def property_create(store: PortalStore, type_: str, body: dict[str, Any]) -> dict[str, Any]:
    """Add a portal property from a PropertyCreate body; StoreError 409 on a duplicate name."""
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise StoreError(400, "VALIDATION_ERROR", f"Missing required fields: {missing}")
    with store.lock:
        if body["name"] in store.properties[type_]:
            raise StoreError(
                409, "OBJECT_ALREADY_EXISTS", f"Property named '{body['name']}' already exists."
            )
        if body["groupName"] not in store.groups[type_]:
            raise StoreError(
                400, "VALIDATION_ERROR", f"Property group '{body['groupName']}' does not exist."
            )
        prop = property_definition(type_, body, created=store.clock.now(), hubspot_defined=False)
        store.properties[type_][body["name"]] = prop
        return prop
