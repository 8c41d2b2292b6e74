"""`check()` for a Salesforce org: identity, the custom fields salesops writes, pick-list
values, the daily API budget. `provision` cannot create fields (the Metadata API needs admin
rights a sales integration user should not hold): it says what an admin must create.

Also the optional hooks salesops' connection check calls: `properties_missing(needed)` and
`vendor_values(field)`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.base import CheckLine
from connectors.record_model import OBJECT_FIELDS
from connectors.salesforce.fields import (
    CUSTOM_FIELDS,
    SALESOPS_KEY,
    SOBJECTS,
    ValueMapping,
    field_names,
    values_merged,
)
from connectors.vocabulary import VOCABULARY, unmapped_values, value_to_neutral

if TYPE_CHECKING:
    from connectors.salesforce.client import SalesforceClient

# Pick lists behind vocabulary fields. A Lead's lifecycle stage follows from its Status with
# "lead" for any other value, so it has no unmapped values to report.
PICK_LISTS = {"deal.stage": ("Opportunity", "StageName"), "contact.lead_status": ("Lead", "Status")}
BUDGET_WARNING = 0.10  # share of the daily requests left under which check() warns


@dataclass(frozen=True)
class FieldNeed:
    """A custom field salesops writes, and how an admin creates it."""

    sobject: str
    name: str
    kind: str  # "Text(255)", "Number(18, 0)"
    external_id: bool = False

    @property
    def spec(self) -> str:
        extra = ", External ID, Unique (case sensitive)" if self.external_id else ""
        return f"{self.sobject}.{self.name}: {self.kind}{extra}"


def _kind(object_type: str, neutral: str) -> str:
    kind = OBJECT_FIELDS.get(object_type, {}).get(neutral, "string")
    return {"int": "Number(18, 0)", "double": "Number(16, 2)"}.get(kind, "Text(255)")


class Checker:
    """Reads what the org has; describes are cached for the checker's life."""

    def __init__(self, client: SalesforceClient, mapping: ValueMapping | None = None) -> None:
        self.client, self.mapping = client, mapping or {}
        self._describes: dict[str, dict[str, dict[str, Any]]] = {}

    def identity(self) -> dict[str, str]:
        """{"org_id", "user_id", "username", ...} of the session (see the client)."""
        return self.client.identity()

    def fields(self, sobject: str) -> dict[str, dict[str, Any]]:
        """Field name -> describe entry of `sobject` (one describe call, cached)."""
        if sobject not in self._describes:
            body = self.client.get(f"sobjects/{sobject}/describe") or {}
            self._describes[sobject] = {str(f["name"]): f for f in body.get("fields") or []}
        return self._describes[sobject]

    def needs(self) -> list[FieldNeed]:
        """Every custom field salesops reads or writes: the Task key, the ai_* outputs and
        the neutral fields Salesforce has no standard field for (a Contact's lead status)."""
        out = [FieldNeed("Task", SALESOPS_KEY, "Text(255)", external_id=True)]
        for object_type, sobjects in SOBJECTS.items():
            for sobject in sobjects:
                mapped = field_names(sobject, self.mapping)
                for neutral in CUSTOM_FIELDS.get(sobject, {}):
                    if mapped.get(neutral, "").endswith("__c"):  # a mapping may name a standard one
                        kind = _kind(object_type, neutral)
                        out.append(FieldNeed(sobject, mapped[neutral], kind))
        return out

    def ours_missing(self) -> list[FieldNeed]:
        """The needed fields the org lacks (a key that is no external id counts as lacking)."""
        missing = []
        for need in self.needs():
            found = self.fields(need.sobject).get(need.name)
            if found is None or (need.external_id and not found.get("externalId")):
                missing.append(need)
        return missing

    def properties_missing(self, needed: Mapping[str, Collection[str]]) -> list[str]:
        """The "object.property" names of `needed` (neutral) the org lacks; a contact
        property must exist on both Lead and Contact."""
        missing = []
        for object_type, props in needed.items():
            for prop in sorted(props):
                for sobject in SOBJECTS.get(object_type, ()):
                    vendor = field_names(sobject, self.mapping).get(prop)
                    if vendor is None or vendor not in self.fields(sobject):
                        missing.append(f"{object_type}.{prop}")
                        break
                else:
                    if object_type not in SOBJECTS:
                        missing.append(f"{object_type}.{prop}")
        return missing

    def provision(self) -> list[CheckLine]:
        """What an admin must create (no field is created from here)."""
        lines = [
            CheckLine(
                "provision",
                "problem" if need.external_id else "warning",
                f"{need.sobject}.{need.name} cannot be created by salesops (it needs the "
                "Metadata API and admin rights)",
                blocking=need.external_id,
                fix=f"an admin creates the custom field {need.spec} in Setup > Object Manager",
            )
            for need in self.ours_missing()
        ]
        return lines or [CheckLine("provision", "ok", "nothing to provision")]

    def vendor_values(self, field: str) -> list[str]:
        """The org's active pick-list values of a vocabulary field, each given as its neutral
        value where the connector maps it (Salesforce defaults or the connection's mapping)
        and as stored otherwise, so only the truly unmapped ones look unmapped."""
        where = PICK_LISTS.get(field)
        if where is None:
            return []
        sobject, name = where
        table = {field: values_merged(self.mapping, field)}
        entry = self.fields(sobject).get(name) or {}
        out = []
        for option in entry.get("picklistValues") or []:
            if option.get("active", True):
                value = str(option.get("value"))
                neutral = value_to_neutral(field, value, table)
                out.append(neutral if neutral in VOCABULARY[field] else value)
        return out

    def lines(self, *, account: str, api_version: str) -> list[CheckLine]:
        """Identity, custom fields, values and the daily budget."""
        ident = self.identity()
        who = ident.get("username") or ident.get("user_id")
        lines = [
            CheckLine(
                "identity",
                "ok",
                f"Salesforce org {ident['org_id']} as {who} (REST API v{api_version})",
            )
        ]
        if account and ident["org_id"] and account[:15] != ident["org_id"][:15]:
            lines.append(
                CheckLine(
                    "identity",
                    "problem",
                    f"the session is for org {ident['org_id']}, the connection says {account}",
                    blocking=True,
                )
            )
        missing = self.ours_missing()
        for need in missing:
            lines.append(
                CheckLine(
                    "properties",
                    "problem" if need.external_id else "warning",
                    f"{need.sobject} lacks {need.name}"
                    + (
                        ": notes and tasks cannot be written exactly once"
                        if need.external_id
                        else ""
                    ),
                    blocking=need.external_id,
                    fix=f"an admin creates {need.spec}",
                )
            )
        if not missing:
            lines.append(CheckLine("properties", "ok", "every salesops custom field exists"))
        for field in PICK_LISTS:
            unmapped = unmapped_values(field, self.vendor_values(field), {})
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
        lines.append(self._budget_line())
        return lines

    def _budget_line(self) -> CheckLine:
        daily = (self.client.get("limits") or {}).get("DailyApiRequests") or {}
        top, left = daily.get("Max"), daily.get("Remaining")
        if not isinstance(top, int) or not isinstance(left, int) or top <= 0:
            return CheckLine("rate_limit", "warning", "the org reports no daily API limit")
        text = f"{left} of {top} daily API requests left"
        if left < BUDGET_WARNING * top:
            return CheckLine(
                "rate_limit",
                "warning",
                text + f" (under {BUDGET_WARNING:.0%})",
                fix="wait for the rolling 24-hour window, or raise the org's API limit",
            )
        return CheckLine("rate_limit", "ok", text)
