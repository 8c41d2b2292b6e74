"""Write-back: notes and tasks (exactly once, by `salesops_key`) and property updates.

Per `apply` call, in as few calls as the actions allow:

1. one batch read per object type of the records acted on: a missing record fails its
   actions for good, and a task's owner defaults to the record's owner;
2. notes, then tasks: a batch read by `idProperty=salesops_key` (strongly consistent, unlike
   search) finds keys applied before (`exists`); the others go through batch *upsert* on
   `salesops_key`, so a retry racing a lost answer still makes one record; then one
   associations v4 batch create per record type links them (HUBSPOT_DEFINED type ids read
   once from the labels API). Associating again is harmless, so a crash between the upsert
   and the link is repaired by the retry;
3. property updates through batch update; a 207 or a refused batch is split per record, so
   each action gets its own outcome.

A 429/5xx/expired session raises for the whole call (the platform retries; keys make the
retry safe); a 4xx of one action is a `failed` result for that action only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from connectors.base import (
    Action,
    ActionResult,
    ActionStatus,
    CRMError,
    NoteAction,
    PermanentCRMError,
    PropertyUpdate,
    RetriableCRMError,
    TaskAction,
)
from connectors.hubspot.properties import (
    NAMES,
    OBJECTS,
    SALESOPS_KEY,
    Owners,
    StageMap,
    ValueMapping,
    properties_to_hubspot,
)

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient
    from connectors.hubspot.reads import Reader

BATCH_MAX = 100
# A task is due on a day; noon UTC keeps that day in every timezone from UTC-11 to UTC+11.
DUE_TIME = time(12, 0, tzinfo=UTC)
RETRIABLE_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT"})


class Writer:
    """Applies actions to one portal; association type ids are cached per object pair."""

    def __init__(
        self,
        client: HubSpotClient,
        reader: Reader,
        stages: StageMap,
        owners: Owners,
        *,
        mapping: ValueMapping,
        clock: Callable[[], datetime],
    ) -> None:
        self.client, self.reader, self.stages, self.owners = client, reader, stages, owners
        self.mapping, self.clock = mapping, clock
        self._type_ids: dict[tuple[str, str], int] = {}

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """One result per action, in order (see the module docstring)."""
        results: dict[int, ActionResult] = {}
        records = self._records(actions)
        live: list[tuple[int, Action]] = []
        for i, action in enumerate(actions):
            ref = action.record
            if ref.object_type not in OBJECTS or ref.id not in records.get(ref.object_type, {}):
                results[i] = _failed(action, f"{ref} does not exist")
            else:
                live.append((i, action))
        for kind in ("notes", "tasks"):
            wanted: list[tuple[int, Action]] = [
                (i, a)
                for i, a in live
                if isinstance(a, NoteAction if kind == "notes" else TaskAction)
            ]
            if wanted:
                results.update(self._engagements(kind, wanted, records))
        updates: list[tuple[int, Action]] = [
            (i, a) for i, a in live if isinstance(a, PropertyUpdate)
        ]
        if updates:
            results.update(self._updates(updates, records))
        return [results[i] for i in range(len(actions))]

    def _records(self, actions: Sequence[Action]) -> dict[str, dict[str, dict]]:
        by_type: dict[str, list[str]] = {}
        for action in actions:
            by_type.setdefault(action.record.object_type, []).append(action.record.id)
        props = ["hubspot_owner_id", "pipeline"]
        return {
            ot: self.reader.raw_many(ot, ids, props) for ot, ids in by_type.items() if ot in OBJECTS
        }

    # -- notes and tasks -------------------------------------------------------------------

    def _engagements(
        self, kind: str, wanted: list[tuple[int, Action]], records: dict[str, dict[str, dict]]
    ) -> dict[int, ActionResult]:
        out: dict[int, ActionResult] = {}
        first: dict[str, tuple[int, Action]] = {}
        for i, action in wanted:
            if action.idempotency_key in first:
                continue  # the same key twice in one call: decided after the first
            try:
                self._engagement_properties(kind, action, records)
            except PermanentCRMError as exc:
                out[i] = _failed(action, str(exc))
                continue
            first[action.idempotency_key] = (i, action)
        try:
            done = self._by_key(kind, list(first))  # key -> id, applied before
        except RetriableCRMError:
            raise
        except PermanentCRMError as exc:  # e.g. salesops_key missing: not provisioned
            for i, action in first.values():
                out[i] = _failed(action, f"cannot look up {kind} by {SALESOPS_KEY}: {exc}")
            done = {}
        todo = [(i, a) for k, (i, a) in first.items() if k not in done and i not in out]
        for k in done:
            i, action = first[k]
            out[i] = ActionResult(k, "exists", external_id=done[k])
        # Applied before: linked again, in case a crash came between the upsert and the link.
        self._associate(kind, [first[k][1] for k in done], done)
        for start in range(0, len(todo), BATCH_MAX):
            out.update(self._upsert(kind, todo[start : start + BATCH_MAX], records, done))
        for i, action in wanted:
            if i not in out:  # a repeated key in this call
                earlier = out[first[action.idempotency_key][0]]
                status: ActionStatus = "exists" if earlier.ok else "failed"
                out[i] = ActionResult(
                    action.idempotency_key,
                    status,
                    earlier.external_id,
                    earlier.error,
                    earlier.retriable,
                    earlier.retry_after,
                )
        return out

    def _engagement_properties(
        self, kind: str, action: Action, records: dict[str, dict[str, dict]]
    ) -> dict[str, str]:
        props = {SALESOPS_KEY: action.idempotency_key}
        if isinstance(action, NoteAction):
            # The body salesops renders already says it is the AI's and links the run.
            props.update(hs_note_body=action.body, hs_timestamp=_iso(self.clock()))
            return props
        assert isinstance(action, TaskAction)
        record = records[action.record.object_type][action.record.id]
        owner = action.owner_id or record.get("hubspot_owner_id") or ""
        if action.owner_id and str(action.owner_id) not in self.owners.ids():
            raise PermanentCRMError(f"task on {action.record}: unknown owner {action.owner_id!r}")
        props.update(
            hs_task_subject=action.subject,
            hs_task_body=action.body,
            hs_task_status="NOT_STARTED",
            hs_task_priority=action.priority.upper(),
            hs_task_type="TODO",
            hs_timestamp=_iso(datetime.combine(action.due_date, DUE_TIME)),
        )
        if owner:
            props["hubspot_owner_id"] = str(owner)
        return props

    def _by_key(self, kind: str, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), BATCH_MAX):
            body = {
                "idProperty": SALESOPS_KEY,
                "inputs": [{"id": k} for k in keys[start : start + BATCH_MAX]],
                "properties": [SALESOPS_KEY],
            }
            answer = self.client.call("crm.objects.batch_api", "read", kind, body) or {}
            for row in answer.get("results", []):
                key = (row.get("properties") or {}).get(SALESOPS_KEY)
                if key:
                    found[str(key)] = str(row["id"])
        return found

    def _upsert(
        self,
        kind: str,
        todo: list[tuple[int, Action]],
        records: dict[str, dict[str, dict]],
        done: dict[str, str],
    ) -> dict[int, ActionResult]:
        inputs = [
            {
                "idProperty": SALESOPS_KEY,
                "id": a.idempotency_key,
                "properties": self._engagement_properties(kind, a, records),
            }
            for _, a in todo
        ]
        try:
            answer = self.client.call("crm.objects.batch_api", "upsert", kind, {"inputs": inputs})
        except RetriableCRMError:
            raise
        except PermanentCRMError as exc:
            if len(todo) > 1:  # one bad input refused the batch: find it
                out: dict[int, ActionResult] = {}
                for one in todo:
                    out.update(self._upsert(kind, [one], records, done))
                return out
            return {todo[0][0]: _failed(todo[0][1], str(exc))}
        out = {}
        created: list[Action] = []
        for row in (answer or {}).get("results", []):
            key = str((row.get("properties") or {}).get(SALESOPS_KEY) or "")
            match = next(((i, a) for i, a in todo if a.idempotency_key == key), None)
            if match is None:
                continue
            done[key] = str(row["id"])
            new: ActionStatus = "created" if row.get("new", True) else "exists"
            out[match[0]] = ActionResult(key, new, external_id=str(row["id"]))
            created.append(match[1])
        errors = (answer or {}).get("errors") or []
        self._associate(kind, created, done)
        for i, action in todo:
            if i not in out:
                out[i] = _error_result(action, errors)
        return out

    def _associate(self, kind: str, actions: list[Action], ids: dict[str, str]) -> None:
        by_target: dict[str, list[dict[str, Any]]] = {}
        for action in actions:
            target = OBJECTS[action.record.object_type]
            type_id = self._type_id(kind, target)
            by_target.setdefault(target, []).append(
                {
                    "from": {"id": ids[action.idempotency_key]},
                    "to": {"id": action.record.id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
                    ],
                }
            )
        for target, inputs in by_target.items():
            for start in range(0, len(inputs), BATCH_MAX):
                body = {"inputs": inputs[start : start + BATCH_MAX]}
                answer = self.client.call(
                    "crm.associations.v4.batch_api", "create", kind, target, body
                )
                if (answer or {}).get("errors"):
                    message = answer["errors"][0].get("message", "association refused")
                    raise PermanentCRMError(f"HubSpot refused to associate {kind}: {message}")

    def _type_id(self, from_type: str, to_type: str) -> int:
        """The HUBSPOT_DEFINED association type id (unlabelled) for a pair, read once."""
        pair = (from_type, to_type)
        if pair not in self._type_ids:
            answer = (
                self.client.call(
                    "crm.associations.v4.schema.definitions_api", "get_all", from_type, to_type
                )
                or {}
            )
            defined = [
                r for r in answer.get("results", []) if r.get("category") == "HUBSPOT_DEFINED"
            ]
            if not defined:
                raise PermanentCRMError(f"HubSpot has no association from {from_type} to {to_type}")
            plain = [r for r in defined if not r.get("label")]
            self._type_ids[pair] = int((plain or defined)[0]["typeId"])
        return self._type_ids[pair]

    # -- property updates ------------------------------------------------------------------

    def _updates(
        self, updates: list[tuple[int, Action]], records: dict[str, dict[str, dict]]
    ) -> dict[int, ActionResult]:
        out: dict[int, ActionResult] = {}
        ready: dict[str, list[tuple[int, Action, dict[str, str]]]] = {}
        for i, action in updates:
            assert isinstance(action, PropertyUpdate)
            try:
                values = self._update_values(action, records)
            except CRMError as exc:
                out[i] = _failed(action, str(exc))
                continue
            ready.setdefault(action.record.object_type, []).append((i, action, values))
        for object_type, items in ready.items():
            # One batch never names a record twice; later updates go in a later batch.
            while items:
                batch: list[tuple[int, Action, dict]] = []
                rest: list[tuple[int, Action, dict]] = []
                seen: set[str] = set()
                for item in items:
                    rid = item[1].record.id
                    (rest if rid in seen or len(batch) >= BATCH_MAX else batch).append(item)
                    seen.add(rid)
                out.update(self._update_batch(OBJECTS[object_type], batch))
                items = rest
        return out

    def _update_values(self, action: PropertyUpdate, records: dict[str, dict[str, dict]]) -> dict:
        object_type = action.record.object_type
        values = properties_to_hubspot(object_type, action.properties, self.mapping)
        owner = action.properties.get("owner")
        if owner is not None and str(owner) not in self.owners.ids():
            raise PermanentCRMError(f"{object_type}.owner: unknown owner {owner!r}")
        if object_type == "deal" and "stage" in action.properties:
            pipeline = records["deal"][action.record.id].get("pipeline")
            values[NAMES["deal"]["stage"]] = self.stages.to_vendor(
                action.properties["stage"], pipeline
            )
        return values

    def _update_batch(
        self, hs_type: str, batch: list[tuple[int, Action, dict]]
    ) -> dict[int, ActionResult]:
        inputs = [{"id": a.record.id, "properties": v} for _, a, v in batch]
        try:
            answer = self.client.call(
                "crm.objects.batch_api", "update", hs_type, {"inputs": inputs}
            )
        except RetriableCRMError:
            raise
        except PermanentCRMError as exc:
            if len(batch) == 1:
                return {batch[0][0]: _failed(batch[0][1], str(exc))}
            out: dict[int, ActionResult] = {}
            for one in batch:  # a refused batch: each record on its own says which failed
                out.update(self._update_batch(hs_type, [one]))
            return out
        updated = {str(r["id"]) for r in (answer or {}).get("results", [])}
        errors = (answer or {}).get("errors") or []
        return {
            i: ActionResult(a.idempotency_key, "updated", external_id=a.record.id)
            if a.record.id in updated
            else _error_result(a, errors, a.record.id)
            for i, a, _ in batch
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _failed(action: Action, error: str, *, retriable: bool = False) -> ActionResult:
    return ActionResult(action.idempotency_key, "failed", error=error, retriable=retriable)


def _error_result(
    action: Action, errors: list[dict[str, Any]], record_id: str = ""
) -> ActionResult:
    """The 207 error entry naming this action (by key or record id), as a failed result."""
    wanted = {action.idempotency_key, record_id} - {""}
    for error in errors:
        ids = {str(i) for v in (error.get("context") or {}).values() for i in (v or [])}
        if ids & wanted or len(errors) == 1:
            category = str(error.get("category", ""))
            return _failed(
                action,
                f"HubSpot: {error.get('message', 'refused')} ({category})",
                retriable=category in RETRIABLE_CATEGORIES,
            )
    return _failed(action, "HubSpot returned no outcome for this action", retriable=True)
