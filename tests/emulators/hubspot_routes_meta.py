"""Associations v4, properties v3, pipelines v3, owners v3 and OAuth token introspection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tests.emulators.framework import Request, Response, json_response
from tests.emulators.hubspot_json import batch_error, batch_json, flag
from tests.emulators.hubspot_model import ASSOCIATION_TYPES, OBJECT_TYPES, iso, object_type
from tests.emulators.hubspot_store import PortalStore, StoreError, property_create

if TYPE_CHECKING:
    from tests.emulators.hubspot_api import HubSpotEmulator

ASSOCIATION_BATCH_MAX = 1000

Handler = Callable[[Request, PortalStore], Response]


def register_meta_routes(emu: HubSpotEmulator) -> None:
    """Add the non-object routes to the emulator's router."""
    MetaRoutes(emu).register()


def _type(name: str) -> str:
    found = object_type(name)
    if found is None:
        raise StoreError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return found.name


def _spec(kind: int, label: str | None) -> dict[str, Any]:
    return {"category": "HUBSPOT_DEFINED", "typeId": kind, "label": label}


class MetaRoutes:
    """Handlers for associations, properties, pipelines, owners and OAuth."""

    def __init__(self, emu: HubSpotEmulator) -> None:
        self.emu = emu

    def register(self) -> None:
        """Routes in match order (groups before {propertyName})."""
        add, wrap = self.emu.router.add, self._wrap
        v4 = "/crm/v4/associations/{fromObjectType}/{toObjectType}"
        add("POST", f"{v4}/batch/read", wrap(self.assoc_read))
        add("POST", f"{v4}/batch/create", wrap(self.assoc_create))
        add("POST", f"{v4}/batch/associate/default", wrap(self.assoc_default))
        add("POST", f"{v4}/batch/archive", wrap(self.assoc_archive))
        add("GET", f"{v4}/labels", wrap(self.assoc_labels))
        obj = "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations"
        add("PUT", f"{obj}/default/{{toObjectType}}/{{toObjectId}}", wrap(self.assoc_put_default))
        add("GET", f"{obj}/{{toObjectType}}", wrap(self.assoc_list))
        add("PUT", f"{obj}/{{toObjectType}}/{{toObjectId}}", wrap(self.assoc_put))
        props = "/crm/v3/properties/{objectType}"
        add("GET", f"{props}/groups", wrap(self.groups_list))
        add("POST", f"{props}/groups", wrap(self.group_create, "write"))
        add("GET", f"{props}/groups/{{groupName}}", wrap(self.group_get))
        add("POST", f"{props}/batch/read", wrap(self.props_batch_read))
        add("POST", f"{props}/batch/create", wrap(self.props_batch_create, "write"))
        add("GET", props, wrap(self.props_list))
        add("POST", props, wrap(self.prop_create, "write"))
        add("GET", f"{props}/{{propertyName}}", wrap(self.prop_get))
        pipes = "/crm/v3/pipelines/{objectType}"
        add("GET", pipes, wrap(self.pipelines_list))
        add("GET", f"{pipes}/{{pipelineId}}", wrap(self.pipeline_get))
        add("GET", f"{pipes}/{{pipelineId}}/stages", wrap(self.stages_list))
        add("GET", f"{pipes}/{{pipelineId}}/stages/{{stageId}}", wrap(self.stage_get))
        add("GET", "/crm/v3/owners", wrap(self.owners_list))
        add("GET", "/crm/v3/owners/{ownerId}", wrap(self.owner_get))
        add("GET", "/oauth/v1/access-tokens/{token}", self.token_info)
        add("POST", "/oauth/v2/private-apps/get/access-token-info", self.private_token_info)
        add("POST", "/oauth/v1/token", self.token_refresh)

    def _wrap(self, handler: Handler, schema: str | None = None) -> Callable[[Request], Response]:
        def run(req: Request) -> Response:
            try:
                if schema and "objectType" in req.params:
                    name = _type(req.params["objectType"])
                    # Engagements have no schema write scope: notes' is crm.schemas.contacts.write.
                    family = OBJECT_TYPES[name].scope.rsplit(".", 1)[-1]
                    refused = self.emu.missing_scopes(req, f"crm.schemas.{family}.write")
                    if refused is not None:
                        return refused
                return handler(req, self.emu.store_for(req))
            except StoreError as exc:
                return self.emu.error(exc.status, exc.message, exc.category, context=exc.context)

        return run

    @staticmethod
    def _inputs(req: Request, limit: int) -> list[dict[str, Any]]:
        body = req.json
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise StoreError(400, "VALIDATION_ERROR", "inputs: a list of objects is required")
        if len(inputs) > limit:
            raise StoreError(400, "VALIDATION_ERROR", f"at most {limit} inputs per batch")
        return inputs

    # -- associations v4 -------------------------------------------------------------------
    def _pair(self, req: Request) -> tuple[str, str]:
        return _type(req.params["fromObjectType"]), _type(req.params["toObjectType"])

    def _labels(self, f: str, t: str) -> dict[int, str | None]:
        return dict(ASSOCIATION_TYPES.get((f, t), []))

    def _to_rows(self, store: PortalStore, f: str, fid: str, t: str) -> list[dict[str, Any]]:
        labels = self._labels(f, t)
        links = store.associated(f, fid, t)
        return [
            {
                "toObjectId": int(to),
                "associationTypes": [_spec(k, labels.get(k)) for k in sorted(links[to])],
            }
            for to in sorted(links, key=int)
        ]

    def assoc_read(self, req: Request, store: PortalStore) -> Response:
        f, t = self._pair(req)
        results, errors = [], []
        for item in self._inputs(req, ASSOCIATION_BATCH_MAX):
            fid = str(item.get("id"))
            rows = self._to_rows(store, f, fid, t) if store.get(f, fid) else []
            if rows:
                results.append({"from": {"id": fid}, "to": rows})
            else:
                exc = StoreError(
                    404,
                    "OBJECT_NOT_FOUND",
                    f"No {t} is associated with {OBJECT_TYPES[f].singular} {fid}.",
                )
                err = batch_error(exc)
                err.update(
                    subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
                    context={"fromObjectId": [fid]},
                )
                errors.append(err)
        status, body = batch_json(results, errors, store.clock.now())
        return json_response(status, body)

    def _pair_json(self, f: str, fid: str, t: str, tid: str, kinds: list[int]) -> dict[str, Any]:
        labels = self._labels(f, t)
        return {
            "fromObjectTypeId": OBJECT_TYPES[f].type_id,
            "fromObjectId": fid,
            "toObjectTypeId": OBJECT_TYPES[t].type_id,
            "toObjectId": tid,
            "labels": [labels[k] for k in kinds if labels.get(k)],
        }

    def assoc_create(self, req: Request, store: PortalStore) -> Response:
        f, t = self._pair(req)
        results, errors = [], []
        for item in self._inputs(req, ASSOCIATION_BATCH_MAX):
            fid, tid = (
                str((item.get("from") or {}).get("id")),
                str((item.get("to") or {}).get("id")),
            )
            try:
                kinds = [
                    store.associate(f, fid, t, tid, s.get("associationTypeId"))
                    for s in item.get("types") or [{}]
                ]
            except StoreError as exc:
                errors.append(batch_error(exc, [fid, tid]))
                continue
            results.append(self._pair_json(f, fid, t, tid, kinds))
        status, body = batch_json(results, errors, store.clock.now())
        return json_response(201 if status == 200 else status, body)

    def assoc_default(self, req: Request, store: PortalStore) -> Response:
        f, t = self._pair(req)
        results, errors = [], []
        for item in self._inputs(req, ASSOCIATION_BATCH_MAX):
            fid, tid = (
                str((item.get("from") or {}).get("id")),
                str((item.get("to") or {}).get("id")),
            )
            try:
                kind = store.associate(f, fid, t, tid)
            except StoreError as exc:
                errors.append(batch_error(exc, [fid, tid]))
                continue
            results.append(
                {
                    "from": {"id": fid},
                    "to": {"id": tid},
                    "associationSpec": {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": kind,
                    },
                }
            )
        status, body = batch_json(results, errors, store.clock.now())
        return json_response(status, body)

    def assoc_archive(self, req: Request, store: PortalStore) -> Response:
        f, t = self._pair(req)
        for item in self._inputs(req, ASSOCIATION_BATCH_MAX):
            fid = str((item.get("from") or {}).get("id"))
            for to in item.get("to") or []:
                store.disassociate(f, fid, t, str(to.get("id")))
        return Response(204, content_type="text/plain")

    def assoc_labels(self, req: Request, store: PortalStore) -> Response:
        f, t = self._pair(req)
        rows = [_spec(k, label) for k, label in ASSOCIATION_TYPES.get((f, t), [])]
        return json_response(200, {"results": rows})

    def assoc_put_default(self, req: Request, store: PortalStore) -> Response:
        f, t = _type(req.params["fromObjectType"]), _type(req.params["toObjectType"])
        fid, tid = req.params["fromObjectId"], req.params["toObjectId"]
        kind = store.associate(f, fid, t, tid)
        row = {
            "from": {"id": fid},
            "to": {"id": tid},
            "associationSpec": {
                "associationCategory": "HUBSPOT_DEFINED",
                "associationTypeId": kind,
            },
        }
        return json_response(200, batch_json([row], [], store.clock.now())[1])

    def assoc_put(self, req: Request, store: PortalStore) -> Response:
        f, t = _type(req.params["fromObjectType"]), _type(req.params["toObjectType"])
        fid, tid = req.params["fromObjectId"], req.params["toObjectId"]
        specs = req.json if isinstance(req.json, list) else []
        kinds = [store.associate(f, fid, t, tid, s.get("associationTypeId")) for s in specs]
        return json_response(201, self._pair_json(f, fid, t, tid, kinds))

    def assoc_list(self, req: Request, store: PortalStore) -> Response:
        f, t = _type(req.params["fromObjectType"]), _type(req.params["toObjectType"])
        fid = req.params["fromObjectId"]
        if store.get(f, fid) is None:
            raise StoreError(404, "OBJECT_NOT_FOUND", f"{f} {fid} not found")
        return json_response(200, {"results": self._to_rows(store, f, fid, t)})

    # -- properties ------------------------------------------------------------------------
    def props_list(self, req: Request, store: PortalStore) -> Response:
        name = _type(req.params["objectType"])
        archived = flag(req, "archived")
        rows = [p for p in store.properties[name].values() if p["archived"] == archived]
        return json_response(200, {"results": rows})

    def prop_get(self, req: Request, store: PortalStore) -> Response:
        name = _type(req.params["objectType"])
        prop = store.properties[name].get(req.params["propertyName"])
        if prop is None:
            raise StoreError(
                404, "OBJECT_NOT_FOUND", f"Unable to find property {req.params['propertyName']}"
            )
        return json_response(200, prop)

    def prop_create(self, req: Request, store: PortalStore) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        return json_response(201, property_create(store, _type(req.params["objectType"]), body))

    def props_batch_read(self, req: Request, store: PortalStore) -> Response:
        defs = store.properties[_type(req.params["objectType"])]
        wanted = [str(i.get("name")) for i in self._inputs(req, 1000)]
        status, body = batch_json([defs[n] for n in wanted if n in defs], [], store.clock.now())
        return json_response(status, body)

    def props_batch_create(self, req: Request, store: PortalStore) -> Response:
        name = _type(req.params["objectType"])
        results, errors = [], []
        for item in self._inputs(req, 100):
            try:
                results.append(property_create(store, name, item))
            except StoreError as exc:
                errors.append(batch_error(exc, [str(item.get("name"))]))
        status, body = batch_json(results, errors, store.clock.now())
        return json_response(201 if status == 200 else status, body)

    def groups_list(self, req: Request, store: PortalStore) -> Response:
        return json_response(
            200, {"results": list(store.groups[_type(req.params["objectType"])].values())}
        )

    def group_get(self, req: Request, store: PortalStore) -> Response:
        group = store.groups[_type(req.params["objectType"])].get(req.params["groupName"])
        if group is None:
            raise StoreError(
                404, "OBJECT_NOT_FOUND", f"Unable to find group {req.params['groupName']}"
            )
        return json_response(200, group)

    def group_create(self, req: Request, store: PortalStore) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        groups = store.groups[_type(req.params["objectType"])]
        if not body.get("name") or not body.get("label"):
            raise StoreError(400, "VALIDATION_ERROR", "name and label are required")
        if body["name"] in groups:
            raise StoreError(
                409,
                "OBJECT_ALREADY_EXISTS",
                f"Property group named '{body['name']}' already exists.",
            )
        groups[body["name"]] = {
            "name": body["name"],
            "label": body["label"],
            "displayOrder": body.get("displayOrder", -1),
            "archived": False,
        }
        return json_response(201, groups[body["name"]])

    # -- pipelines and owners --------------------------------------------------------------
    def _pipelines(self, req: Request, store: PortalStore) -> list[dict[str, Any]]:
        return store.pipelines if _type(req.params["objectType"]) == "deals" else []

    def _pipeline(self, req: Request, store: PortalStore) -> dict[str, Any]:
        found = next(
            (p for p in self._pipelines(req, store) if p["id"] == req.params["pipelineId"]), None
        )
        if found is None:
            raise StoreError(
                404, "OBJECT_NOT_FOUND", f"Pipeline {req.params['pipelineId']} not found"
            )
        return found

    def pipelines_list(self, req: Request, store: PortalStore) -> Response:
        return json_response(200, {"results": self._pipelines(req, store)})

    def pipeline_get(self, req: Request, store: PortalStore) -> Response:
        return json_response(200, self._pipeline(req, store))

    def stages_list(self, req: Request, store: PortalStore) -> Response:
        return json_response(200, {"results": self._pipeline(req, store)["stages"]})

    def stage_get(self, req: Request, store: PortalStore) -> Response:
        stage = next(
            (s for s in self._pipeline(req, store)["stages"] if s["id"] == req.params["stageId"]),
            None,
        )
        if stage is None:
            raise StoreError(404, "OBJECT_NOT_FOUND", f"Stage {req.params['stageId']} not found")
        return json_response(200, stage)

    def owners_list(self, req: Request, store: PortalStore) -> Response:
        refused = self.emu.missing_scopes(req, "crm.objects.owners.read")
        if refused is not None:
            return refused
        rows = [o for o in store.owners if o["archived"] == (flag(req, "archived"))]
        if req.arg("email"):
            rows = [o for o in rows if o["email"] == req.arg("email")]
        after = int(req.arg("after") or 0)
        limit = min(500, int(req.arg("limit") or 100))
        body: dict[str, Any] = {"results": rows[after : after + limit]}
        if after + limit < len(rows):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return json_response(200, body)

    def owner_get(self, req: Request, store: PortalStore) -> Response:
        key = "userId" if req.arg("idProperty") == "userId" else "id"
        found = next((o for o in store.owners if str(o[key]) == req.params["ownerId"]), None)
        if found is None:
            raise StoreError(404, "OBJECT_NOT_FOUND", f"Owner {req.params['ownerId']} not found")
        return json_response(200, found)

    # -- OAuth -----------------------------------------------------------------------------
    def token_info(self, req: Request) -> Response:
        token = self.emu.tokens.get(req.params["token"])
        now = self.emu.clock.now()
        if token is None or (token.expires_at is not None and now >= token.expires_at):
            return self.emu.error(404, "Token not found", "OBJECT_NOT_FOUND")
        left = (token.expires_at - now) if token.expires_at else timedelta(days=36500)
        return json_response(
            200,
            {
                "token": req.params["token"],
                "user": token.user,
                "hub_domain": f"portal-{token.portal_id}.example.com",
                "scopes": list(token.scopes),
                "hub_id": token.portal_id,
                "app_id": self.emu.app_id,
                "expires_in": int(left.total_seconds()),
                "user_id": 2_000_001,
                "token_type": "access",
            },
        )

    def private_token_info(self, req: Request) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        token = self.emu.tokens.get(str(body.get("tokenKey")))
        if token is None:
            return self.emu.error(401, "Invalid token", "INVALID_AUTHENTICATION")
        return json_response(
            200,
            {
                "userId": 2_000_001,
                "hubId": token.portal_id,
                "appId": self.emu.app_id,
                "scopes": list(token.scopes),
            },
        )

    def token_refresh(self, req: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.raw.decode(errors="replace")).items()}
        if form.get("client_secret") != self.emu.client_secret:
            return self.emu.error(400, "Invalid client secret", "BAD_CLIENT_SECRET")
        old = next(
            (
                k
                for k, v in self.emu.tokens.items()
                if form.get("grant_type") == "refresh_token"
                and v.refresh_token
                and v.refresh_token == form.get("refresh_token")
            ),
            None,
        )
        if old is None:
            return self.emu.error(400, "missing or unknown refresh token", "BAD_REFRESH_TOKEN")
        info = self.emu.tokens[old]
        access, _ = self.emu.oauth_token(info.portal_id, scopes=info.scopes)
        self.emu.tokens[access].refresh_token = info.refresh_token
        return json_response(
            200,
            {
                "access_token": access,
                "refresh_token": info.refresh_token,
                "expires_in": 1800,
                "token_type": "bearer",
                "issued_at": iso(self.emu.clock.now()),
            },
        )
