"""`check()` for a HubSpot portal: identity, scopes, our properties, pick-list values, budget;
`provision` creates the `salesops` property group and the missing properties.

Also the optional hooks salesops' connection check calls: `properties_missing(needed)` and
`vendor_values(field)`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import CheckLine, CRMError, PermanentCRMError
from connectors.hubspot.properties import (
    AI_PROPERTIES,
    NAMES,
    OBJECTS,
    SALESOPS_GROUP,
    SALESOPS_KEY,
    StageMap,
    ValueMapping,
)
from connectors.record_model import OBJECT_FIELDS
from connectors.vocabulary import VOCABULARY, unmapped_values, value_to_neutral

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient

READ_SCOPES = (
    *(f"crm.objects.{t}.read" for t in OBJECTS.values()),
    "crm.objects.owners.read",
    *(f"crm.schemas.{t}.read" for t in OBJECTS.values()),
)
WRITE_SCOPES = tuple(f"crm.objects.{t}.write" for t in OBJECTS.values())
PROVISION_SCOPES = tuple(f"crm.schemas.{t}.write" for t in ("contacts", "deals"))
# The unique key our notes and tasks carry (exactly-once writes).
KEY_TYPES = ("notes", "tasks")
PICK_LISTS = {"contact.lifecycle_stage": "lifecyclestage", "contact.lead_status": "hs_lead_status"}


def _definition(hs_type: str, name: str) -> dict[str, Any]:
    # ai_* properties keep their neutral name in HubSpot; salesops_key is text.
    object_type = {o: n for n, o in OBJECTS.items()}.get(hs_type, "")
    kind = OBJECT_FIELDS.get(object_type, {}).get(name, "string")
    number = kind in ("int", "double")
    return {
        "name": name,
        "label": name.replace("_", " ").title().replace("Ai ", "AI "),
        "type": "number" if number else "string",
        "fieldType": "number" if number else "text",
        "groupName": SALESOPS_GROUP,
        "description": "Written by salesops (AI sales operations).",
        "hasUniqueValue": name == SALESOPS_KEY,
    }


class Checker:
    """Reads what the portal has; caches property names until provisioning changes them."""

    def __init__(self, client: HubSpotClient, stages: StageMap, mapping: ValueMapping) -> None:
        self.client, self.stages, self.mapping = client, stages, mapping
        self._names: dict[str, set[str]] = {}
        self._identity: dict[str, Any] | None = None

    # -- identity --------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        """{"portal", "user", "scopes"} of the token (OAuth or private app), read once."""
        if self._identity is None:
            token = self.client.access_token
            ways = [self._oauth_info, self._private_info]
            if not self.client.can_refresh:
                ways.reverse()
            error: CRMError | None = None
            for way in ways:
                try:
                    self._identity = way(token)
                    break
                except PermanentCRMError as exc:
                    error = exc
            if self._identity is None:
                assert error is not None
                raise error
        return self._identity

    def _oauth_info(self, token: str) -> dict[str, Any]:
        body = self.client.call("oauth.access_tokens_api", "get", token) or {}
        return {
            "portal": str(body.get("hub_id", "")),
            "user": str(body.get("user") or ""),
            "scopes": list(body.get("scopes") or []),
        }

    def _private_info(self, token: str) -> dict[str, Any]:
        body = (
            self.client.raw(
                "POST", "/oauth/v2/private-apps/get/access-token-info", {"tokenKey": token}
            )
            or {}
        )
        return {
            "portal": str(body.get("hubId", "")),
            "user": f"private app {body.get('appId', '')}",
            "scopes": list(body.get("scopes") or []),
        }

    # -- properties ------------------------------------------------------------------------

    def names(self, hs_type: str) -> set[str]:
        """The portal's property names of one object type."""
        if hs_type not in self._names:
            body = self.client.call("crm.properties.core_api", "get_all", hs_type) or {}
            self._names[hs_type] = {str(p["name"]) for p in body.get("results", [])}
        return self._names[hs_type]

    def ours_missing(self) -> dict[str, list[str]]:
        """Our properties (ai_* outputs, salesops_key) the portal lacks, by HubSpot type."""
        wanted = {OBJECTS[ot]: names for ot, names in AI_PROPERTIES.items() if names}
        wanted.update({t: [SALESOPS_KEY] for t in KEY_TYPES})
        return {t: [n for n in names if n not in self.names(t)] for t, names in wanted.items()}

    def properties_missing(self, needed: Mapping[str, Collection[str]]) -> list[str]:
        """The "object.property" names of `needed` (neutral) the portal does not have."""
        missing = []
        for object_type, props in needed.items():
            hs_type = OBJECTS.get(object_type)
            for prop in props:
                vendor = NAMES.get(object_type, {}).get(prop)
                if hs_type is None or vendor is None or vendor not in self.names(hs_type):
                    missing.append(f"{object_type}.{prop}")
        return missing

    def provision(self) -> list[CheckLine]:
        """Create the `salesops` group and our missing properties; one line per type."""
        lines = []
        for hs_type, names in self.ours_missing().items():
            if not names:
                continue
            try:
                self._group(hs_type)
                inputs = [_definition(hs_type, n) for n in names]
                answer = self.client.call(
                    "crm.properties.batch_api", "create", hs_type, {"inputs": inputs}
                )
                errors = (answer or {}).get("errors") or []
                if errors:
                    raise PermanentCRMError("; ".join(str(e.get("message")) for e in errors))
                lines.append(CheckLine("provision", "ok", f"created {hs_type}: {', '.join(names)}"))
            except CRMError as exc:
                lines.append(
                    CheckLine(
                        "provision",
                        "problem",
                        f"cannot create {hs_type} properties {', '.join(names)}: {exc}",
                        blocking=True,
                    )
                )
            self._names.pop(hs_type, None)
        return lines or [CheckLine("provision", "ok", "nothing to provision")]

    def _group(self, hs_type: str) -> None:
        body = {"name": SALESOPS_GROUP, "label": "SalesOps (AI)", "displayOrder": -1}
        try:
            self.client.call("crm.properties.groups_api", "create", hs_type, body)
        except PermanentCRMError as exc:
            if getattr(exc, "status", None) != 409:  # it exists already: fine
                raise

    # -- values ----------------------------------------------------------------------------

    def vendor_values(self, field: str) -> list[str]:
        """The portal's own values of a vocabulary field: stage ids (labels where the label
        names the neutral stage), or a pick-list property's options."""
        if field == "deal.stage":
            out = []
            for stage_id, stage in self.stages.stages().items():
                if value_to_neutral(field, stage_id, self.mapping) in VOCABULARY[field]:
                    out.append(stage_id)
                else:
                    out.append(str(stage.get("label") or stage_id))
            return out
        prop = PICK_LISTS.get(field)
        if prop is None:
            return []
        body = self.client.call("crm.properties.core_api", "get_by_name", "contacts", prop) or {}
        return [str(o["value"]) for o in body.get("options") or []]

    def lines(self, *, account: str) -> list[CheckLine]:
        """Identity, scopes, properties, values and budget findings."""
        ident = self.identity()
        lines = [
            CheckLine("identity", "ok", f"HubSpot portal {ident['portal']} as {ident['user']}")
        ]
        if account and ident["portal"] and account != ident["portal"]:
            lines.append(
                CheckLine(
                    "identity",
                    "problem",
                    f"the token is for portal {ident['portal']}, the connection says {account}",
                    blocking=True,
                )
            )
        scopes = set(ident["scopes"])
        lacking = [s for s in (*READ_SCOPES, *WRITE_SCOPES) if s not in scopes]
        if lacking:
            lines.append(
                CheckLine(
                    "scopes",
                    "problem",
                    f"missing scopes: {', '.join(lacking)}",
                    blocking=True,
                    fix="add them to the private app",
                )
            )
        else:
            lines.append(CheckLine("scopes", "ok", "every scope the SOPs need is granted"))
        no_provision = [s for s in PROVISION_SCOPES if s not in scopes]
        if no_provision:
            lines.append(
                CheckLine("scopes", "warning", "provisioning needs " + ", ".join(no_provision))
            )
        missing = {t: n for t, n in self.ours_missing().items() if n}
        for hs_type, names in missing.items():
            key = SALESOPS_KEY in names
            lines.append(
                CheckLine(
                    "properties",
                    "problem" if key else "warning",
                    f"{hs_type} lacks {', '.join(names)}"
                    + (": notes and tasks cannot be written exactly once" if key else ""),
                    blocking=key,
                    fix="connection_check --provision",
                )
            )
        if not missing:
            lines.append(CheckLine("properties", "ok", "every salesops property exists"))
        for field in VOCABULARY:
            unmapped = unmapped_values(field, self.vendor_values(field), self.mapping)
            if unmapped:
                shown = ", ".join(repr(v) for v in unmapped[:10])
                lines.append(
                    CheckLine(
                        "values",
                        "warning",
                        f"{field}: no neutral value for {shown}",
                        fix=f'map them in the connection\'s mapping["{field}"]',
                    )
                )
        usage = self.client.usage()
        if usage["daily_limit"]:
            lines.append(
                CheckLine(
                    "rate_limit",
                    "ok",
                    f"{usage['daily_remaining']} of {usage['daily_limit']} daily calls left",
                )
            )
        return lines
