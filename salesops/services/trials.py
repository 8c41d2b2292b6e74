"""Verify a candidate result, or try an SOP version on a record, without writing anything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils import timezone

from connectors.base import RecordNotFound, RecordRef
from salesops.agents.base import StepRecord
from salesops.models import Connection, Run, Sop, SopVersion
from salesops.services.connections import connection_connector, connection_default
from salesops.services.records import record_document_fetch
from salesops.services.run_prepare import applies_when_check
from salesops.services.run_verify import judge_get
from salesops.services.runs import run_create, run_execute
from salesops.services.sops import sop_spec_get
from salesops.verify import verify_result
from salesops.verify.report import VerificationReport
from salesops.verify.verifier import Origin

Verdict = Literal["written", "not written", "escalate", "out of scope"]


@dataclass
class CandidateCheck:
    """The verifier's verdict on a candidate result for one record, as a run would reach it."""

    report: VerificationReport
    record: dict[str, Any]
    out_of_scope: str = ""  # why the SOP does not apply to the record ("" when it does)
    judge_steps: list[StepRecord] = field(default_factory=list)  # judge model calls made

    @property
    def would_write(self) -> bool:
        return not self.out_of_scope and self.report.writable

    @property
    def verdict(self) -> Verdict:
        """written, not written (a check failed), escalate (a human must review), out of scope."""
        if self.out_of_scope:
            return "out of scope"
        if self.report.failures:
            return "not written"
        return "escalate" if not self.report.writable else "written"


def result_verify(
    *,
    sop: Sop,
    record_id: str,
    result: Any,
    version: SopVersion | None = None,
    origin: Origin = "model",
    connection: Connection | None = None,
) -> CandidateCheck:
    """Run the SOP's scope and every check (judges too, when a model engine is configured) on
    `result` for a record, as the run pipeline would. Raises ValueError for an unknown record."""
    version = version or sop.published_version
    if version is None:
        raise ValueError(f"SOP {sop.name!r} has no published version")
    spec = sop_spec_get(version)
    now = timezone.now()
    try:
        record = record_document_fetch(
            connection=connection or connection_default(),
            ref=RecordRef(sop.object_type, record_id),
            spec=spec,
            now=now,
        )
    except RecordNotFound:
        raise ValueError(f"no such record: no {sop.object_type} with id {record_id!r}") from None
    scope = applies_when_check(spec, record, now)
    steps: list[StepRecord] = []
    judge = judge_get(spec=spec, record=record, now=now, record_step=steps.append)
    report = verify_result(spec, result, record, now=now, judge=judge, origin=origin)
    return CandidateCheck(
        report=report,
        record=record,
        out_of_scope=f"out of scope: {scope}" if scope else "",
        judge_steps=steps,
    )


def sop_version_try(
    *, version: SopVersion, record_id: str, user: Any = None, connection: Connection | None = None
) -> Run:
    """Run `version` (draft or published) in shadow on one record, here and now: full run and
    checks, nothing written. Raises RecordNotFound / ValueError for a bad record."""
    sop = version.sop
    ref = RecordRef(sop.object_type, record_id)
    connection = connection or connection_default()
    if not connection_connector(connection).get_many(ref.object_type, [ref.id]):
        raise ValueError(f"no {ref.object_type} with id {record_id!r} in the CRM")
    run, _ = run_create(
        sop=sop,
        ref=ref,
        trigger=Run.Trigger.MANUAL,
        event_key=f"try:{uuid.uuid4().hex}",
        version=version,
        shadow=True,
        connection=connection,
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
