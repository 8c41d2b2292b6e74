"""The anthropic engine in the service: real SDK, loopback emulator, shipped SOPs, sample CRM."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from salesops.agents import pricing
from salesops.models import Run, Sop
from salesops.services.plugins import plugins_reset
from salesops.services.sops import sop_spec_get, sop_version_create
from salesops.specs.model import SopSpec
from tests.agents_service.scripted import Agent
from tests.emulators.anthropic_api import AnthropicEmulator
from tests.helpers import run_now

MODEL = pricing.DEFAULT_MODEL


@pytest.fixture
def emulator() -> Iterator[AnthropicEmulator]:
    """The Messages API emulator, with each model's real minimum cacheable prefix."""
    minimums = {m: p.min_cacheable_tokens for m, p in pricing.PRICES.items()}
    with AnthropicEmulator(min_cacheable_by_model=minimums) as emu:
        yield emu


@pytest.fixture
def specs(library) -> dict[str, SopSpec]:
    """The published spec of each shipped SOP, by name."""
    return {sop.name: sop_spec_get(sop.published_version) for sop in Sop.objects.all()}


@pytest.fixture
def anthropic_engine(emulator, settings, specs, sample_crm) -> Iterator[AnthropicEmulator]:
    """Runs use the anthropic engine against the emulator, answered by a well-behaved Agent."""
    settings.SALESOPS = {
        **settings.SALESOPS,
        "ENGINE": "anthropic",
        "ANTHROPIC": {
            "API_KEY": "sk-ant-test",
            "BASE_URL": emulator.base_url,
            "MODEL": MODEL,
            "TIMEOUT": 5,
            "MAX_RETRIES": 2,
        },
    }
    plugins_reset()
    emulator.responder = Agent(specs)
    yield emulator
    plugins_reset()


@pytest.fixture
def run_sop(db) -> Callable[..., Run]:
    """Create and execute one run in this process (what the queue task does)."""

    def run_sop(sop_name: str, record_id: str, *, key: str = "t") -> Run:
        return run_now(sop_name, record_id, key=key)

    return run_sop


@pytest.fixture
def sop_variant(library) -> Callable[..., Sop]:
    """Publish a new version of a shipped SOP with some of its text replaced."""

    def variant(sop_name: str, *replacements: tuple[str, str]) -> Sop:
        sop = Sop.objects.get(name=sop_name)
        text = sop.published_version.text
        for old, new in replacements:
            assert old in text, f"{old!r} not in {sop_name}"
            text = text.replace(old, new)
        sop_version_create(sop_name=sop_name, text=text, publish=True)
        sop.refresh_from_db()
        return sop

    return variant
