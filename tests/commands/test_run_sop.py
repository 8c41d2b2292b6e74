"""run_sop: run one SOP by hand on records or a selection, shadow with --dry-run."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from connectors.local import models as crm
from salesops.models import Run

pytestmark = pytest.mark.django_db


def test_it_runs_on_named_records_and_prints_each_outcome(library, sample_crm, capsys):
    call_command(
        "run_sop", "lead-qualification", "--record", "c-001", "--record", "c-009", "--sync"
    )
    out = capsys.readouterr().out
    assert "contact:c-001" in out and "written" in out
    assert "contact:c-009" in out and "escalated" in out
    assert Run.objects.filter(trigger="manual").count() == 2


def test_dry_run_writes_nothing(library, sample_crm, capsys):
    notes = crm.Note.objects.count()
    call_command("run_sop", "deal-review", "--record", "d-001", "--sync", "--dry-run")
    run = Run.objects.get()
    assert run.shadow and run.state == "verified"
    assert crm.Note.objects.count() == notes


def test_where_selects_records_from_the_mirror(library, sample_crm):
    call_command(
        "run_sop", "deal-review", "--where", "record.stage == 'contractsent'", "--sync", "--dry-run"
    )
    stages = set(
        crm.Deal.objects.filter(id__in=Run.objects.values("record_id")).values_list(
            "stage", flat=True
        )
    )
    assert stages == {"contractsent"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lead-qualification"], "exactly one of"),
        (["lead-qualification", "--all", "--record", "c-001"], "exactly one of"),
        (["nope", "--all"], "no SOP named 'nope'"),
        (["lead-qualification", "--record", "c-999"], "no contact with id c-999"),
        (["lead-qualification", "--where", "record.emploees > 3"], "emploees"),
    ],
)
def test_bad_input_is_a_clear_error_and_starts_nothing(library, sample_crm, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_sop", *args, "--sync")
    assert not Run.objects.exists()
