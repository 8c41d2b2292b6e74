"""Records by name: what a run's record is called, where it sits, and its link in the CRM.

Labels come from the CRM's current state as salesops knows it without calling the CRM: the
local CRM's own tables for a local connection, the record mirror (filled by sync) for the
others. The mirror has no associations, so a contact's or deal's company, and any record the
mirror lacks, come from the record document its latest run saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from django.db.models import Max
from django.urls import NoReverseMatch, reverse

from connectors.local import models as local_crm
from connectors.salesforce.fields import sobject_of
from salesops.models import Connection, CrmRecordMirror, Run
from salesops.services.credentials import CredentialsError, credentials_decrypt

# (connection pk, object type, record id)
RecordKey = tuple[int, str, str]

HUBSPOT_TYPE_IDS = {"contact": "0-1", "company": "0-2", "deal": "0-3"}
SALESFORCE_DEFAULT_SOBJECTS = {"company": "Account", "deal": "Opportunity"}
# The run document's fields a label can fall back on, read with JSON key lookups.
DOCUMENT_FIELDS = ("name", "first_name", "last_name", "amount", "currency", "stage")
LOCAL_MODELS: dict[str, Any] = {
    "contact": local_crm.Contact,
    "deal": local_crm.Deal,
    "company": local_crm.Company,
}


@dataclass(frozen=True)
class RecordLabel:
    """A record as a person names it: name, company, a deal's amount and stage, CRM link."""

    name: str
    company: str = ""
    amount: float | None = None
    currency: str = ""
    stage: str = ""
    url: str = ""  # the record in its CRM; "" when salesops cannot build one
    object_type: str = ""
    record_id: str = ""

    @property
    def detail(self) -> str:
        """A deal's amount and stage: "120,000 USD, contractsent" ("" for others)."""
        money = f"{self.amount:,.0f} {self.currency}".strip() if self.amount is not None else ""
        return ", ".join(part for part in (money, self.stage) if part)

    @property
    def text(self) -> str:
        """One line: "Name (Company) - 120,000 USD, contractsent"."""
        line = self.name + (f" ({self.company})" if self.company else "")
        return f"{line} - {self.detail}" if self.detail else line

    def __str__(self) -> str:
        return self.text


def record_labels(runs: Iterable[Run]) -> dict[int, RecordLabel]:
    """Labels of many runs' records by run pk, in at most seven queries whatever their number."""
    runs = list(runs)
    documents = _run_documents([run.pk for run in runs])
    keys = {run.pk: (run.connection_id, run.object_type, run.record_id) for run in runs}
    by_record = {keys[pk]: doc for pk, doc in documents.items() if pk in keys}
    labels = _labels(set(keys.values()), by_record)
    return {pk: labels[key] for pk, key in keys.items()}


def record_label(connection: Connection, object_type: str, record_id: str) -> RecordLabel:
    """The label of one record; its company, when the CRM side lacks it, from its last run."""
    latest = Run.objects.filter(
        connection=connection, object_type=object_type, record_id=record_id
    ).aggregate(pk=Max("pk"))["pk"]
    key = (connection.pk, object_type, record_id)
    documents = _run_documents([latest]) if latest else {}
    by_record = {key: documents[latest]} if latest in documents else {}
    return _labels({key}, by_record, connections={connection.pk: connection})[key]


def _run_documents(run_pks: list[int]) -> dict[int, dict[str, Any]]:
    """The label fields of each run's record document, without loading the whole document."""
    if not run_pks:
        return {}
    fields = [f"input__{name}" for name in DOCUMENT_FIELDS]
    rows = (
        Run.objects.filter(pk__in=run_pks)
        .exclude(input__isnull=True)
        .values("pk", "input__company__name", *fields)
    )
    return {
        row["pk"]: {
            **{name: row[f"input__{name}"] for name in DOCUMENT_FIELDS},
            "company": row["input__company__name"],
        }
        for row in rows
    }


def _labels(
    keys: set[RecordKey],
    documents: dict[RecordKey, dict[str, Any]],
    connections: dict[int, Connection] | None = None,
) -> dict[RecordKey, RecordLabel]:
    if connections is None:
        connections = Connection.objects.in_bulk({key[0] for key in keys})
    local = {k for k in keys if _kind(connections, k) == Connection.Kind.LOCAL}
    found = {**_local_properties(local, connections), **_mirror_properties(keys - local)}
    # Decrypted once per connection, not once per record.
    instances = {
        pk: salesforce_instance(c)
        for pk, c in connections.items()
        if c.kind == Connection.Kind.SALESFORCE
    }
    labels = {}
    for key in keys:
        connection = connections.get(key[0])
        props = _merged(found.get(key), documents.get(key))
        url = _crm_url(connection, key[1], key[2], instances) if connection else ""
        labels[key] = _label(key, props, url)
    return labels


