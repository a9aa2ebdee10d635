"""The course sessions CI relies on, run for real: ``nox -s courses``, ``debug``, ``tox``.

``nox -s debug`` is the debug catalogs' coverage check: every catalogued bug must be caught
by at least one shipped test and the clean solution must pass. ``nox -s tox -- arch`` runs
the arch tier's ``[tool.tox]`` environment against a pre-built foundation wheel.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import debug
from coursetools.courses import KNOWN_TIERS
from coursetools.tiers import PACKAGES_DIR, REPO_ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def run_nox(args: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    if shutil.which("nox"):
        command = [shutil.which("nox")]
    elif importlib.util.find_spec("nox"):
        command = [sys.executable, "-m", "nox"]
    else:
        pytest.skip("nox is not installed here (CI installs it in .ci/run)")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "NOX_CURRENT_SESSION", "CONDA_PREFIX")
    }
    return subprocess.run(
        [*command, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_every_tier_carries_a_native_tox_table():
    for tier in KNOWN_TIERS:
        pyproject = PACKAGES_DIR / f"tinytorch-{tier}" / "pyproject.toml"
        if not pyproject.is_file():
            continue
        tox = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["tox"]
        assert tox["env_list"] == ["wheels"]
        env = tox["env"]["wheels"]
        assert env["package"] == "wheel"
        assert "pytest>=8" in env["deps"]
        if tier != "foundation":  # lower tiers come from pinned, pre-built wheels
            assert env["pass_env"] == ["TINYTORCH_WHEELS"]
            assert "constraints.txt" in env["set_env"]["PIP_CONSTRAINT"]
            assert "TINYTORCH_WHEELS" in env["set_env"]["PIP_FIND_LINKS"]


@pytest.mark.slow
def test_nox_courses_checks_every_course_file_against_the_tree_and_the_schema(tmp_path: Path):
    result = run_nox(["-s", "courses"])
    assert "ok  bootcamp-foundation: foundation 0.2.0 (student)" in result.stdout, result.stderr
    assert "schema:" not in result.stdout + result.stderr  # the JSON Schema agrees
    assert result.returncode == 0 or "waits for the tree" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\ntitle = "t"\naudience = "a"\n'
        '[tiers.foundation]\nversion = "0.2"\nmode = "studnet"\n',
        encoding="utf-8",
    )
    result = run_nox(["-s", "courses", "--", str(bad)])
    log = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"{bad}: schema: tiers.foundation.mode: 'studnet' is not one of" in log
    assert "did you mean 'student'?" in log  # and the validator's own words


@pytest.mark.slow
def test_nox_debug_finds_every_catalogued_bug_caught_by_a_shipped_test():
    result = run_nox(["-s", "debug"])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    for tier in KNOWN_TIERS:
        if not (debug.DEBUG_DIR / f"{tier}.toml").is_file():
            continue
        for bug in debug.load_catalog(tier):
            assert f"caught  {tier:<10} {bug.id}" in log, bug.id
    assert "MISSED" not in log
    page = (REPO_ROOT / "build" / "debug" / "catalog.md").read_text(encoding="utf-8")
    assert "never hand this page to learners" in page and "NOT CAUGHT" not in page


@pytest.mark.slow
def test_nox_tox_tests_arch_against_a_prebuilt_foundation_wheel():
    result = run_nox(["-s", "tox", "--", "arch", "tests/test_08_dataloader.py"])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "uv build" in log or "python -m build" in log  # the foundation wheel, built first
    site = str(REPO_ROOT / "build" / "tox" / "arch" / "wheels")
    assert f"tinytorch.core from {site}" in log  # foundation: the wheel, not the monorepo
    assert "wheels: OK" in log and " passed" in log
