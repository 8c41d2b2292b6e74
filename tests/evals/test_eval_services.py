"""Evals run the engine on record snapshots, through the pipeline's scope and checks."""

from __future__ import annotations

import copy

import pytest

from salesops.models import Escalation, EvalCase, EvalResult, Run, Verdict
from salesops.services.escalations import escalation_approve, escalation_reject
from salesops.services.evals import (
    EvalCaseError,
    decision_fields,
    eval_case_from_escalation,
    evals_compare,
    evals_run,
)
from salesops.services.sops import sop_spec_get, sop_version_create

pytestmark = pytest.mark.django_db


def test_a_clean_case_passes_with_the_rules_engine(written_case: EvalCase):
    eval_run = evals_run(written_case.sop.published_version)
    assert (eval_run.engine, eval_run.total, eval_run.passed) == ("rules", 1, 1)
    result = eval_run.results.get()
    assert result.verdict == Verdict.WRITTEN and result.differences == []
    assert result.output["tier"] == written_case.expected_fields["tier"]


def test_a_wrong_expectation_fails_and_says_what_differed(written_case: EvalCase):
    tier = written_case.expected_fields["tier"]
    other = "C" if tier != "C" else "B"
    written_case.expected_verdict = Verdict.ESCALATED
    written_case.expected_fields = {"tier": other, "no.such": 1}
    written_case.save()
    eval_run = evals_run(written_case.sop.published_version)
    assert (eval_run.total, eval_run.passed, eval_run.failed) == (1, 0, 1)
    assert eval_run.results.get().differences == [
        "verdict: expected escalated, got written",
        f"tier: expected {other!r}, got {tier!r}",
        "no.such: expected 1, missing from the result",
    ]


def test_the_case_runs_on_its_snapshot_not_on_the_crm(written_case: EvalCase):
    from connectors.local import models as crm

    crm.Contact.objects.filter(id=written_case.record["id"]).delete()  # a live run would fail
    assert evals_run(written_case.sop.published_version).passed == 1
    assert not Run.objects.filter(shadow=True).exists()  # and no run row shows up anywhere


def test_a_snapshot_out_of_scope_is_skipped_and_counts_as_not_written(written_case: EvalCase):
    text = written_case.sop.published_version.text.replace(
        "object: contact\n", "object: contact\napplies_when: \"record.lifecycle_stage == 'lead'\"\n"
    )
    version, _ = sop_version_create(sop_name=written_case.sop.name, text=text)
    assert sop_spec_get(version).applies_when is not None
    record = copy.deepcopy(written_case.record)
    record["lifecycle_stage"] = "customer"
    EvalCase.objects.create(
        sop=written_case.sop,
        name="customer",
        record=record,
        as_of=written_case.as_of,
        expected_verdict=Verdict.NOT_WRITTEN,
    )
    eval_run = evals_run(version)
    result = eval_run.results.get(case_name="customer")
    assert result.passed and result.verdict == Verdict.SKIPPED
    assert "applies_when" in result.reason
    assert eval_run.passed == 2  # the lead itself is still in scope and written


def test_an_unknown_engine_is_refused_before_anything_is_stored(written_case: EvalCase):
    with pytest.raises(ValueError, match="unknown engine"):
        evals_run(written_case.sop.published_version, "nope")
    assert not EvalResult.objects.exists()


def test_an_approved_escalation_becomes_a_written_case_with_its_decision_fields(
    escalation: Escalation, manager
):
    escalation_approve(
        escalation=escalation,
        user=manager,
        overrides={c["id"]: "fine" for c in escalation.checks if c["status"] != "escalate"},
    )
    case = eval_case_from_escalation(escalation, manager)
    run = escalation.run
    assert (case.sop, case.record, case.as_of) == (run.sop, run.input, run.started_at)
    assert case.expected_verdict == Verdict.WRITTEN
    assert case.expected_fields == decision_fields(sop_spec_get(run.sop_version), run.output)
    assert case.expected_fields["tier"] == run.output["tier"]
    assert "score" not in case.expected_fields and "summary" not in case.expected_fields
    assert case.source == EvalCase.Source.ESCALATION and case.created_by == manager
    with pytest.raises(EvalCaseError, match="already case"):
        eval_case_from_escalation(escalation, manager)


def test_an_edited_escalation_expects_the_edited_fields(escalation: Escalation, manager):
    edited = copy.deepcopy(escalation.run.output)
    edited["tier"] = "C" if edited["tier"] != "C" else "B"
    Escalation.objects.filter(pk=escalation.pk).update(
        status=Escalation.Status.APPROVED, edited_output=edited, decided_by=manager
    )
    escalation.refresh_from_db()
    case = eval_case_from_escalation(escalation, manager)
    assert case.expected_fields["tier"] == edited["tier"]
    assert "edited and approved" in case.description


def test_a_rejected_escalation_expects_nothing_written(escalation: Escalation, manager):
    escalation_reject(escalation=escalation, user=manager, reason="enterprise, not a lead")
    case = eval_case_from_escalation(escalation, manager)
    assert (case.expected_verdict, case.expected_fields) == (Verdict.NOT_WRITTEN, {})
    assert "enterprise, not a lead" in case.description
    # The engine still escalates this record: the case passes.
    assert evals_run(case.sop.published_version).results.get().verdict == Verdict.ESCALATED
    assert evals_run(case.sop.published_version).passed == 1


def test_an_open_escalation_is_not_a_case_yet(escalation: Escalation, manager):
    with pytest.raises(EvalCaseError, match="not decided"):
        eval_case_from_escalation(escalation, manager)


def draft_of(case: EvalCase, *, broken: bool):
    """A draft of the case's SOP; `broken` escalates every record (nothing would be written)."""
    version = case.sop.published_version
    text = version.text + "\n<!-- a draft -->\n"
    if broken:
        text = text.replace(
            "escalate_when:\n",
            'escalate_when:\n  - id: always\n    when: "true"\n    message: Everything.\n',
        )
    draft, created = sop_version_create(sop_name=case.sop.name, text=text)
    assert created and not draft.published
    return draft


def test_compare_shows_a_regressing_draft(written_case: EvalCase):
    comparison = evals_compare(draft_of(written_case, broken=True))
    assert comparison.published is not None
    assert (comparison.draft.passed, comparison.published.passed) == (0, 1)
    assert comparison.regressed
    assert comparison.draft.results.get().reason.startswith("always: ")


def test_compare_reuses_the_published_run_until_a_case_changes(written_case: EvalCase):
    draft = draft_of(written_case, broken=False)
    first = evals_compare(draft)
    second = evals_compare(draft)
    assert not first.regressed
    assert second.published == first.published and second.draft != first.draft
    written_case.description = "changed"
    written_case.save()
    assert evals_compare(draft).published != first.published
