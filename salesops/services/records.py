"""Fetch a CRM record and its context, and build the record document a run works on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import CrmConnector, CrmRecord, RecordNotFound, RecordRef
from connectors.record_model import RELATIONS
from salesops.models import Connection, CrmRecordMirror
from salesops.services.connections import connection_connector
from salesops.skills.context import record_document_build
from salesops.specs.model import SopSpec

ACTIVITY_LIMIT = 50


def record_document_fetch(
    *,
    connection: Connection,
    ref: RecordRef,
    spec: SopSpec,
    now: datetime,
    connector: CrmConnector | None = None,
) -> dict[str, Any]:
    """Re-fetch the record (events are at-least-once and unordered) and the context it needs.

    Raises RecordNotFound when the record is gone.
    """
    connector = connector or connection_connector(connection)
    found = connector.get_many(ref.object_type, [ref.id])
    if not found:
        raise RecordNotFound(f"{ref.object_type} {ref.id} no longer exists in the CRM")
    record = found[0]
    related: dict[str, list[CrmRecord]] = {}
    relations = RELATIONS.get(ref.object_type, {})
    for name in spec.context:
        if name not in relations:
            continue
        target, _many = relations[name]
        ids = record.associations.get(name, [])
        related[name] = connector.get_many(target, ids) if ids else []
    activities = (
        connector.activities(ref, limit=ACTIVITY_LIMIT)
        if "recent_activities" in spec.context
        else []
    )
    document = record_document_build(record, related=related, activities=activities, now=now)
    if ref.object_type == "contact":
        document["duplicate_email_count"] = _duplicates(connection, ref.id, document)
    return document


def _duplicates(connection: Connection, record_id: str, document: dict[str, Any]) -> int | None:
    """Other mirrored contacts with this email; a CRM-wide fact no single record carries."""
    email = (document.get("email") or "").strip()
    if not email:
        return None
    return (
        CrmRecordMirror.objects.filter(
            connection=connection,
            object_type="contact",
            properties__email__iexact=email,
            deleted_at__isnull=True,
        )
        .exclude(record_id=record_id)
        .count()
    )
