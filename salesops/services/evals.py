"""Evals per SOP: make cases (from decided escalations), run them, compare versions, gate
publishing on them. Running one case is services/eval_runs.py; the files, eval_files.py."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from salesops.models import (
    Escalation,
    EvalCase,
    EvalPublishOverride,
    EvalResult,
    EvalRun,
    SopVersion,
    Verdict,
)
from salesops.services.eval_runs import case_evaluate
from salesops.services.plugins import engine_get
from salesops.services.sops import sop_spec_get, sop_version_publish
from salesops.specs.model import SopSpec

DEFAULT_ENGINE = "rules"  # deterministic, free and offline: what a suite runs unless told


class EvalCaseError(ValueError):
    """An escalation that cannot become a case (undecided, no snapshot, already a case)."""


def decision_fields(spec: SopSpec, output: Any) -> dict[str, Any]:
    """The result's decision fields: top-level enums and booleans of the output schema (tier,
    disqualification reason, a flag), not prose a model words differently each time."""
    if not isinstance(output, dict):
        return {}
    fields = {}
    for name, schema in (spec.output.get("properties") or {}).items():
        types = schema.get("type") if isinstance(schema, dict) else None
        types = types if isinstance(types, list) else [types]
        decides = isinstance(schema, dict) and ("enum" in schema or "boolean" in types)
        if decides and name in output:
            fields[name] = output[name]
    return fields


def eval_case_from_escalation(escalation: Escalation, user: Any = None) -> EvalCase:
    """Turn a decided escalation into a case of its SOP: the snapshot its run read, and the
    reviewer's verdict (approved: written with the result's decision fields; edited: written
    with the edited ones; rejected: not written). Raises EvalCaseError otherwise."""
    run = escalation.run
    if escalation.status not in (Escalation.Status.APPROVED, Escalation.Status.REJECTED):
        raise EvalCaseError(f"escalation {escalation.pk} is {escalation.status}, not decided")
    if not isinstance(run.input, dict):
        raise EvalCaseError(f"run {run.pk} stored no record snapshot")
    existing = EvalCase.objects.filter(escalation=escalation).first()
    if existing is not None:
        raise EvalCaseError(f"escalation {escalation.pk} is already case {existing}")
    if escalation.status == Escalation.Status.REJECTED:
        verdict, fields = Verdict.NOT_WRITTEN, {}
        how = "rejected"
    else:
        edited = escalation.edited_output is not None
        output = escalation.edited_output if edited else run.output
        verdict = Verdict.WRITTEN
        fields = decision_fields(sop_spec_get(run.sop_version), output)
        how = "edited and approved" if edited else "approved"
    note = f": {escalation.decision_note}" if escalation.decision_note else ""
    return EvalCase.objects.create(
        sop=run.sop,
        name=slugify(f"esc-{escalation.pk}-{run.record_id}")[:120],
        description=f"Run {run.pk} on {run.object_type} {run.record_id}, {how} by "
        f"{escalation.decided_by or 'a reviewer'}{note}",
        record=run.input,
        as_of=run.started_at or escalation.created_at,
        expected_verdict=verdict,
        expected_fields=fields,
        source=EvalCase.Source.ESCALATION,
        escalation=escalation,
        created_by=user if getattr(user, "pk", None) else None,
    )


def evals_run(sop_version: SopVersion, engine: str | None = None, user: Any = None) -> EvalRun:
    """Run every case of the version's SOP with `engine` (default: rules) and record each
    pass or fail with what differed. Runs even with no case (0/0)."""
    name = engine or DEFAULT_ENGINE
    runner = engine_get(name)  # ValueError for an unknown engine, before anything is stored
    spec = sop_spec_get(sop_version)
    cases = list(EvalCase.objects.filter(sop_id=sop_version.sop_id).order_by("name"))
    eval_run = EvalRun.objects.create(
        sop_version=sop_version,
        engine=name,
        created_by=user if getattr(user, "pk", None) else None,
    )
    results = []
    for case in cases:
        outcome = case_evaluate(case=case, version=sop_version, spec=spec, engine=runner)
        results.append(
            EvalResult(
                eval_run=eval_run,
                case=case,
                case_name=case.name,
                passed=outcome.passed,
                expected_verdict=case.expected_verdict,
                verdict=outcome.verdict,
                reason=outcome.reason,
                differences=outcome.differences,
                output=outcome.output,
                latency_ms=outcome.latency_ms,
                cost_usd=outcome.cost_usd,
            )
        )
    EvalResult.objects.bulk_create(results)
    eval_run.total = len(results)
    eval_run.passed = sum(r.passed for r in results)
    eval_run.cost_usd = sum((r.cost_usd for r in results), Decimal(0))
    eval_run.finished_at = timezone.now()
    eval_run.save(update_fields=["total", "passed", "cost_usd", "finished_at"])
    return eval_run


def evals_latest(sop_version: SopVersion, engine: str) -> EvalRun | None:
    """The version's last eval run with `engine` if it is still current: finished after every
    case of the SOP was last changed, on as many cases as there are now."""
    run = (
        EvalRun.objects.filter(sop_version=sop_version, engine=engine, finished_at__isnull=False)
        .order_by("-finished_at")
        .first()
    )
    if run is None:
        return None
    cases = EvalCase.objects.filter(sop_id=sop_version.sop_id)
    changed = cases.aggregate(last=Max("updated_at"))["last"]
    if run.total != cases.count() or (changed is not None and changed > run.started_at):
        return None
    return run


@dataclass
class EvalComparison:
    """A draft's eval run beside the published version's, on the same cases and engine."""

    draft: EvalRun
    published: EvalRun | None  # None when the SOP has no other published version

    @property
    def regressed(self) -> bool:
        """True when the draft passes fewer cases than the published version."""
        return self.published is not None and self.draft.passed < self.published.passed


def evals_compare(
    draft_version: SopVersion, engine: str | None = None, user: Any = None, *, fresh: bool = True
) -> EvalComparison:
    """Pass rates of `draft_version` against the published version with the same engine.

    `fresh` runs the draft again; the published version's current run is reused when there is
    one (see evals_latest), so comparing twice does not pay a model engine twice for it.
    """
    name = engine or DEFAULT_ENGINE
    draft = None if fresh else evals_latest(draft_version, name)
    draft = draft or evals_run(draft_version, name, user)
    published_version = draft_version.sop.published_version
    published = None
    if published_version is not None and published_version.pk != draft_version.pk:
        published = evals_latest(published_version, name) or evals_run(
            published_version, name, user
        )
    return EvalComparison(draft=draft, published=published)


def evals_publish_check(version: SopVersion) -> EvalComparison | None:
    """Before publishing `version`: its eval figures against the published version's, or None
    when there is nothing to compare (no case, or it is the published version already).

    Uses the engine of the version's latest current eval run (the rules engine if none)."""
    sop = version.sop
    if sop.published_version_id in (None, version.pk) or not sop.eval_cases.exists():
        return None
    last = EvalRun.objects.filter(sop_version=version).order_by("-id").first()
    engine = last.engine if last and evals_latest(version, last.engine) else DEFAULT_ENGINE
    return evals_compare(version, engine, fresh=False)


