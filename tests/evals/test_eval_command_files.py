"""eval_sop (table, exit code, JUnit XML) and eval cases exported and loaded with the SOPs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from salesops.models import EvalCase, Verdict

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def failing_copy(case: EvalCase) -> EvalCase:
    return EvalCase.objects.create(
        sop=case.sop,
        name="wrong-tier",
        record=case.record,
        as_of=case.as_of,
        expected_verdict=Verdict.WRITTEN,
        expected_fields={"tier": "not-a-tier"},
    )


def test_eval_sop_prints_a_table_and_passes(written_case: EvalCase, capsys):
    call_command("eval_sop", "lead-qualification")
    out = capsys.readouterr().out
    assert f"lead-qualification v{written_case.sop.published_version.number}, engine rules" in out
    assert written_case.name in out and "1/1 passed" in out


def test_eval_sop_fails_with_exit_code_1_and_writes_junit(written_case, tmp_path, capsys):
    failing_copy(written_case)
    junit = tmp_path / "reports" / "evals.xml"
    with pytest.raises(CommandError, match="1 of 2 case") as raised:
        call_command("eval_sop", "lead-qualification", "--junit", str(junit))
    assert raised.value.returncode == 1
    assert "tier: expected 'not-a-tier'" in capsys.readouterr().out
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {written_case.name, "wrong-tier"}
    assert cases[written_case.name].find("failure") is None
    failure = cases["wrong-tier"].find("failure")
    assert failure is not None and "not-a-tier" in failure.get("message")


def test_eval_sop_refuses_unknown_sop_version_and_engine(written_case):
    with pytest.raises(CommandError, match="unknown SOP"):
        call_command("eval_sop", "nope")
    with pytest.raises(CommandError, match="no version 99"):
        call_command("eval_sop", "lead-qualification", "--version", "99")
    with pytest.raises(CommandError, match="unknown engine"):
        call_command("eval_sop", "lead-qualification", "--engine", "nope")


def test_cases_round_trip_through_export_and_load(written_case: EvalCase, tmp_path):
    failing_copy(written_case)
    out = tmp_path / "lib"
    call_command("export_sops", "--out", str(out))
    files = sorted(p.name for p in (out / "evals" / "lead-qualification").iterdir())
    assert files == [f"{written_case.name}.json", "wrong-tier.json"]
    before = {
        c.name: (c.record, c.as_of, c.expected_verdict, c.expected_fields)
        for c in EvalCase.objects.all()
    }
    EvalCase.objects.all().delete()
    shutil.copytree(ROOT / "sop_library" / "fragments", out / "fragments")
    shutil.copytree(ROOT / "sop_library" / "skills", out / "skills")
    call_command("load_sops", "--path", str(out))
    after = {
        c.name: (c.record, c.as_of, c.expected_verdict, c.expected_fields)
        for c in EvalCase.objects.all()
    }
    assert after == before
    assert set(EvalCase.objects.values_list("source", flat=True)) == {"library"}
    # Loading again changes nothing; an edited file updates its case.
    path = out / "evals" / "lead-qualification" / "wrong-tier.json"
    data = json.loads(path.read_text())
    data["expected_fields"] = {"tier": "B"}
    path.write_text(json.dumps(data))
    call_command("load_sops", "--path", str(out))
    assert EvalCase.objects.get(name="wrong-tier").expected_fields == {"tier": "B"}
    assert EvalCase.objects.count() == 2


def test_a_bad_case_file_is_reported_and_the_others_load(written_case: EvalCase, tmp_path):
    out = tmp_path / "lib"
    call_command("export_sops", "--out", str(out))
    shutil.copytree(ROOT / "sop_library" / "fragments", out / "fragments")
    shutil.copytree(ROOT / "sop_library" / "skills", out / "skills")
    (out / "evals" / "lead-qualification" / "bad.json").write_text('{"expected_verdict": "maybe"}')
    (out / "evals" / "no-such-sop").mkdir()
    (out / "evals" / "no-such-sop" / "x.json").write_text("{}")
    EvalCase.objects.all().delete()
    with pytest.raises(CommandError) as raised:
        call_command("load_sops", "--path", str(out))
    assert "bad.json: expected_verdict 'maybe' is not one of" in str(raised.value)
    assert "no SOP named 'no-such-sop'" in str(raised.value)
    assert list(EvalCase.objects.values_list("name", flat=True)) == [written_case.name]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX exit codes")
def test_manage_py_exits_1_when_a_case_fails(tmp_path):
    """The exit code CI sees, from a real process on a fresh database."""
    env_db = tmp_path / "db.sqlite3"
    lib = tmp_path / "lib"
    shutil.copytree(
        ROOT / "sop_library", lib, ignore=shutil.ignore_patterns("sample_data", "cases")
    )
    case = lib / "evals" / "lead-qualification" / "impossible.json"
    case.parent.mkdir(parents=True)
    case.write_text(
        json.dumps(
            {
                "expected_verdict": "written",
                "expected_fields": {"tier": "Z"},
                "as_of": "2026-01-05T09:00:00+00:00",
                "record": {"id": "c-x", "email": "a@b.example", "lifecycle_stage": "lead"},
            }
        )
    )
    env = {
        "SALESOPS_SQLITE_PATH": str(env_db),
        "SALESOPS_LIBRARY_DIR": str(lib),
        "SALESOPS_ENGINE": "rules",
        "PATH": "/usr/bin:/bin",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    for command in (["migrate", "-v0"], ["load_sops"]):
        subprocess.run(
            [python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    done = subprocess.run(
        [python, "manage.py", "eval_sop", "lead-qualification"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    assert "impossible" in done.stdout and "0/1 passed" in done.stdout
