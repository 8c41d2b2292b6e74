"""Seed the local CRM with many records fast, and compare the mirror with the CRM (tests and
bench/sync_local.py)."""

from __future__ import annotations

from datetime import date, timedelta

from connectors.base import OBJECT_TYPES
from connectors.local import models as crm
from connectors.local.signals import events_suppressed
from salesops.models import Connection, CrmRecordMirror
from salesops.services.connections import connection_connector
from salesops.services.sync import mirror_properties

CHUNK = 2000


def crm_seed(count: int, *, account: str = crm.DEFAULT_ACCOUNT, prefix: str = "s") -> None:
    """`count` records, a third each of companies, contacts and deals, bulk-created with no
    events (as sample data loads); contacts and deals point at a company."""
    third = max(count // 3, 1)
    companies = [f"{prefix}-co-{i:07d}" for i in range(third)]
    with events_suppressed():
        _bulk(
            crm.Company(id=cid, account=account, name=f"Company {i}", employees=i % 500)
            for i, cid in enumerate(companies)
        )
        _bulk(
            crm.Contact(
                id=f"{prefix}-c-{i:07d}",
                account=account,
                company_id=companies[i % third],
                email=f"person{i}@{prefix}.example",
                lead_status="NEW",
            )
            for i in range(third)
        )
        _bulk(
            crm.Deal(
                id=f"{prefix}-d-{i:07d}",
                account=account,
                company_id=companies[i % third],
                name=f"Deal {i}",
                amount=1000.0 + i,
                stage="qualifiedtobuy",
                close_date=date(2030, 1, 1) + timedelta(days=i % 365),
            )
            for i in range(count - 2 * third)
        )


def _bulk(rows: object) -> None:
    batch: list[crm.CrmRecordModel] = []
    for row in rows:  # type: ignore[attr-defined]
        batch.append(row)
        if len(batch) >= CHUNK:
            type(batch[0]).objects.bulk_create(batch)
            batch = []
    if batch:
        type(batch[0]).objects.bulk_create(batch)


def mirror_differences(connection: Connection) -> list[str]:
    """How the connection's live mirror differs from its CRM ([] when equal): missing or
    extra ids, and records whose mirrored properties are not the CRM's."""
    connector = connection_connector(connection)
    account = getattr(connector, "account", crm.DEFAULT_ACCOUNT)
    problems = []
    for object_type in OBJECT_TYPES:
        in_crm = set(
            crm.RECORD_MODELS[object_type]
            .objects.filter(account=account)
            .values_list("pk", flat=True)
        )
        mirror = CrmRecordMirror.objects.filter(connection=connection, object_type=object_type)
        alive = dict(mirror.filter(deleted_at__isnull=True).values_list("record_id", "properties"))
        if in_crm - set(alive):
            problems.append(f"{object_type}: {len(in_crm - set(alive))} missing")
        if set(alive) - in_crm:
            problems.append(f"{object_type}: {len(set(alive) - in_crm)} not in the CRM")
        ids = sorted(in_crm & set(alive))
        for start in range(0, len(ids), 500):
            for record in connector.get_many(object_type, ids[start : start + 500]):
                if alive[record.id] != mirror_properties(record.properties):
                    problems.append(f"{object_type}:{record.id} properties differ")
    return problems
