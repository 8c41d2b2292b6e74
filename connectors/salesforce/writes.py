"""Write-back: notes and tasks as Tasks (exactly once, by `Salesops_Key__c`) and property
updates, through sObject Collections with allOrNone=false.

Per `apply` call, in as few calls as the actions allow:

1. one query per sObject of the records acted on (Id, OwnerId; a Lead's conversion): a
   missing record fails its actions for good, a converted Lead's actions go to its Contact,
   and a task's owner defaults to the record's owner;
2. notes and tasks: one queryAll finds the keys applied before (`exists`, even when a
   person has since deleted the Task: it is not recreated behind their back); the others go
   through collections *upsert* on `Salesops_Key__c`, so a retry racing a lost answer still
   makes one Task;
3. property updates through collections update.

200 records a call (the collections limit). A 5xx/429 storm or an expired session raises
for the whole call (the platform retries; keys make the retry safe); a refused record or a
refused chunk is a `failed` result for those actions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import (
    Action,
    ActionResult,
    ActionStatus,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RecordRef,
    TaskAction,
)
from connectors.salesforce.client import SessionExpired
from connectors.salesforce.fields import SALESOPS_KEY, fields_from_neutral

if TYPE_CHECKING:
    from connectors.salesforce.client import SalesforceClient

BATCH_MAX = 200  # sObject Collections take at most 200 records a call
TASK_KEY_FIELD = SALESOPS_KEY
AI_PREFIX = "[AI] "
NOTE_SUBJECT = "SalesOps AI note"
SUBJECT_MAX = 255
PRIORITIES = {"HIGH": "High", "MEDIUM": "Normal", "LOW": "Low"}
RETRIABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)
NOT_FOUND_CODES = frozenset(
    {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND", "INVALID_ID_FIELD"}
)
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SOQL_ESCAPES.update({"\b": "\\b", "\f": "\\f"})


def soql_literal(value: str) -> str:
    """`value` as a quoted SOQL string literal, every special character escaped."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in value) + "'"


def sobject_of(ref: RecordRef) -> str | None:
    """The sObject a neutral ref names (a contact is a Lead when its id starts 00Q)."""
    if ref.object_type == "contact":
        return "Lead" if ref.id.startswith("00Q") else "Contact"
    return {"company": "Account", "deal": "Opportunity"}.get(ref.object_type)


def _chunks(items: Sequence[Any], size: int = BATCH_MAX) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _failed(action: Action, error: str, *, retriable: bool = False) -> ActionResult:
    return ActionResult(action.idempotency_key, "failed", error=error, retriable=retriable)


class Target:
    """A record an action lands on: its sObject, Id and owner (after following conversion)."""

    def __init__(self, sobject: str, id: str, owner_id: str) -> None:
        self.sobject, self.id, self.owner_id = sobject, id, owner_id


