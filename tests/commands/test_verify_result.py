"""verify_result: managers try candidate results against an SOP and a record, as a run would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "sop_library" / "cases").glob("*.json"))
EXPECTED_EXIT = {"pass": 0, "fail": 1, "escalate": 2}

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(library, sample_crm):
    from tests.helpers import mirror_sync

    mirror_sync()


def verify(*args: str) -> int:
    """Run the command; its exit code (0 when it returns normally)."""
    try:
        call_command("verify_result", *args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def case_file(tmp_path: Path, name: str, **changes) -> Path:
    case = json.loads((ROOT / "sop_library" / "cases" / f"{name}.json").read_text())
    case.update(changes)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(case))
    return path


def test_every_shipped_case_gets_its_expected_verdict(loaded, capsys):
    # One database for all cases (loading the library and the CRM per case costs minutes);
    # every miss is listed, with the command's output for it (`make eval` has the full table).
    wanted = {
        "pass": ["verdict: would be written"],
        "fail": ["verdict: would NOT be written", "verdict: would be skipped"],
        "escalate": ["verdict: would escalate to a human"],
    }
    assert len(CASES) >= 70
    misses = []
    for case in CASES:
        expect = json.loads(case.read_text())["expect"]
        code = verify(str(case))
        out = capsys.readouterr().out
        marks_ok = expect == "pass" or ("ESCALATE" if expect == "escalate" else "FAIL") in out
        if (
            code != EXPECTED_EXIT[expect]
            or not marks_ok
            or not any(v in out for v in wanted[expect])
        ):
            misses.append(f"{case.stem}: expected {expect}, exit {code}\n{out}")
    assert not misses, "\n\n".join(misses)


def test_it_prints_each_check_with_its_outcome(loaded, capsys):
    assert verify(str(ROOT / "sop_library/cases/lead-qualification-good-c-001-tier-a.json")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("PASS") and "schema" in line for line in lines)
    assert any("grounding:rationale" in line for line in lines)


def test_a_made_up_fact_fails_grounding_and_exits_1(loaded, tmp_path, capsys):
    good = json.loads(
        (ROOT / "sop_library/cases/lead-qualification-good-c-001-tier-a.json").read_text()
    )
    good["result"]["rationale"][0]["value"] = "a fact the record does not hold"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(good))
    assert verify(str(path)) == 1
    out = capsys.readouterr().out
    assert "FAIL     grounding" in out and "verdict: would NOT be written" in out


def test_an_out_of_scope_record_is_reported_as_skipped(loaded, tmp_path, capsys):
    # The deal-review SOP applies to open deals only; d-005 is closed won in the sample CRM.
    from connectors.local import models as crm

    closed = crm.Deal.objects.filter(stage__in=["closedwon", "closedlost"]).first()
    path = case_file(
        tmp_path, "deal-review-good-d-001-green", record={"object": "deal", "id": closed.pk}
    )
    assert verify(str(path)) == 1
    out = capsys.readouterr().out
    assert "out of scope: applies_when is false" in out
    assert "verdict: would be skipped" in out


def test_an_unknown_record_is_bad_input_naming_it(loaded, tmp_path):
    path = case_file(
        tmp_path,
        "lead-qualification-good-c-001-tier-a",
        record={"object": "contact", "id": "c-999"},
    )
    with pytest.raises(CommandError, match="no such record: no contact with id 'c-999'") as raised:
        call_command("verify_result", str(path))
    assert raised.value.returncode == 3


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", [], "not valid JSON"),
        ('{"score": 1}', [], "give --sop and --record"),
        ('{"score": 1}', ["--sop", "nope", "--record", "c-001"], "no SOP named 'nope'"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_3(loaded, tmp_path, content, args, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message) as raised:
        call_command("verify_result", str(path), *args)
    assert raised.value.returncode == 3


def test_a_missing_file_is_a_clear_error(loaded, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_result", str(tmp_path / "none.json"))


def test_a_folder_is_checked_in_one_start_with_a_summary_table(loaded, tmp_path, capsys):
    good = case_file(tmp_path, "lead-qualification-good-c-001-tier-a")
    bad = case_file(tmp_path, "lead-qualification-bad-c-003-tier-score-mismatch")
    escalate = case_file(tmp_path, "lead-qualification-escalate-c-009-enterprise")
    # Not written beats escalate: the batch exits 1.
    assert verify(str(tmp_path)) == 1
    out = capsys.readouterr().out
    table = out[out.index("verdict") :]
    assert f"{good.name}" in table and f"{bad.name}" in table and f"{escalate.name}" in table
    assert "1 not written, 1 escalate, 1 written" in out
    bad.unlink()
    assert verify(str(good), str(escalate)) == 2


def test_json_output_carries_each_verdict_and_exit_code(loaded, tmp_path, capsys):
    good = case_file(tmp_path, "lead-qualification-good-c-001-tier-a")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    assert verify(str(good), str(broken), "--json") == 3
    data = json.loads(capsys.readouterr().out)
    by_file = {Path(item["file"]).name: item for item in data}
    assert by_file[good.name]["verdict"] == "written" and by_file[good.name]["exit_code"] == 0
    assert any(
        c["id"] == "schema" and c["status"] == "passed" for c in by_file[good.name]["checks"]
    )
    assert by_file["broken.json"]["verdict"] == "bad input"
    assert "not valid JSON" in by_file["broken.json"]["error"]


def test_an_unavailable_judge_escalates_a_models_result_unless_the_sop_lets_it_skip(
    loaded, tmp_path, capsys
):
    # The shipped judges choose `when_unavailable: skip`; a judge with the default escalates.
    from salesops.services.sops import sop_version_create

    text = (ROOT / "sop_library" / "lead-qualification.md").read_text()
    assert "when_unavailable: skip" in text
    sop_version_create(
        sop_name="lead-qualification",
        text=text.replace("    when_unavailable: skip\n", "", 1),
        publish=True,
    )
    path = case_file(tmp_path, "lead-qualification-good-c-001-tier-a")
    assert verify(str(path)) == 2
    assert "a model's result goes to a human instead" in capsys.readouterr().out
    assert verify(str(path), "--origin", "rules") == 0


def test_the_exit_codes_reach_the_shell(loaded, tmp_path):
    """Through manage.py, as a manager runs it: the process exit status is the verdict."""
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_result", str(tmp_path / "none.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3
    assert "cannot read" in result.stderr
