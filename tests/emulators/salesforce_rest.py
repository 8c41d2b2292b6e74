"""REST routes of the Salesforce emulator: versions, resources, limits, query/queryAll with
server-side cursors, and sObject describe, CRUD, upsert by external id, getDeleted/getUpdated.

Paths are under /services/data/v<version>/; errors use `SalesforceEmulator.error`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from tests.emulators.framework import Request, Response, json_response
from tests.emulators.salesforce_model import KEY_PREFIX
from tests.emulators.salesforce_soql import parse
from tests.emulators.salesforce_soql_eval import run_query
from tests.emulators.salesforce_soql_lex import SoqlError
from tests.emulators.salesforce_store import OrgStore, StoreError
from tests.emulators.salesforce_values import normalize_id, type_of_id, value_json

if TYPE_CHECKING:
    from tests.emulators.salesforce_api import SalesforceEmulator

V = "/services/data/v{version}"


def record_json(
    store: OrgStore,
    sobject: str,
    row: dict[str, Any],
    version: str,
    paths: list[str] | None = None,
) -> dict[str, Any]:
    """A row as the REST API renders it: attributes first, then the fields (all, or `paths`,
    with relationship paths nested as Salesforce nests them)."""
    out: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v{version}/sobjects/{sobject}/{row['Id']}",
        }
    }
    defs = store.schema.fields(sobject)
    if paths is None:
        paths = [n for n in defs if n in row]
    nested: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, []).append(rest)
        elif head == "Type" and head not in defs:
            out[head] = sobject  # Who.Type on a polymorphic relationship
        else:
            fdef = defs.get(head)
            out[head] = value_json(row.get(head), fdef.type if fdef else "string")
    for rel, rest_paths in nested.items():
        ref = next(f for f in defs.values() if f.relationship_name == rel)
        target = store.find(row[ref.name]) if row.get(ref.name) else None
        out[rel] = (
            None
            if target is None
            else record_json(store, target[0], target[1], version, rest_paths)
        )
    return out


def register_rest_routes(emu: SalesforceEmulator) -> None:
    """Add the REST routes (query, sObjects, limits, versions) to the emulator."""
    router = emu.router
    err = emu.error

    def sobject_of(req: Request) -> str | None:
        return emu.store_for(req).schema.object_name(req.params.get("type", ""))

    def not_found() -> Response:
        return err(404, "NOT_FOUND", "The requested resource does not exist")

    def store_error(exc: StoreError) -> Response:
        return err(exc.status, exc.code, exc.message, exc.fields)

    # -- query -----------------------------------------------------------------------------
    def query(req: Request, include_deleted: bool) -> Response:
        text = req.arg("q")
        if not text:
            return err(400, "MALFORMED_QUERY", "A query string has to be specified")
        store = emu.store_for(req)
        try:
            parsed = parse(text, store.schema)
        except SoqlError as exc:
            return err(400, exc.code, exc.message)
        rows = run_query(store, parsed, include_deleted=include_deleted)
        if parsed.count:
            return json_response(200, {"totalSize": len(rows), "done": True, "records": []})
        version = req.params["version"]
        records = [record_json(store, parsed.sobject, r, version, parsed.fields) for r in rows]
        return page(version, secrets.token_hex(6), records, 0, batch_size(req))

    def batch_size(req: Request) -> int:
        # Sforce-Query-Options: batchSize=N (200..2000) asks for smaller pages.
        options = req.headers.get("sforce-query-options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key == "batchSize" and value.isdigit():
                return max(200, min(int(value), emu.page_size))
        return emu.page_size

    def page(version: str, cursor: str, records: list[Any], start: int, size: int) -> Response:
        chunk = records[start : start + size]
        body: dict[str, Any] = {
            "totalSize": len(records),
            "done": start + size >= len(records),
            "records": chunk,
        }
        if not body["done"]:
            locator = f"01g5g{cursor.upper()}"
            emu.cursors[locator] = (records, size)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{start + size}"
        return json_response(200, body)

    def query_more(req: Request) -> Response:
        locator, _, offset = req.params["locator"].rpartition("-")
        found = emu.cursors.get(locator)
        if found is None or not offset.isdigit():
            return err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, size = found
        return page(req.params["version"], locator[5:].lower(), records, int(offset), size)

    router.add("GET", f"{V}/query", lambda req: query(req, False))
    router.add("GET", f"{V}/queryAll", lambda req: query(req, True))
    router.add("GET", f"{V}/query/{{locator}}", query_more)
    router.add("GET", f"{V}/queryAll/{{locator}}", query_more)

    # -- describe --------------------------------------------------------------------------
    def describe_global(req: Request) -> Response:
        store = emu.store_for(req)
        objects = [_object_info(o) for o in store.schema.objects()]
        return json_response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects})

    def describe(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        fields = emu.store_for(req).schema.fields(sobject).values()
        return json_response(
            200, {**_object_info(sobject), "fields": [f.describe() for f in fields]}
        )

    def basic_info(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        return json_response(200, {"objectDescribe": _object_info(sobject), "recentItems": []})

    router.add("GET", f"{V}/sobjects", describe_global)
    router.add("GET", f"{V}/sobjects/{{type}}", basic_info)
    router.add("GET", f"{V}/sobjects/{{type}}/describe", describe)

    # -- records ---------------------------------------------------------------------------
    def record_id(req: Request, sobject: str) -> str | None:
        raw = req.params["id"]
        norm = normalize_id(raw)
        return norm if norm is not None and type_of_id(norm) == sobject else None

    def no_such_id(raw: str) -> Response:
        return err(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {raw}",
        )

    def body_fields(req: Request) -> dict[str, Any] | Response:
        body = req.json
        if not isinstance(body, dict):
            return err(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        return {k: v for k, v in body.items() if k != "attributes"}

    def locked(id: str = "") -> Response:
        return err(
            400,
            "UNABLE_TO_LOCK_ROW",
            f"unable to obtain exclusive access to this record or 1 records: {id}",
        )

    def create(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        fields = body_fields(req)
        if isinstance(fields, Response):
            return fields
        if emu.take_lock_fault():
            return locked()
        try:
            new_id = emu.store_for(req).create(sobject, fields, by=emu.user_for(req))
        except StoreError as exc:
            return store_error(exc)
        return json_response(201, {"id": new_id, "success": True, "errors": []})

    def read(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        rid = record_id(req, sobject)
        if rid is None:
            return no_such_id(req.params["id"])
        store = emu.store_for(req)
        row = store.get(sobject, rid)
        if row is None:
            found = store.find(rid)
            if found is not None and found[1].get("IsDeleted"):
                return err(404, "ENTITY_IS_DELETED", "entity is deleted")
            return not_found()
        paths = None
        if req.arg("fields"):
            paths = []
            for name in (req.arg("fields") or "").split(","):
                fdef = store.schema.field(sobject, name.strip())
                if fdef is None:
                    return err(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {sobject}",
                    )
                paths.append(fdef.name)
        return json_response(200, record_json(store, sobject, row, req.params["version"], paths))

    def write(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        rid = record_id(req, sobject)
        if rid is None:
            return no_such_id(req.params["id"])
        store = emu.store_for(req)
        try:
            if req.method == "DELETE":
                if emu.take_lock_fault():
                    return locked(rid)
                store.delete(sobject, rid, by=emu.user_for(req))
            else:
                fields = body_fields(req)
                if isinstance(fields, Response):
                    return fields
                if emu.take_lock_fault():
                    return locked(rid)
                store.update(sobject, rid, fields, by=emu.user_for(req), trusted=False)
        except StoreError as exc:
            return store_error(exc)
        return Response(204)

    router.add("POST", f"{V}/sobjects/{{type}}", create)
    router.add("GET", f"{V}/sobjects/{{type}}/{{id}}", read)
    router.add("PATCH", f"{V}/sobjects/{{type}}/{{id}}", write)
    router.add("DELETE", f"{V}/sobjects/{{type}}/{{id}}", write)

    # -- external ids ----------------------------------------------------------------------
    def by_external(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        store = emu.store_for(req)
        fdef = store.schema.field(sobject, req.params["field"])
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            return no_such_id(req.params["field"])
        version, value = req.params["version"], req.params["value"]
        from urllib.parse import unquote

        value = unquote(value)
        found = store.by_field(
            sobject, fdef.name, normalize_id(value) if fdef.name == "Id" else value
        )
        if req.method == "GET":
            if not found:
                return not_found()
            if len(found) > 1:
                return _multiple(sobject, found, version)
            return json_response(200, record_json(store, sobject, found[0], version))
        fields = body_fields(req)
        if isinstance(fields, Response):
            return fields
        given = fields.pop(fdef.name, value)
        if given != value:
            return err(
                400,
                "INVALID_FIELD",
                f"The value of the external ID field in the body ({given}) doesn't match the "
                f"value in the URL ({value})",
                [fdef.name],
            )
        if len(found) > 1:
            return _multiple(sobject, found, version)
        if emu.take_lock_fault():
            return locked(found[0]["Id"] if found else "")
        user = emu.user_for(req)
        try:
            if found:
                store.update(sobject, found[0]["Id"], fields, by=user, trusted=False)
                return json_response(
                    200, {"id": found[0]["Id"], "success": True, "errors": [], "created": False}
                )
            if fdef.name == "Id":
                return not_found()
            new_id = store.create(sobject, {**fields, fdef.name: value}, by=user)
        except StoreError as exc:
            return store_error(exc)
        return json_response(201, {"id": new_id, "success": True, "errors": [], "created": True})

    router.add("GET", f"{V}/sobjects/{{type}}/{{field}}/{{value}}", by_external)
    router.add("PATCH", f"{V}/sobjects/{{type}}/{{field}}/{{value}}", by_external)


def _multiple(sobject: str, rows: list[dict[str, Any]], version: str) -> Response:
    # Several records share the external id: 300 Multiple Choices with their URLs.
    return json_response(
        300, [f"/services/data/v{version}/sobjects/{sobject}/{r['Id']}" for r in rows]
    )


def _object_info(sobject: str) -> dict[str, Any]:
    history = sobject == "OpportunityFieldHistory"
    return {
        "name": sobject,
        "label": sobject,
        "keyPrefix": KEY_PREFIX[sobject],
        "custom": False,
        "queryable": True,
        "retrieveable": True,
        "searchable": not history,
        "createable": not history,
        "updateable": not history,
        "deletable": not history,
        "replicateable": True,
        "urls": {
            "sobject": f"/services/data/v61.0/sobjects/{sobject}",
            "describe": f"/services/data/v61.0/sobjects/{sobject}/describe",
            "rowTemplate": f"/services/data/v61.0/sobjects/{sobject}/{{ID}}",
        },
    }
