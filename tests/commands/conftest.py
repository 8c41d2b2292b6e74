"""A private copy of the shipped SOP library that a test may edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "sop_library"


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    target = tmp_path / "lib"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("sample_data", "cases"))
    return target
