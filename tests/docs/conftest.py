"""Fixtures for the tests of the docs tooling (``tools/`` and ``docs/_ext``)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_helpers import FOUNDATION, ROOT


@pytest.fixture
def foundation_copy(tmp_path: Path) -> Path:
    """A repository root in tmp_path holding the real manifest, glossary and foundation tier."""
    shutil.copytree(
        FOUNDATION,
        tmp_path / "packages" / "tinytorch-foundation",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.npz", "*.tsv"),
    )
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "curriculum.toml", tmp_path / "curriculum.toml")
    shutil.copy(ROOT / "docs" / "glossary.toml", tmp_path / "docs" / "glossary.toml")
    shutil.copy(ROOT / "docs" / "competency.toml", tmp_path / "docs" / "competency.toml")
    return tmp_path
