"""Eval cases as files beside the SOP library: `<library>/evals/<sop-name>/<case-name>.json`.

The SOP folder is the durable asset: `export_sops` writes the cases there and `load_sops`
reads them back (a case is matched by SOP and name; a changed file updates it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from salesops.models import EvalCase, Sop, Verdict

FOLDER = "evals"
FIELDS = ("description", "expected_verdict", "expected_fields", "record")


def eval_case_document(case: EvalCase) -> dict[str, Any]:
    """The JSON document of a case, as written to its file."""
    return {
        "name": case.name,
        "description": case.description,
        "expected_verdict": case.expected_verdict,
        "expected_fields": case.expected_fields or {},
        "as_of": case.as_of.isoformat(),
        "record": case.record,
    }


def eval_cases_export(*, directory: Path, names: list[str] | None = None) -> list[Path]:
    """Write every case of the SOPs `names` (default: all) under `<directory>/evals/`."""
    cases = EvalCase.objects.select_related("sop").order_by("sop__name", "name")
    if names:
        cases = cases.filter(sop__name__in=names)
    written = []
    for case in cases:
        folder = directory / FOLDER / case.sop.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{case.name}.json"
        path.write_text(json.dumps(eval_case_document(case), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


@dataclass
class EvalCasesLoadReport:
    """What `eval_cases_load` did: cases created, updated, unchanged, and files it refused."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


def _parse(path: Path) -> dict[str, Any]:
    """The case fields of one file; raises ValueError with the problem."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("a case file holds one JSON object")
    verdict = data.get("expected_verdict")
    if verdict not in Verdict.values:
        raise ValueError(f"expected_verdict {verdict!r} is not one of {', '.join(Verdict.values)}")
    if not isinstance(data.get("record"), dict):
        raise ValueError("record must be an object (the record document a run reads)")
    if not isinstance(data.get("expected_fields", {}), dict):
        raise ValueError("expected_fields must be an object")
    as_of = parse_datetime(str(data.get("as_of", "")))
    if as_of is None or as_of.tzinfo is None:
        raise ValueError("as_of must be an ISO date-time with a time zone")
    name = str(data.get("name") or path.stem)
    if slugify(name) != name:
        raise ValueError(f"name {name!r} must be a slug (letters, digits, - and _)")
    return {
        "name": name,
        "description": str(data.get("description", "")),
        "expected_verdict": verdict,
        "expected_fields": data.get("expected_fields") or {},
        "as_of": as_of,
        "record": data["record"],
    }


def _same(case: EvalCase, fields: dict[str, Any]) -> bool:
    return case.as_of == fields["as_of"] and all(
        getattr(case, name) == fields[name] for name in FIELDS
    )


@transaction.atomic
def eval_cases_load(*, root: Path) -> EvalCasesLoadReport:
    """Create or update the cases in `<root>/evals/<sop>/*.json`; cases only in the database
    stay (a reviewer may have made them since the last export). A bad file is reported, not
    loaded, and does not stop the others."""
    report = EvalCasesLoadReport()
    sops = {sop.name: sop for sop in Sop.objects.all()}
    for path in sorted((root / FOLDER).glob("*/*.json")):
        label = f"{path.parent.name}/{path.name}"
        sop = sops.get(path.parent.name)
        if sop is None:
            report.issues.append(f"{FOLDER}/{label}: no SOP named {path.parent.name!r}")
            continue
        try:
            fields = _parse(path)
        except ValueError as exc:
            report.issues.append(f"{FOLDER}/{label}: {exc}")
            continue
        name = fields.pop("name")
        case = EvalCase.objects.filter(sop=sop, name=name).first()
        if case is None:
            EvalCase.objects.create(sop=sop, name=name, source=EvalCase.Source.LIBRARY, **fields)
            report.created.append(f"{sop.name}/{name}")
        elif _same(case, fields):
            report.unchanged.append(f"{sop.name}/{name}")
        else:
            for key, value in fields.items():
                setattr(case, key, value)
            case.save()
            report.updated.append(f"{sop.name}/{name}")
    return report
