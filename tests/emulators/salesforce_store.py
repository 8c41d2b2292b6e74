"""One Salesforce org's data for the emulator: sObject rows, the recycle bin, field history.

Rows are dicts of field name -> Python value (see `salesforce_model`). Every write stamps
SystemModstamp / LastModifiedDate in whole seconds from the emulator clock and records who wrote
(`by`: the API user for REST writes, the org's "UI user" for writes made through this class).
Writes Salesforce refuses raise `StoreError` with its errorCode, which the routes render.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from tests.emulators.framework import Clock
from tests.emulators.salesforce_model import (
    SALESOPS_CUSTOM_FIELDS,
    STAGE_DEFAULTS,
    SYSTEM_FIELDS,
    FieldDef,
    Schema,
)
from tests.emulators.salesforce_values import make_id, normalize_id, type_of_id, value_parse

HISTORY_FIELDS = {"StageName": "Picklist", "CloseDate": "Date", "Amount": "Currency"}
PERSONS = ("Contact", "Lead", "User")


class StoreError(Exception):
    """A write Salesforce refuses: HTTP status, errorCode, message, fields."""

    def __init__(self, status: int, code: str, message: str, fields: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, list(fields)

    def body(self) -> dict[str, Any]:
        """The error as one entry of Salesforce's error list."""
        return {"message": self.message, "errorCode": self.code, "fields": self.fields}


