"""Verify a candidate result, or try an SOP version on a record, without writing anything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from connectors.base import RecordRef
from salesops.models import Run, Sop, SopVersion
from salesops.services.plugins import connector_get
from salesops.services.records import record_document_fetch
from salesops.services.runs import run_create, run_execute
from salesops.services.sops import sop_spec_get
from salesops.verify import verify_result
from salesops.verify.report import VerificationReport


@dataclass
class CandidateCheck:
    """The verifier's verdict on a candidate result, and whether it would be written."""

    report: VerificationReport
    record: dict[str, Any]

    @property
    def would_write(self) -> bool:
        return self.report.writable


def result_verify(
    *, sop: Sop, record_id: str, result: Any, version: SopVersion | None = None
) -> CandidateCheck:
    """Run every check of the SOP (published version unless given) on `result` for a record.

    Raises RecordNotFound when the record does not exist.
    """
    version = version or sop.published_version
    if version is None:
        raise ValueError(f"SOP {sop.name!r} has no published version")
    spec = sop_spec_get(version)
    now = timezone.now()
    record = record_document_fetch(
        connector=connector_get(), ref=RecordRef(sop.object_type, record_id), spec=spec, now=now
    )
    return CandidateCheck(report=verify_result(spec, result, record, now=now), record=record)


def sop_version_try(*, version: SopVersion, record_id: str, user: Any = None) -> Run:
    """Run `version` (draft or published) in shadow on one record, here and now: full run and
    checks, nothing written. Raises RecordNotFound / ValueError for a bad record."""
    sop = version.sop
    ref = RecordRef(sop.object_type, record_id)
    if not connector_get().get_many(ref.object_type, [ref.id]):
        raise ValueError(f"no {ref.object_type} with id {record_id!r} in the CRM")
    run, _ = run_create(
        sop=sop,
        ref=ref,
        trigger=Run.Trigger.MANUAL,
        event_key=f"try:{uuid.uuid4().hex}",
        version=version,
        shadow=True,
        user=user,
        enqueue=False,
    )
    return run_execute(run_id=run.pk)


def sop_version_compare(*, version: SopVersion, record_id: str, user: Any = None) -> dict[str, Run]:
    """Try a version and the published one on the same record, for a side-by-side view."""
    tried = {"draft": sop_version_try(version=version, record_id=record_id, user=user)}
    published = version.sop.published_version
    if published is not None and published.pk != version.pk:
        tried["published"] = sop_version_try(version=published, record_id=record_id, user=user)
    return tried
