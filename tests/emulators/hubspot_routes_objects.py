"""CRM object routes (/crm/v3/objects/{type}): read, list, create, update, archive, merge,
batch read/create/update/upsert/archive (207 multi-status) and search (10,000-result cap).

Routes are registered per type under both spellings (`deals` and `0-3`), so the per-endpoint
counters tell object types apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.emulators.framework import Request, Response, json_response
from tests.emulators.hubspot_json import batch_error, batch_json, flag, names, object_json
from tests.emulators.hubspot_model import OBJECT_TYPES, TYPE_PAIR, ObjectType
from tests.emulators.hubspot_search import RESULT_CAP, matcher, ordered, search_problem, sort_key
from tests.emulators.hubspot_store import HsObject, PortalStore, StoreError

if TYPE_CHECKING:
    from tests.emulators.hubspot_api import HubSpotEmulator

BATCH_MAX, LIST_MAX = 100, 100
HISTORY_MAX = 50  # list pages and batch reads with propertiesWithHistory (HubSpot's cap)


class ObjectRoutes:
    """Handlers for one object type; `emu` resolves the portal and renders errors."""

    def __init__(self, emu: HubSpotEmulator, otype: ObjectType) -> None:
        self.emu, self.t = emu, otype

    def register(self, prefix: str) -> None:
        """Add this type's routes under /crm/v3/objects/<prefix>."""
        base = f"/crm/v3/objects/{prefix}"
        add = self.emu.router.add
        for method, path, handler, write in (
            ("GET", base, self.list_page, False),
            ("POST", base, self.create, True),
            ("POST", f"{base}/batch/read", self.batch_read, False),
            ("POST", f"{base}/batch/create", self.batch_create, True),
            ("POST", f"{base}/batch/update", self.batch_update, True),
            ("POST", f"{base}/batch/upsert", self.batch_upsert, True),
            ("POST", f"{base}/batch/archive", self.batch_archive, True),
            ("POST", f"{base}/search", self.search, False),
            ("POST", f"{base}/merge", self.merge, True),
            ("GET", f"{base}/{{objectId}}", self.get, False),
            ("PATCH", f"{base}/{{objectId}}", self.update, True),
            ("DELETE", f"{base}/{{objectId}}", self.archive, True),
        ):
            add(method, path, self._guard(handler, write))

    def _guard(
        self, handler: Callable[[Request, PortalStore], Response], write: bool
    ) -> Callable[[Request], Response]:
        rw = "write" if write else "read"
        needed = (f"{self.t.scope}.{rw}", f"crm.objects.{self.t.name}.{rw}")

        def run(req: Request) -> Response:
            refused = self.emu.missing_scopes(req, *needed)
            if refused is not None:
                return refused
            try:
                return handler(req, self.emu.store_for(req))
            except StoreError as exc:
                return self.emu.error(exc.status, exc.message, exc.category, context=exc.context)

        return run

    def _body(self, req: Request) -> dict[str, Any]:
        if not isinstance(req.json, dict):
            raise StoreError(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object")
        return req.json

    def _inputs(self, req: Request) -> list[dict[str, Any]]:
        inputs = self._body(req).get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise StoreError(400, "VALIDATION_ERROR", "inputs: a list of objects is required")
        if len(inputs) > BATCH_MAX:
            raise StoreError(
                400,
                "VALIDATION_ERROR",
                f"Batch input contains {len(inputs)} items, the limit is {BATCH_MAX}",
            )
        return inputs

    def _find(
        self, store: PortalStore, id_: str, id_property: str | None, archived: bool = False
    ) -> HsObject | None:
        if id_property and id_property != "hs_object_id":
            spec = store.properties[self.t.name].get(id_property)
            if spec is None or not spec.get("hasUniqueValue"):
                raise StoreError(400, "VALIDATION_ERROR", f"{id_property} is not a unique property")
            obj = store.find_unique(self.t.name, id_property, str(id_))
            return obj if obj is not None and obj.archived == archived else None
        return store.get(self.t.name, str(id_), archived=archived)

    def _create_with_associations(self, store: PortalStore, item: dict[str, Any]) -> HsObject:
        links = []
        for assoc in item.get("associations") or []:
            to_id = str((assoc.get("to") or {}).get("id", ""))
            for spec in assoc.get("types") or []:
                kind = spec.get("associationTypeId")
                pair = TYPE_PAIR.get(kind) if isinstance(kind, int) else None
                if pair is None or pair[0] != self.t.name:
                    raise StoreError(
                        400,
                        "VALIDATION_ERROR",
                        f"association type id {kind} is not valid from {self.t.name}",
                    )
                if store.get(pair[1], to_id) is None:
                    raise StoreError(
                        400,
                        "VALIDATION_ERROR",
                        f"{pair[1]} {to_id} does not exist; cannot associate",
                    )
                links.append((pair[1], to_id, kind))
        with store.lock:
            obj = store.create(self.t.name, item.get("properties") or {})
            for to_type, to_id, kind in links:
                store.associate(self.t.name, obj.id, to_type, to_id, kind)
        return obj

    # -- single records --------------------------------------------------------------------
    def get(self, req: Request, store: PortalStore) -> Response:
        archived = flag(req, "archived")
        obj = self._find(store, req.params["objectId"], req.arg("idProperty"), archived)
        if obj is None:
            return self.emu.error(404, "resource not found", "OBJECT_NOT_FOUND")
        body = object_json(
            store,
            obj,
            names(req, "properties"),
            history=names(req, "propertiesWithHistory"),
            assoc=names(req, "associations"),
        )
        return json_response(200, body)

    def list_page(self, req: Request, store: PortalStore) -> Response:
        try:
            limit = min(LIST_MAX, max(1, int(req.arg("limit", "10") or 10)))
        except ValueError:
            return self.emu.error(400, "limit must be a number", "VALIDATION_ERROR")
        after = req.arg("after")
        if after is not None and not after.isdigit():
            return self.emu.error(400, f"Invalid after: {after}", "VALIDATION_ERROR")
        if names(req, "propertiesWithHistory"):
            limit = min(limit, HISTORY_MAX)
        rows = store.live(self.t.name, archived=flag(req, "archived"))
        if after is not None:
            rows = [o for o in rows if int(o.id) >= int(after)]
        page, rest = rows[:limit], rows[limit:]
        props, history, assoc = (
            names(req, "properties"),
            names(req, "propertiesWithHistory"),
            names(req, "associations"),
        )
        body: dict[str, Any] = {
            "results": [object_json(store, o, props, history=history, assoc=assoc) for o in page]
        }
        if rest:
            nxt = rest[0].id
            body["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return json_response(200, body)

    def create(self, req: Request, store: PortalStore) -> Response:
        obj = self._create_with_associations(store, self._body(req))
        return json_response(201, object_json(store, obj, list(obj.properties)))

    def update(self, req: Request, store: PortalStore) -> Response:
        obj = self._find(store, req.params["objectId"], req.arg("idProperty"))
        if obj is None:
            return self.emu.error(404, "resource not found", "OBJECT_NOT_FOUND")
        obj = store.update(self.t.name, obj.id, self._body(req).get("properties") or {})
        return json_response(200, object_json(store, obj, list(obj.properties)))

    def archive(self, req: Request, store: PortalStore) -> Response:
        obj = store.get(self.t.name, req.params["objectId"])
        if obj is not None:  # archiving a missing record is a 204 too
            store.archive(self.t.name, obj.id)
        return Response(204, content_type="text/plain")

    def merge(self, req: Request, store: PortalStore) -> Response:
        body = self._body(req)
        keep = store.merge(
            self.t.name, str(body.get("primaryObjectId")), str(body.get("objectIdToMerge"))
        )
        return json_response(200, object_json(store, keep, None))

    # -- batches ---------------------------------------------------------------------------
    def batch_read(self, req: Request, store: PortalStore) -> Response:
        body = self._body(req)
        inputs = self._inputs(req)
        archived = flag(req, "archived")
        id_property = body.get("idProperty")
        if body.get("propertiesWithHistory") and len(inputs) > HISTORY_MAX:
            return self.emu.error(
                400,
                "The maximum number of inputs supported in a batch request for property "
                f"histories is {HISTORY_MAX}. Please reduce the number of items and try again",
                "VALIDATION_ERROR",
            )
        results, missing = [], []
        for item in inputs:
            obj = self._find(store, str(item.get("id")), id_property, archived)
            if obj is None:
                missing.append(str(item.get("id")))
            else:
                results.append(
                    object_json(
                        store,
                        obj,
                        body.get("properties") or [],
                        history=body.get("propertiesWithHistory"),
                    )
                )
        errors = []
        if missing:
            label = self.t.singular.upper()
            errors.append(
                batch_error(
                    StoreError(
                        404,
                        "OBJECT_NOT_FOUND",
                        f"Could not get some {label} objects, they may be deleted or not exist. "
                        "Check that ids are valid.",
                    ),
                    missing,
                )
            )
        status, payload = batch_json(results, errors, store.clock.now())
        return json_response(status, payload)

    def batch_create(self, req: Request, store: PortalStore) -> Response:
        inputs = self._inputs(req)
        # HubSpot validates a whole batch first: one invalid input fails the request.
        for item in inputs:
            store.validate(self.t.name, item.get("properties") or {})
        results = [
            object_json(store, self._create_with_associations(store, i), None) for i in inputs
        ]
        return json_response(201, batch_json(results, [], store.clock.now())[1])

    def batch_update(self, req: Request, store: PortalStore) -> Response:
        inputs = self._inputs(req)
        for item in inputs:
            store.validate(self.t.name, item.get("properties") or {})
        results, errors = [], []
        for item in inputs:
            obj = self._find(store, str(item.get("id")), item.get("idProperty"))
            if obj is None:
                errors.append(
                    batch_error(
                        StoreError(
                            404,
                            "OBJECT_NOT_FOUND",
                            f"Object {self.t.singular} {item.get('id')} not found",
                        ),
                        [str(item.get("id"))],
                    )
                )
                continue
            try:
                obj = store.update(self.t.name, obj.id, item.get("properties") or {})
            except StoreError as exc:
                errors.append(batch_error(exc, [obj.id]))
                continue
            results.append(object_json(store, obj, list(item.get("properties") or [])))
        status, payload = batch_json(results, errors, store.clock.now())
        return json_response(status, payload)

    def batch_upsert(self, req: Request, store: PortalStore) -> Response:
        inputs = self._inputs(req)
        for item in inputs:
            store.validate(self.t.name, item.get("properties") or {})
        results, errors = [], []
        for item in inputs:
            id_property, key = item.get("idProperty"), str(item.get("id", ""))
            if not id_property or not key:
                errors.append(
                    batch_error(
                        StoreError(400, "VALIDATION_ERROR", "upsert inputs need idProperty and id"),
                        [key],
                    )
                )
                continue
            try:
                with store.lock:
                    obj = self._find(store, key, id_property)
                    props = item.get("properties") or {}
                    if obj is None:
                        obj, new = store.create(self.t.name, {**props, id_property: key}), True
                    else:
                        obj, new = store.update(self.t.name, obj.id, props), False
            except StoreError as exc:
                errors.append(batch_error(exc, [key]))
                continue
            results.append({**object_json(store, obj, [id_property, *props]), "new": new})
        status, payload = batch_json(results, errors, store.clock.now())
        return json_response(status, payload)

    def batch_archive(self, req: Request, store: PortalStore) -> Response:
        for item in self._inputs(req):
            if store.get(self.t.name, str(item.get("id"))) is not None:
                store.archive(self.t.name, str(item.get("id")))
        return Response(204, content_type="text/plain")

    # -- search ----------------------------------------------------------------------------
    def search(self, req: Request, store: PortalStore) -> Response:
        refused = self.emu.search_refused(req)
        if refused is not None:
            return refused
        body = req.json
        defs = store.properties[self.t.name]
        problem = search_problem(body, defs)
        if problem:
            return self.emu.error(400, problem, "VALIDATION_ERROR")
        offset = int(body.get("after") or 0)
        if offset >= RESULT_CAP:
            # The real API's answer to paging past 10,000 results of one query.
            return self.emu.error(
                400,
                f"Invalid paging: the search API returns at most {RESULT_CAP} results per query "
                f"(after={offset}). Narrow the query instead.",
                "VALIDATION_ERROR",
            )
        match = matcher(body, defs)
        rows = []
        for obj in store.live(self.t.name):
            values = store.search_view(obj)
            if values is not None and match(values):
                rows.append((obj.id, values))
        for obj in store.live(self.t.name, archived=True):  # archived but not yet de-indexed
            values = store.search_view(obj)
            if values is not None and match(values):
                rows.append((obj.id, values))
        rows = ordered(rows, sort_key(body, defs), defs)
        limit = int(body.get("limit", 10))
        page = rows[offset : min(offset + limit, RESULT_CAP)]
        objs = store.objects[self.t.name]
        props = body.get("properties") or None
        out: dict[str, Any] = {
            "total": len(rows),
            "results": [object_json(store, objs[i], props, values=v) for i, v in page],
        }
        if offset + limit < len(rows):
            nxt = str(offset + limit)
            out["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return json_response(200, out)


def register_object_routes(emu: HubSpotEmulator) -> None:
    """Object routes for every type under its name and its type id."""
    for otype in OBJECT_TYPES.values():
        routes = ObjectRoutes(emu, otype)
        routes.register(otype.name)
        routes.register(otype.type_id)