class OrgStore:
    """An org's records; see the module docstring."""

    def __init__(
        self,
        org_id: str,
        username: str,
        clock: Clock,
        serial: Callable[[], int],
        *,
        provisioned: bool = True,
    ) -> None:
        self.org_id, self.username, self.clock = org_id, username, clock
        self._serial = serial
        self.schema = Schema()
        if provisioned:
            for sobject, fields in SALESOPS_CUSTOM_FIELDS.items():
                for fdef in fields:
                    self.schema.add_custom(sobject, fdef)
        self.tables: dict[str, dict[str, dict[str, Any]]] = {o: {} for o in self.schema.objects()}
        self.deleted_at: dict[str, datetime] = {}  # Id -> when it went to the recycle bin
        self.sample_ids: dict[tuple[str, str], str] = {}
        self.api_used = 0
        self.api_max = 100_000
        self.created = self.now()
        self.lock = threading.RLock()
        # The person clicking in the UI (seed writes) and the integration user (API writes).
        self.ui_user_id = self.new_id("User")
        self.user_id = self.new_id("User")
        for uid, uname, first, last in (
            (self.ui_user_id, f"admin.{org_id[-6:].lower()}@example.com", "Org", "Admin"),
            (self.user_id, username, "Integration", "User"),
        ):
            self.insert(
                "User",
                {
                    "Id": uid,
                    "Username": uname,
                    "Email": uname,
                    "FirstName": first,
                    "LastName": last,
                },
                by=self.ui_user_id,
            )

    # -- ids and time ----------------------------------------------------------------------
    def now(self) -> datetime:
        """The clock in whole seconds, as SystemModstamp holds it."""
        return self.clock.now().replace(microsecond=0)

    def new_id(self, sobject: str) -> str:
        """A fresh 18-character Id for an object (unique across the emulator's orgs)."""
        return make_id(sobject, self._serial())

    # -- reads -----------------------------------------------------------------------------
    def get(self, sobject: str, id: str) -> dict[str, Any] | None:
        """A live row by Id (15 or 18 characters), a copy."""
        row = self._row(sobject, id)
        return dict(row) if row is not None and not row.get("IsDeleted") else None

    def rows(self, sobject: str, *, deleted: bool = False) -> list[dict[str, Any]]:
        """Live rows (and recycle-bin ones with `deleted=True`), copies, in insertion order."""
        with self.lock:
            return [
                dict(r) for r in self.tables[sobject].values() if deleted or not r.get("IsDeleted")
            ]

    def find(self, id: str) -> tuple[str, dict[str, Any]] | None:
        """(sObject, row) for any Id, deleted rows included (no copy: callers only read)."""
        sobject = type_of_id(id)
        norm = normalize_id(id)
        if sobject not in self.tables or norm is None:
            return None
        row = self.tables[sobject].get(norm)
        return (sobject, row) if row is not None else None

    def by_field(self, sobject: str, name: str, value: Any) -> list[dict[str, Any]]:
        """Live rows whose field equals a value (external id lookups)."""
        return [r for r in self.rows(sobject) if r.get(name) == value]

    # -- writes ----------------------------------------------------------------------------
    def insert(self, sobject: str, fields: dict[str, Any], *, by: str | None = None) -> str:
        """Create a row; returns its Id. Trusted callers (seed, tests) may set system fields."""
        return self.create(sobject, fields, by=by, trusted=True)

    def create(
        self, sobject: str, fields: dict[str, Any], *, by: str | None = None, trusted: bool = False
    ) -> str:
        """Create a row; an API write (`trusted=False`) may not set read-only fields."""
        with self.lock:
            values = self._coerce(sobject, fields, trusted=trusted)
            defs = self.schema.fields(sobject)
            missing = [n for n, f in defs.items() if f.required and values.get(n) in (None, "")]
            if missing:
                raise StoreError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            now, writer = self.now(), by or self.ui_user_id
            row: dict[str, Any] = {n: f.default for n, f in defs.items()}
            row.update(
                Id=self.new_id(sobject),
                CreatedDate=now,
                CreatedById=writer,
                LastModifiedDate=now,
                LastModifiedById=writer,
                SystemModstamp=now,
            )
            if sobject == "User":
                row.pop("IsDeleted", None)
            elif "OwnerId" in defs:
                row["OwnerId"] = writer  # records belong to their creator unless told otherwise
            row.update(values)
            if sobject == "Opportunity":
                self._stage_defaults(row, values)
            self._derive(sobject, row)
            self.tables[sobject][row["Id"]] = row
            if sobject == "Opportunity":
                self.history_add(row["Id"], "created", None, None, row["CreatedDate"], writer)
            return str(row["Id"])

    def update(
        self,
        sobject: str,
        id: str,
        fields: dict[str, Any],
        *,
        by: str | None = None,
        trusted: bool = True,
    ) -> None:
        """Change fields of a live row; bumps SystemModstamp and writes field history."""
        with self.lock:
            row = self._live(sobject, id)
            if sobject == "Lead" and row.get("IsConverted") and not trusted:
                raise StoreError(
                    400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"
                )
            values = self._coerce(sobject, fields, trusted=trusted)
            defs = self.schema.fields(sobject)
            cleared = [n for n, v in values.items() if defs[n].required and v in (None, "")]
            if cleared:
                raise StoreError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(cleared)}]",
                    cleared,
                )
            now, writer = self.now(), by or self.ui_user_id
            if sobject == "Opportunity":
                for name in HISTORY_FIELDS:
                    if name in values and values[name] != row.get(name):
                        self.history_add(row["Id"], name, row.get(name), values[name], now, writer)
                if "StageName" in values and values["StageName"] != row.get("StageName"):
                    self._stage_defaults(values, values)
            row.update(values)
            row.update(LastModifiedDate=now, LastModifiedById=writer, SystemModstamp=now)
            self._derive(sobject, row)

    def delete(self, sobject: str, id: str, *, by: str | None = None) -> None:
        """Move a live row to the recycle bin: IsDeleted, seen by queryAll and getDeleted."""
        with self.lock:
            row = self._live(sobject, id)
            now = self.now()
            row.update(
                IsDeleted=True,
                LastModifiedDate=now,
                LastModifiedById=by or self.ui_user_id,
                SystemModstamp=now,
            )
            self.deleted_at[row["Id"]] = now

    def convert_lead(
        self,
        lead_id: str,
        contact_id: str,
        account_id: str | None = None,
        opportunity_id: str | None = None,
    ) -> None:
        """Mark a Lead converted into an existing Contact (and Account, Opportunity)."""
        self.update(
            "Lead",
            lead_id,
            {
                "IsConverted": True,
                "Status": "Closed - Converted",
                "ConvertedContactId": contact_id,
                "ConvertedAccountId": account_id,
                "ConvertedOpportunityId": opportunity_id,
                "ConvertedDate": self.now().date(),
            },
        )

    def add_custom_field(self, sobject: str, fdef: FieldDef) -> None:
        """Create a custom field (existing rows read it as null)."""
        with self.lock:
            self.schema.add_custom(sobject, fdef)
            for row in self.tables[sobject].values():
                row.setdefault(fdef.name, fdef.default)

    # -- internals -------------------------------------------------------------------------
    def _row(self, sobject: str, id: str) -> dict[str, Any] | None:
        norm = normalize_id(id)
        if norm is None or sobject not in self.tables:
            return None
        return self.tables[sobject].get(norm)

    def _live(self, sobject: str, id: str) -> dict[str, Any]:
        row = self._row(sobject, id)
        if row is None:
            raise StoreError(404, "NOT_FOUND", "The requested resource does not exist")
        if row.get("IsDeleted"):
            raise StoreError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return row

    def _coerce(self, sobject: str, fields: dict[str, Any], *, trusted: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.items():
            fdef = self.schema.field(sobject, name)
            if fdef is None:
                raise StoreError(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
                )
            if not trusted and (not fdef.writable or fdef.name in SYSTEM_FIELDS):
                raise StoreError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [fdef.name],
                )
            if isinstance(value, datetime):
                parsed: Any = value.replace(microsecond=0)
            elif isinstance(value, date) and fdef.type == "date":
                parsed = value
            else:
                try:
                    parsed = value_parse(value, fdef)
                except ValueError as exc:
                    raise StoreError(
                        400,
                        "JSON_PARSER_ERROR" if fdef.type != "reference" else "MALFORMED_ID",
                        f"{fdef.name}: {exc}",
                        [fdef.name],
                    ) from None
            if fdef.type == "reference" and parsed is not None and fdef.reference_to:
                self._check_reference(fdef, parsed)
            values[fdef.name] = parsed
        return values

    def _check_reference(self, fdef: FieldDef, id: str) -> None:
        found = self.find(id)
        if found is None or found[0] not in fdef.reference_to or found[1].get("IsDeleted"):
            raise StoreError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: {fdef.name}",
                [fdef.name],
            )

    @staticmethod
    def _stage_defaults(target: dict[str, Any], given: dict[str, Any]) -> None:
        # A stage change brings the stage's probability and forecast category unless set too.
        prob, forecast = STAGE_DEFAULTS.get(str(target.get("StageName")), (None, None))
        if prob is not None and "Probability" not in given:
            target["Probability"] = float(prob)
        if forecast is not None and "ForecastCategoryName" not in given:
            target["ForecastCategoryName"] = forecast

    @staticmethod
    def _derive(sobject: str, row: dict[str, Any]) -> None:
        if sobject in PERSONS:
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        elif sobject == "Opportunity":
            stage = str(row.get("StageName") or "")
            row["IsClosed"] = stage.startswith("Closed")
            row["IsWon"] = stage == "Closed Won"
        elif sobject == "Task":
            row["IsClosed"] = row.get("Status") == "Completed"
            if row["IsClosed"] and row.get("CompletedDateTime") is None:
                row["CompletedDateTime"] = row["LastModifiedDate"]

    def history_add(
        self, opp_id: str, field: str, old: Any, new: Any, when: datetime, by: str
    ) -> None:
        """Record one OpportunityFieldHistory row (the seed adds past ones this way)."""
        hid = self.new_id("OpportunityFieldHistory")
        self.tables["OpportunityFieldHistory"][hid] = {
            "Id": hid,
            "IsDeleted": False,
            "OpportunityId": opp_id,
            "Field": field,
            "DataType": HISTORY_FIELDS.get(field, "Text"),
            "OldValue": _history_value(old),
            "NewValue": _history_value(new),
            "CreatedDate": when,
            "CreatedById": by,
            "LastModifiedDate": when,
            "LastModifiedById": by,
            "SystemModstamp": when,
        }


def _history_value(value: Any) -> Any:
    # History keeps values as the API renders them (dates as text, numbers as numbers).
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
