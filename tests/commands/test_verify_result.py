"""verify_result: managers try a candidate result against an SOP and a record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

CASES = sorted((Path(__file__).resolve().parents[2] / "sop_library" / "cases").glob("*.json"))

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(library, sample_crm):
    from salesops.services.schedules import mirror_sync

    mirror_sync()


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_every_shipped_case_gets_its_expected_verdict(loaded, case, capsys):
    expect = json.loads(case.read_text())["expect"]
    if expect == "pass":
        call_command("verify_result", str(case))
        assert "would be written" in capsys.readouterr().out
    else:
        with pytest.raises(CommandError) as raised:
            call_command("verify_result", str(case))
        wanted = "would escalate" if expect == "escalate" else "would NOT be written"
        assert str(raised.value) == wanted
        out = capsys.readouterr().out
        assert ("ESCALATE" if expect == "escalate" else "FAIL") in out


def test_it_prints_each_check_with_its_outcome(loaded, capsys):
    good = next(c for c in CASES if c.stem == "lead-qualification-good-c-001-tier-a")
    call_command("verify_result", str(good))
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("PASS") and "schema" in line for line in lines)
    assert any("grounding:rationale" in line for line in lines)


def test_a_made_up_fact_fails_grounding(loaded, tmp_path, capsys):
    case = json.loads(
        next(c for c in CASES if c.stem == "lead-qualification-good-c-001-tier-a").read_text()
    )
    case["result"]["rationale"][0]["value"] = "a fact the record does not hold"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case))
    with pytest.raises(CommandError, match="would NOT be written"):
        call_command("verify_result", str(path))
    assert "FAIL     grounding" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", [], "not valid JSON"),
        ('{"score": 1}', [], "give --sop and --record"),
        ('{"score": 1}', ["--sop", "nope", "--record", "c-001"], "no SOP named 'nope'"),
        ('{"score": 1}', ["--sop", "lead-qualification", "--record", "c-999"], "c-999"),
    ],
)
def test_bad_input_is_a_clear_command_error(loaded, tmp_path, content, args, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("verify_result", str(path), *args)


def test_a_missing_file_is_a_clear_error(loaded, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_result", str(tmp_path / "none.json"))
