"""Commands on the rules engine start without importing SDKs or libraries they do not use.

Each check runs in a fresh interpreter (this test process has imported everything already):
Django is set up as `manage.py` does, then each module is imported in turn and the vendor
modules it newly brought into sys.modules are reported, so a failure names the module to blame.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# Vendor SDKs of engines and connectors that are not configured on the rules engine, and the
# heavy libraries only needed once an expression or schema is compiled (each costs 30-1500 ms).
DEFERRED = ["anthropic", "hubspot", "simple_salesforce", "playwright", "cel", "jsonschema"]

COMMANDS = [
    "api_token",
    "connection_check",
    "demo",
    "demo_summary",
    "eval_sop",
    "export_sops",
    "load_sops",
    "rotate_credentials",
    "run_sop",
    "setup_schedules",
    "sync_crm",
    "verify_result",
]
# The schedule service used to reach the Anthropic SDK through the Message Batches module.
SERVICES = [
    "salesops.tasks",
    "salesops.services.schedules",
    "salesops.services.batches",
    "salesops.services.agent_batches",
    "salesops.agents.anthropic_batches",
    "salesops.skills.registry",
    "salesops.verify.verifier",
]

_PROBE = """
import importlib, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
import django
deferred = json.loads(sys.argv[1])

def loaded():
    return {name for name in deferred if name in sys.modules}

django.setup()
report = {"django.setup": sorted(loaded())}
for module in json.loads(sys.argv[2]):
    before = loaded()
    importlib.import_module(module)
    report[module] = sorted(loaded() - before)
print(json.dumps(report))
"""


def _imported_by(modules: list[str]) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY",)}
    env["SALESOPS_ENGINE"] = "rules"
    env.pop("SALESOPS_JUDGE_ENGINE", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(DEFERRED), json.dumps(modules)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_command_modules_import_no_vendor_sdk() -> None:
    modules = [f"salesops.management.commands.{name}" for name in COMMANDS]
    report = _imported_by(modules)

    assert {module: names for module, names in report.items() if names} == {}
    assert set(report) == {"django.setup", *modules}


def test_schedule_and_worker_paths_import_no_vendor_sdk() -> None:
    report = _imported_by(SERVICES)

    assert {module: names for module, names in report.items() if names} == {}


def test_the_probe_sees_an_sdk_a_module_does_import() -> None:
    # The engine module imports the SDK at its top: the probe must report it, or the checks
    # above would pass vacuously.
    report = _imported_by(["salesops.agents.anthropic_engine"])

    assert "anthropic" in report["salesops.agents.anthropic_engine"]


def test_no_command_module_is_missing_from_the_list() -> None:
    present = {
        path.stem
        for path in (ROOT / "salesops" / "management" / "commands").glob("*.py")
        if path.stem != "__init__"
    }

    assert present == set(COMMANDS)
