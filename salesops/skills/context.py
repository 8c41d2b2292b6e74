"""Build the record document a run sees, and resolve evidence paths inside it. Pure Python.

The document shape is described in `connectors/record_model.py`. Everything in it is plain
JSON (timestamps and dates as ISO strings) so engines, expressions and the verifier all see the
same values, and a cited value can be compared with what the record holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import Activity, CrmRecord
from connectors.record_model import OBJECT_FIELDS, RELATIONS
from salesops.guard.injection import DOCUMENT_KEY, detect


class PathNotFound(KeyError):
    """An evidence or tool path that does not exist in the record document."""

    def __str__(self) -> str:
        # KeyError.__str__ repr()s its argument; the message reads better unquoted.
        return str(self.args[0]) if self.args else "path not found"


def to_utc(value: datetime) -> datetime:
    """Return `value` in UTC; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_timestamp(value: datetime) -> str:
    """Format a datetime the way the record document does: UTC, seconds, `Z` suffix."""
    return to_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_timestamp(value: Any) -> datetime | None:
    """Parse an ISO timestamp or date string (or a datetime/date) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return to_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def parse_date(value: Any) -> date | None:
    """Parse an ISO date (or the date part of a timestamp) into a date."""
    if isinstance(value, datetime):
        return to_utc(value).date()
    if isinstance(value, date):
        return value
    if value is None or value == "":
        return None
    text = str(value)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _json_value(value: Any) -> Any:
    """Convert a property value to its JSON form (datetimes and dates become ISO strings)."""
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _properties_document(record: CrmRecord) -> dict[str, Any]:
    """`id` plus every neutral field of the record's object (None when unknown)."""
    fields = OBJECT_FIELDS.get(record.object_type, {})
    document: dict[str, Any] = {"id": record.id}
    for name in fields:
        document[name] = _json_value(record.properties.get(name))
    return document


def activity_document(activity: Activity) -> dict[str, Any]:
    """One activity as the record document holds it."""
    return {
        "id": activity.id,
        "kind": activity.kind,
        "timestamp": iso_timestamp(activity.timestamp),
        "subject": activity.subject,
        "body": activity.body,
        "direction": activity.direction,
        "outcome": activity.outcome,
        "ai_generated": bool(activity.ai_generated),
    }


def _related_records(
    related: Mapping[str, list[CrmRecord]], relation: str, object_type: str
) -> list[CrmRecord]:
    """Related records under the relation name ("contacts") or the object type ("contact")."""
    found = related.get(relation)
    if found is None:
        found = related.get(object_type, [])
    return list(found)


def record_document_build(
    record: CrmRecord,
    *,
    related: Mapping[str, list[CrmRecord]],
    activities: list[Activity],
    now: datetime,
) -> dict[str, Any]:
    """Build the record document for one run (shape in `connectors/record_model.py`)."""
    now_utc = to_utc(now)
    document = _properties_document(record)
    document["object"] = record.object_type
    for relation, (object_type, many) in RELATIONS.get(record.object_type, {}).items():
        records = _related_records(related, relation, object_type)
        if many:
            document[relation] = [_properties_document(r) for r in records]
        else:
            document[relation] = _properties_document(records[0]) if records else None

    ordered = sorted(activities, key=lambda a: to_utc(a.timestamp), reverse=True)
    document["activities"] = [activity_document(a) for a in ordered]

    # AI-written notes and tasks are our own output, not a sign of life from the deal.
    human = [a for a in ordered if not a.ai_generated]
    if human:
        document["days_since_last_activity"] = (now_utc - to_utc(human[0].timestamp)).days
    else:
        document["days_since_last_activity"] = None

    if record.object_type == "deal":
        close = parse_date(record.properties.get("close_date"))
        document["days_to_close"] = (close - now_utc.date()).days if close else None
    # Mark CRM text that tries to instruct the AI where every engine sees it; the verifier's
    # injection guard runs the same detector on this document.
    document[DOCUMENT_KEY] = [finding.as_dict() for finding in detect(document)]
    return document


def _list_item(items: list[Any], parts: list[str], index: int) -> tuple[Any, int]:
    """Find the list item addressed by id at parts[index]; ids may themselves contain dots."""
    by_id = {str(item.get("id")): item for item in items if isinstance(item, dict)}
    # Longest match first, so an id like "c-9.x" wins over "c-9" when both could apply.
    for end in range(len(parts), index, -1):
        candidate = ".".join(parts[index:end])
        if candidate in by_id:
            return by_id[candidate], end
    raise IndexError(parts[index])


def document_path_get(document: Mapping[str, Any], path: str) -> Any:
    """Resolve a dotted evidence path (`activities.a-104.body`) in a record document.

    Raises PathNotFound (a KeyError) naming the path and the first segment that does not exist.
    """
    if not isinstance(path, str) or not path.strip():
        raise PathNotFound(f"field {path!r} is not a valid path")
    parts = path.strip().split(".")
    current: Any = document
    index = 0
    while index < len(parts):
        part = parts[index]
        where = ".".join(parts[:index]) or "the record"
        if isinstance(current, Mapping):
            if part not in current:
                raise PathNotFound(
                    f"field '{path}' does not exist in the record ({where} has no {part!r})"
                )
            current = current[part]
            index += 1
        elif isinstance(current, list):
            try:
                current, index = _list_item(current, parts, index)
            except IndexError:
                raise PathNotFound(
                    f"field '{path}' does not exist in the record "
                    f"({where} has no item with id {part!r})"
                ) from None
        else:
            raise PathNotFound(
                f"field '{path}' does not exist in the record ({where} is a value, not an object)"
            )
    return current


def document_paths(document: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    """Every leaf path in a document (lists by item id); handy for tools and error hints."""
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from document_paths(value, f"{path}.")
        elif isinstance(value, list) and all(isinstance(i, Mapping) and "id" in i for i in value):
            for item in value:
                yield from document_paths(item, f"{path}.{item['id']}.")
        else:
            yield path
