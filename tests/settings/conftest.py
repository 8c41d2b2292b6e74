"""Run settings in a fresh interpreter: they are read once, from the environment, at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_ENV = ROOT / "deploy" / "production.env"
# Variables of the developer's or CI's shell that must not leak into a settings probe.
_OWN = ("SALESOPS_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any salesops setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN)}
    env["DJANGO_SETTINGS_MODULE"] = "salesops.settings"
    return {**env, **extra}


def production_env(tmp_path: Path) -> dict[str, str]:
    """deploy/production.env as written, with each `*_FILE` secret pointed at a sample file."""
    samples = {
        "SALESOPS_SECRET_KEY_FILE": "k3y-" + "x7Qp9Lm2" * 8,
        "DATABASE_URL_FILE": "postgres://salesops@db.internal:5432/salesops",
        "SALESOPS_ENCRYPTION_KEYS_FILE": "uAq2Xh0u3mB6yWf0G1c8dY7pQ9rS5tV4wZ2xE3nK1jM=",
    }
    values: dict[str, str] = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if name.endswith("_FILE"):
            secret = tmp_path / name.lower()
            secret.write_text(samples[name])
            value = str(secret)
        values[name] = value
    return clean_env(**values)


def settings_probe(env: dict[str, str], *names: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a child process with `env`; stdout is the JSON of `names`."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_of(env: dict[str, str], *names: str) -> dict[str, object]:
    proc = settings_probe(env, *names)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


@pytest.fixture
def prod_env(tmp_path: Path) -> dict[str, str]:
    return production_env(tmp_path)
