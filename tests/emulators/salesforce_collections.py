"""sObject Collections (composite/sobjects: create, update, upsert by external id, retrieve,
delete; up to 200 records, allOrNone) and Tooling API custom-field creation for the emulator.

Per-record results are [{"id", "success", "errors": [{"statusCode", "message", "fields"}],
"created"?}]. With allOrNone true one failure rolls every record back: the others then carry
ALL_OR_NONE_OPERATION_ROLLED_BACK, as in Salesforce.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.emulators.framework import Request, Response, json_response
from tests.emulators.salesforce_model import METADATA_TYPES, FieldDef
from tests.emulators.salesforce_rest import V, record_json
from tests.emulators.salesforce_store import OrgStore, StoreError
from tests.emulators.salesforce_values import normalize_id, type_of_id

if TYPE_CHECKING:
    from tests.emulators.salesforce_api import SalesforceEmulator

MAX_RECORDS = 200
ROLLED_BACK = StoreError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)

Outcome = tuple[str | None, bool | None]  # (record Id, created) of a successful record write


def _failure(id: str | None, exc: StoreError) -> dict[str, Any]:
    result: dict[str, Any] = {
        "success": False,
        "errors": [{"statusCode": exc.code, "message": exc.message, "fields": exc.fields}],
    }
    if id:
        result = {"id": id, **result}
    return result


def register_collection_routes(emu: SalesforceEmulator) -> None:
    """Add composite/sobjects and tooling CustomField routes to the emulator."""
    router = emu.router
    err = emu.error

    def batch(req: Request) -> tuple[list[dict[str, Any]], bool] | Response:
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return err(400, "JSON_PARSER_ERROR", "Expected an object with a records array")
        records = body["records"]
        if len(records) > MAX_RECORDS:
            return err(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_RECORDS} records into this "
                "call",
            )
        for rec in records:
            kind = (rec.get("attributes") or {}).get("type") if isinstance(rec, dict) else None
            if not kind or emu.store_for(req).schema.object_name(kind) is None:
                return err(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
        return records, bool(body.get("allOrNone"))

    def apply(
        req: Request,
        records: list[dict[str, Any]],
        all_or_none: bool,
        one: Callable[[OrgStore, dict[str, Any], str], Outcome],
        with_created: bool = False,
    ) -> Response:
        store, user = emu.store_for(req), emu.user_for(req)
        results: list[dict[str, Any]] = []
        with store.lock:
            saved = (copy.deepcopy(store.tables), dict(store.deleted_at))
            failed = False
            given_ids: list[str | None] = []
            for rec in records:
                fields = {k: v for k, v in rec.items() if k != "attributes"}
                kind = store.schema.object_name(rec["attributes"]["type"]) or ""
                given_id = fields.get("Id") if isinstance(fields.get("Id"), str) else None
                given_ids.append(given_id)
                try:
                    if emu.take_lock_fault():
                        raise StoreError(
                            400,
                            "UNABLE_TO_LOCK_ROW",
                            "unable to obtain exclusive access to this record or 1 records: "
                            + (given_id or ""),
                        )
                    new_id, created = one(store, {**fields, "attributes": kind}, user)
                except StoreError as exc:
                    failed = True
                    results.append(_failure(given_id, exc))
                    continue
                ok: dict[str, Any] = {"id": new_id, "success": True, "errors": []}
                if with_created:
                    ok["created"] = created
                results.append(ok)
            if failed and all_or_none:
                store.tables, store.deleted_at = saved
                results = [
                    r if not r["success"] else _failure(given, ROLLED_BACK)
                    for r, given in zip(results, given_ids, strict=True)
                ]
        return json_response(200, results)

    def split(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = fields.pop("attributes")
        return kind, fields

    def create_one(store: OrgStore, fields: dict[str, Any], user: str) -> Outcome:
        kind, values = split(fields)
        return store.create(kind, values, by=user), True

    def update_one(store: OrgStore, fields: dict[str, Any], user: str) -> Outcome:
        kind, values = split(fields)
        raw = values.pop("Id", None)
        rid = normalize_id(raw) if isinstance(raw, str) else None
        if rid is None or type_of_id(rid) != kind:
            raise StoreError(400, "MALFORMED_ID", f"Id in {kind}: bad value for field Id", ["Id"])
        store.update(kind, rid, values, by=user, trusted=False)
        return rid, None

    def create(req: Request) -> Response:
        parsed = batch(req)
        if isinstance(parsed, Response):
            return parsed
        return apply(req, parsed[0], parsed[1], create_one)

    def update(req: Request) -> Response:
        parsed = batch(req)
        if isinstance(parsed, Response):
            return parsed
        return apply(req, parsed[0], parsed[1], update_one)

    def upsert(req: Request) -> Response:
        store = emu.store_for(req)
        sobject = store.schema.object_name(req.params["type"])
        fdef = store.schema.field(sobject, req.params["field"]) if sobject else None
        if sobject is None or fdef is None or not fdef.external_id:
            return err(
                404,
                "NOT_FOUND",
                "Provided external ID field does not exist or is not accessible: "
                + req.params["field"],
            )
        parsed = batch(req)
        if isinstance(parsed, Response):
            return parsed
        records, all_or_none = parsed
        keys = [r.get(fdef.name) for r in records]
        dupes = {k for k in keys if k is not None and keys.count(k) > 1}

        def upsert_one(store: OrgStore, fields: dict[str, Any], user: str) -> Outcome:
            kind, values = split(fields)
            key = values.pop(fdef.name, None)
            if key in (None, ""):
                raise StoreError(400, "MISSING_ARGUMENT", f"{fdef.name} not specified", [fdef.name])
            if key in dupes:
                raise StoreError(
                    400, "DUPLICATE_VALUE", f"Duplicate external id specified: {key}", [fdef.name]
                )
            found = store.by_field(kind, fdef.name, key)
            if len(found) > 1:
                raise StoreError(
                    300, "DUPLICATE_EXTERNAL_ID", f"{fdef.name}: more than one record found"
                )
            if found:
                store.update(kind, found[0]["Id"], values, by=user, trusted=False)
                return found[0]["Id"], False
            return store.create(kind, {**values, fdef.name: key}, by=user), True

        return apply(req, records, all_or_none, upsert_one, with_created=True)

    def delete(req: Request) -> Response:
        ids = [i for i in (req.arg("ids") or "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            return err(400, "EXCEEDED_ID_LIMIT", "record limit reached")
        records = [
            {"attributes": {"type": type_of_id(normalize_id(i) or "") or "Account"}, "Id": i}
            for i in ids
        ]

        def delete_one(store: OrgStore, fields: dict[str, Any], user: str) -> Outcome:
            _, values = split(fields)
            rid = normalize_id(values["Id"])
            found = store.find(rid) if rid is not None else None
            if rid is None or found is None:
                raise StoreError(404, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            store.delete(found[0], rid, by=user)
            return rid, None

        return apply(req, records, (req.arg("allOrNone") or "").lower() == "true", delete_one)

    def retrieve(req: Request) -> Response:
        store = emu.store_for(req)
        sobject = store.schema.object_name(req.params["type"])
        if sobject is None:
            return err(404, "NOT_FOUND", "The requested resource does not exist")
        ids = [i for i in (req.arg("ids") or "").split(",") if i]
        names = [n.strip() for n in (req.arg("fields") or "Id").split(",") if n.strip()]
        paths = []
        for name in names:
            fdef = store.schema.field(sobject, name)
            if fdef is None:
                return err(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'")
            paths.append(fdef.name)
        out: list[Any] = []
        for raw in ids:
            row = store.get(sobject, raw)
            out.append(
                None
                if row is None
                else record_json(store, sobject, row, req.params["version"], paths)
            )
        return json_response(200, out)

    router.add("POST", f"{V}/composite/sobjects", create)
    router.add("PATCH", f"{V}/composite/sobjects", update)
    router.add("DELETE", f"{V}/composite/sobjects", delete)
    router.add("GET", f"{V}/composite/sobjects/{{type}}", retrieve)
    router.add("PATCH", f"{V}/composite/sobjects/{{type}}/{{field}}", upsert)

    def custom_field(req: Request) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        full_name = str(body.get("FullName") or "")
        meta = body.get("Metadata") or {}
        sobject_name, _, name = full_name.partition(".")
        store = emu.store_for(req)
        sobject = store.schema.object_name(sobject_name)
        if sobject is None or not name.endswith("__c"):
            return err(400, "INVALID_FIELD", f"Invalid FullName: {full_name}", ["FullName"])
        kind = METADATA_TYPES.get(str(meta.get("type") or ""))
        if kind is None:
            return err(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"Invalid field type: {meta.get('type')}",
                ["type"],
            )
        if store.schema.field(sobject, name) is not None:
            return err(
                400,
                "DUPLICATE_DEVELOPER_NAME",
                f"There's already a field named {name.removesuffix('__c')} on {sobject}.",
            )
        store.add_custom_field(
            sobject,
            FieldDef(
                name,
                kind,
                custom=True,
                external_id=bool(meta.get("externalId")),
                length=int(meta.get("length") or 255),
            ),
        )
        return json_response(
            201, {"id": store.new_id("CustomField"), "success": True, "errors": []}
        )

    router.add("POST", f"{V}/tooling/sobjects/CustomField", custom_field)
