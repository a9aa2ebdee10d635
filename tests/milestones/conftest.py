"""Milestone scripts are run as scripts (``python milestones/m03_1986_mlp.py``): their
folder is on ``sys.path`` so that ``common``, ``identify`` and the scripts import by name.
Every test writes its results into a temporary folder, never into ``milestones/results``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

MILESTONES = Path(__file__).resolve().parents[2] / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402


@pytest.fixture(autouse=True)
def results_dir(monkeypatch, tmp_path: Path) -> Path:
    """``common.RESULTS_DIR`` in a temporary folder, which is also the working folder."""
    folder = tmp_path / "results"
    monkeypatch.setattr(common, "RESULTS_DIR", folder)
    monkeypatch.chdir(tmp_path)
    return folder
