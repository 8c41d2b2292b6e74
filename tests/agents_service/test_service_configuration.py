"""Settings choose the engine and its options; a model name we cannot price stops start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesops.agents import pricing
from salesops.agents.anthropic_engine import AnthropicEngine
from salesops.agents.rules import RulesEngine
from salesops.env import ConfigError
from salesops.services.plugins import engine_get, engine_options
from salesops.settings import _anthropic_model

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({'engine': settings.SALESOPS['ENGINE'], **settings.SALESOPS['ANTHROPIC']}))"
)


def start(**env: str) -> subprocess.CompletedProcess[str]:
    """A fresh process reading settings from `env`, as a deployment would."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SALESOPS_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "salesops.settings"
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_reads_the_anthropic_options_from_the_environment():
    out = start(
        ANTHROPIC_API_KEY="sk-ant-x",
        ANTHROPIC_BASE_URL="http://127.0.0.1:9",
        SALESOPS_MODEL="claude-haiku-4-5",
        SALESOPS_ANTHROPIC_TIMEOUT="20",
        SALESOPS_ANTHROPIC_MAX_RETRIES="5",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "engine": "anthropic",  # an API key switches the default engine
        "API_KEY": "sk-ant-x",
        "BASE_URL": "http://127.0.0.1:9",
        "MODEL": "claude-haiku-4-5",
        "TIMEOUT": 20,
        "MAX_RETRIES": 5,
    }


def test_without_a_key_it_stays_on_the_rules_engine_with_default_options():
    out = start()
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert (shown["engine"], shown["API_KEY"], shown["MODEL"]) == (
        "rules",
        None,
        pricing.DEFAULT_MODEL,
    )
    assert (shown["TIMEOUT"], shown["MAX_RETRIES"]) == (60, 3)


def test_an_unknown_model_stops_start_up_with_the_supported_list():
    out = start(SALESOPS_MODEL="gpt-4o")
    assert out.returncode != 0
    assert "ConfigError" in out.stderr and "SALESOPS_MODEL='gpt-4o'" in out.stderr
    assert "claude-sonnet-4-6" in out.stderr and "claude-haiku-4-5" in out.stderr


@pytest.mark.parametrize(
    "model",
    ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-sonnet-5", "claude-haiku-4-5"],
)
def test_snapshots_and_newer_models_of_a_known_family_are_accepted(monkeypatch, model):
    monkeypatch.setenv("SALESOPS_MODEL", model)
    assert _anthropic_model() == model


@pytest.mark.parametrize("model", ["gpt-4o", "sonnet", "claude-instant-1", "claude-sonet-4-6"])
def test_garbage_model_names_are_refused(monkeypatch, model):
    monkeypatch.setenv("SALESOPS_MODEL", model)
    with pytest.raises(ConfigError, match="claude-sonnet-4-6"):
        _anthropic_model()


def test_the_engine_is_built_with_the_configured_options(settings):
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENGINE": "anthropic",
        "ANTHROPIC": {
            "API_KEY": "sk-ant-y",
            "BASE_URL": "http://127.0.0.1:9",
            "MODEL": "claude-opus-4-6",
            "TIMEOUT": 7,
            "MAX_RETRIES": 1,
        },
    }
    engine = engine_get()
    assert isinstance(engine, AnthropicEngine)
    assert (engine.model, engine.timeout, engine.max_retries) == ("claude-opus-4-6", 7, 1)
    client = engine.client()
    assert str(client.base_url).startswith("http://127.0.0.1:9")
    assert (client.max_retries, client.timeout, client.api_key) == (1, 7, "sk-ant-y")
    assert engine_get() is engine  # one engine (and connection pool) per process


def test_the_rules_engine_takes_no_options(settings):
    settings.SALESOPS = {**settings.SALESOPS, "ENGINE": "rules"}
    assert engine_options("rules") == {}
    assert isinstance(engine_get(), RulesEngine)