def _kind(connections: dict[int, Connection], key: RecordKey) -> str:
    connection = connections.get(key[0])
    return connection.kind if connection else ""


def _merged(crm: dict[str, Any] | None, document: dict[str, Any] | None) -> dict[str, Any]:
    # The CRM's current values win; the run's document fills what the CRM side lacks.
    merged = dict(document or {})
    merged.update({k: v for k, v in (crm or {}).items() if v not in (None, "")})
    return merged


def _label(key: RecordKey, props: dict[str, Any], url: str) -> RecordLabel:
    _, object_type, record_id = key
    person = " ".join(str(props.get(p) or "").strip() for p in ("first_name", "last_name"))
    name = (props.get("name") if object_type != "contact" else person.strip()) or ""
    amount = props.get("amount")
    try:
        amount = float(amount) if amount not in (None, "") else None
    except (TypeError, ValueError):
        amount = None
    return RecordLabel(
        name=str(name).strip() or f"{object_type}:{record_id}",
        company=str(props.get("company") or "") if object_type != "company" else "",
        amount=amount if object_type == "deal" else None,
        currency=str(props.get("currency") or "") if object_type == "deal" else "",
        stage=str(props.get("stage") or "") if object_type == "deal" else "",
        url=url,
        object_type=object_type,
        record_id=record_id,
    )


def _local_properties(
    keys: set[RecordKey], connections: dict[int, Connection]
) -> dict[RecordKey, dict[str, Any]]:
    """From the local CRM's tables: one query per object type present."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for _, object_type, record_id in keys:
        wanted[object_type].add(record_id)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}  # (account, type, id)
    for object_type, ids in wanted.items():
        model = LOCAL_MODELS.get(object_type)
        if model is None:
            continue
        query = model.objects.filter(pk__in=ids)
        if object_type != "company":
            query = query.select_related("company")
        for row in query:
            rows[(row.account, object_type, row.pk)] = _local_row(object_type, row)
    found = {}
    for key in keys:
        account = connections[key[0]].account_id or local_crm.DEFAULT_ACCOUNT
        if (account, key[1], key[2]) in rows:
            found[key] = rows[(account, key[1], key[2])]
    return found


def _local_row(object_type: str, row: Any) -> dict[str, Any]:
    company = getattr(row, "company", None)
    props: dict[str, Any] = {"company": company.name if company else ""}
    if object_type == "contact":
        props.update(first_name=row.first_name, last_name=row.last_name)
    else:
        props["name"] = row.name
    if object_type == "deal":
        props.update(amount=row.amount, currency=row.currency, stage=row.stage)
    return props


def _mirror_properties(keys: set[RecordKey]) -> dict[RecordKey, dict[str, Any]]:
    """From the record mirror: one query for every connection and type."""
    if not keys:
        return {}
    rows = CrmRecordMirror.objects.filter(
        connection_id__in={k[0] for k in keys},
        object_type__in={k[1] for k in keys},
        record_id__in={k[2] for k in keys},
    ).values_list("connection_id", "object_type", "record_id", "properties")
    found = {}
    for connection_id, object_type, record_id, properties in rows:
        key = (connection_id, object_type, record_id)
        if key in keys:
            found[key] = {n: (properties or {}).get(n) for n in DOCUMENT_FIELDS}
    return found


def _crm_url(
    connection: Connection, object_type: str, record_id: str, instances: dict[int, str]
) -> str:
    """The record's page in its CRM, or "" when salesops cannot tell where that is."""
    if connection.kind == Connection.Kind.LOCAL:
        try:
            return reverse(f"admin:localcrm_{object_type}_change", args=[record_id])
        except NoReverseMatch:
            return ""
    if connection.kind == Connection.Kind.HUBSPOT:
        type_id = HUBSPOT_TYPE_IDS.get(object_type)
        if not (type_id and connection.account_id):
            return ""
        return (
            f"https://app.hubspot.com/contacts/{connection.account_id}/record/{type_id}/{record_id}"
        )
    if connection.kind == Connection.Kind.SALESFORCE:
        base = instances.get(connection.pk, "")
        sobject = sobject_of(record_id) or SALESFORCE_DEFAULT_SOBJECTS.get(object_type)
        return f"{base}/lightning/r/{sobject}/{record_id}/view" if base and sobject else ""
    return ""


def salesforce_instance(connection: Connection) -> str:
    """The org's own URL: the credentials' instance URL, else a My Domain login URL, else ""."""
    try:
        credentials = credentials_decrypt(connection.credentials) if connection.credentials else {}
    except CredentialsError:
        return ""
    instance = str(credentials.get("instance_url") or "").rstrip("/")
    if instance:
        return instance
    # login.salesforce.com and test.salesforce.com serve every org: no record lives there.
    parsed = urlparse(str(credentials.get("login_url") or ""))
    if parsed.scheme == "https" and (parsed.hostname or "").endswith(".my.salesforce.com"):
        return f"https://{parsed.hostname}"
    return ""