class Writer:
    """Applies actions to one org (see the module docstring)."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        mapping: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self.client, self.mapping, self.clock = client, mapping, clock

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """One result per action, in order."""
        results: dict[int, ActionResult] = {}
        targets = self._targets(actions)
        engagements: list[tuple[int, Action, Target]] = []
        updates: list[tuple[int, Action, Target]] = []
        for i, action in enumerate(actions):
            target = targets.get(action.record)
            if target is None:
                results[i] = _failed(action, f"{action.record} does not exist (record not found)")
            elif isinstance(action, PropertyUpdate):
                updates.append((i, action, target))
            else:
                engagements.append((i, action, target))
        if engagements:
            results.update(self._engagements(engagements))
        if updates:
            results.update(self._updates(updates))
        return [results[i] for i in range(len(actions))]

    # -- the records acted on --------------------------------------------------------------

    def _targets(self, actions: Sequence[Action]) -> dict[RecordRef, Target]:
        by_sobject: dict[str, set[str]] = {}
        for action in actions:
            sobject = sobject_of(action.record)
            if sobject and _ID.match(action.record.id):
                by_sobject.setdefault(sobject, set()).add(action.record.id)
        rows: dict[str, dict[str, Any]] = {}
        for sobject, ids in by_sobject.items():
            extra = ", IsConverted, ConvertedContactId" if sobject == "Lead" else ""
            for chunk in _chunks(sorted(ids)):
                literals = ", ".join(soql_literal(i) for i in chunk)
                soql = f"SELECT Id, OwnerId{extra} FROM {sobject} WHERE Id IN ({literals})"
                rows.update({_id15(r["Id"]): r for r in self.client.query_all(soql)})
        converted = {
            str(r["ConvertedContactId"])
            for r in rows.values()
            if r.get("IsConverted") and r.get("ConvertedContactId")
        }
        contacts: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(converted)):
            literals = ", ".join(soql_literal(i) for i in chunk)
            soql = f"SELECT Id, OwnerId FROM Contact WHERE Id IN ({literals})"
            contacts.update({_id15(r["Id"]): r for r in self.client.query_all(soql)})
        out: dict[RecordRef, Target] = {}
        for action in actions:
            ref = action.record
            row = rows.get(_id15(ref.id))
            sobject = sobject_of(ref)
            if row is None or sobject is None:
                continue
            if row.get("IsConverted"):
                contact = contacts.get(_id15(str(row.get("ConvertedContactId") or "")))
                if contact is not None:
                    out[ref] = Target("Contact", str(contact["Id"]), str(contact["OwnerId"] or ""))
                continue
            out[ref] = Target(sobject, str(row["Id"]), str(row.get("OwnerId") or ""))
        return out

    # -- notes and tasks -------------------------------------------------------------------

    def _engagements(self, wanted: list[tuple[int, Action, Target]]) -> dict[int, ActionResult]:
        out: dict[int, ActionResult] = {}
        keys = sorted({a.idempotency_key for _, a, _ in wanted})
        existing = self._existing_keys(keys)
        first: dict[str, int] = {}
        todo: list[tuple[int, Action, dict[str, Any]]] = []
        for i, action, target in wanted:
            key = action.idempotency_key
            if key in existing:
                out[i] = ActionResult(key, "exists", external_id=existing[key])
            elif key in first:
                continue  # the same key twice in one call: decided by the first
            else:
                first[key] = i
                todo.append((i, action, self._task_fields(action, target)))
        for chunk in _chunks(todo):
            records = [
                {"attributes": {"type": "Task"}, TASK_KEY_FIELD: a.idempotency_key, **fields}
                for _, a, fields in chunk
            ]
            answers = self._collection(
                "PATCH", f"composite/sobjects/Task/{TASK_KEY_FIELD}", records, len(chunk)
            )
            for (i, action, _), answer in zip(chunk, answers, strict=True):
                status: ActionStatus = "created" if answer.get("created") else "exists"
                out[i] = _result(action, answer, status)
        for i, action, _ in wanted:
            if i not in out:  # a repeated key: the first's outcome, but nothing new was made
                done = out[first[action.idempotency_key]]
                out[i] = ActionResult(
                    done.idempotency_key,
                    "exists" if done.ok else "failed",
                    external_id=done.external_id,
                    error=done.error,
                    retriable=done.retriable,
                )
        return out

    def _existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(keys):
            literals = ", ".join(soql_literal(k) for k in chunk)
            soql = f"SELECT Id, {TASK_KEY_FIELD} FROM Task WHERE {TASK_KEY_FIELD} IN ({literals})"
            for row in self.client.query_all(soql, include_deleted=True):
                found[str(row[TASK_KEY_FIELD])] = str(row["Id"])
        return found

    def _task_fields(self, action: Action, target: Target) -> dict[str, Any]:
        link = {"WhoId": target.id} if target.sobject in ("Contact", "Lead") else {}
        link = link or {"WhatId": target.id}
        if isinstance(action, NoteAction):
            lines = [line.strip() for line in action.body.splitlines() if line.strip()]
            return {
                "Subject": _subject(lines[0] if lines else NOTE_SUBJECT),
                "Description": action.body,
                "Status": "Completed",
                "Priority": "Normal",
                "ActivityDate": self.clock().date().isoformat(),
                **link,
            }
        assert isinstance(action, TaskAction)
        fields: dict[str, Any] = {
            # The SOP's own subject, as HubSpot shows it: the body carries the AI label and
            # the run link (the SOP's template), and our key marks the Task as ours.
            "Subject": (action.subject or NOTE_SUBJECT)[:SUBJECT_MAX],
            "Description": action.body,
            "Status": "Not Started",
            "Priority": PRIORITIES.get(action.priority.upper(), "Normal"),
            "ActivityDate": action.due_date.isoformat(),
            **link,
        }
        owner = action.owner_id or target.owner_id
        if owner:
            fields["OwnerId"] = owner
        return fields

    # -- property updates ------------------------------------------------------------------

    def _updates(self, wanted: list[tuple[int, Action, Target]]) -> dict[int, ActionResult]:
        out: dict[int, ActionResult] = {}
        todo: list[tuple[int, Action, dict[str, Any]]] = []
        for i, action, target in wanted:
            assert isinstance(action, PropertyUpdate)
            try:
                fields = fields_from_neutral(target.sobject, action.properties, self.mapping)
            except (KeyError, ValueError, PermanentCRMError) as exc:
                out[i] = _failed(action, f"cannot map properties for {target.sobject}: {exc}")
                continue
            record = {"attributes": {"type": target.sobject}, "Id": target.id, **fields}
            todo.append((i, action, record))
        for chunk in _chunks(todo):
            answers = self._collection(
                "PATCH", "composite/sobjects", [r for _, _, r in chunk], len(chunk)
            )
            for (i, action, _), answer in zip(chunk, answers, strict=True):
                out[i] = _result(action, answer, "updated")
        return out

    def _collection(
        self, method: str, path: str, records: list[dict[str, Any]], count: int
    ) -> list[dict[str, Any]]:
        """The per-record answers of one collections call; a refused call (a 4xx for the
        whole chunk) becomes that refusal for every record, so each action still gets one."""
        try:
            answers = self.client.request(
                method, path, body={"allOrNone": False, "records": records}
            )
        except SessionExpired:
            raise
        except PermanentCRMError as exc:
            error = {"statusCode": "REQUEST_REFUSED", "message": str(exc)}
            return [{"success": False, "errors": [error]} for _ in range(count)]
        if not isinstance(answers, list) or len(answers) != count:
            raise PermanentCRMError(
                f"Salesforce answered {path} with {type(answers).__name__}, not {count} results"
            )
        return answers


def _subject(text: str) -> str:
    text = text if text.startswith(AI_PREFIX) else AI_PREFIX + text
    return text[:SUBJECT_MAX]


def _id15(value: str) -> str:
    # An 18-character Id is the 15-character one plus a case checksum; both name one record.
    return str(value)[:15]


def _result(action: Action, answer: Mapping[str, Any], status: ActionStatus) -> ActionResult:
    if answer.get("success"):
        return ActionResult(action.idempotency_key, status, external_id=str(answer.get("id")))
    errors = answer.get("errors") or [{}]
    code = str(errors[0].get("statusCode") or "")
    message = str(errors[0].get("message") or "no message")
    if code in NOT_FOUND_CODES:
        return _failed(action, f"record not found ({code}: {message})")
    return _failed(action, f"{code or 'ERROR'}: {message}", retriable=code in RETRIABLE_CODES)