@transaction.atomic
def evals_publish_override_record(
    comparison: EvalComparison, user: Any = None
) -> EvalPublishOverride:
    """Record that a person published a draft that passes fewer cases: who, when, the figures."""
    draft, published = comparison.draft, comparison.published
    return EvalPublishOverride.objects.create(
        sop_version=draft.sop_version,
        replaced_version=published.sop_version if published else None,
        draft_run=draft,
        published_run=published,
        draft_passed=draft.passed,
        published_passed=published.passed if published else 0,
        total=draft.total,
        confirmed_by=user if getattr(user, "pk", None) else None,
    )


def evals_publish_gated(
    version: SopVersion, *, user: Any = None, confirmed: bool = False
) -> EvalComparison | None:
    """Publish `version` unless it passes fewer eval cases than the published version and
    nobody `confirmed`: then nothing is published and the comparison that held it back is
    returned. A confirmed publish over fewer passing cases is recorded (who, when, figures).
    Every publish path that saves text (the SOP form, the API) goes through here."""
    comparison = evals_publish_check(version)
    if comparison is not None and comparison.regressed:
        if not confirmed:
            return comparison
        evals_publish_override_record(comparison, user)
    sop_version_publish(version=version)
    return None


def evals_held_message(comparison: EvalComparison) -> str:
    """Why a publish was held back, in one sentence a manager can act on."""
    draft, published = comparison.draft, comparison.published
    theirs = f"{published.passed} of {published.total}" if published else "none"
    return (
        f"not published: it passes {draft.passed} of {draft.total} eval cases, the published "
        f"version {theirs}; confirm to publish it anyway"
    )
