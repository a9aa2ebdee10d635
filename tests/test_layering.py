"""The curriculum order is enforced by import-linter (``nox -s lint``).

These tests run ``lint-imports`` with the repository's own contracts on a copy of the
source tree, once clean and once with a forward import planted, to prove the check
would catch a Module 01 file reaching for Module 05.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"

pytest.importorskip("importlinter", reason="import-linter is installed by the tooling session")


# Run import-linter with only the copied tree's tiers visible: an installed (e.g. editable)
# tinytorch would otherwise join the namespace package and be analysed instead.
_RUN_LINT = """
import os, sys
tree = sys.argv.pop(1)
sys.path = [p for p in sys.path
            if p.startswith(tree) or not os.path.isdir(os.path.join(p or ".", "tinytorch"))]
from importlinter.cli import lint_imports_command
lint_imports_command()
"""


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the root contracts over the tiers copied into ``tree``."""
    sources = [str(p / "src") for p in sorted(tree.glob("tinytorch-*"))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sources)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_LINT,
            str(tree),
            "--config",
            str(tree / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every tier's src/ plus the root pyproject.toml."""
    for package in PACKAGES.glob("tinytorch-*"):
        shutil.copytree(package / "src", tmp_path / package.name / "src")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_as_shipped_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_a_forward_import_from_module_01_to_module_05_breaks_the_curriculum_order(
    tree: Path,
) -> None:
    tensor = tree / "tinytorch-foundation" / "src" / "tinytorch" / "core" / "tensor.py"
    tensor.write_text(
        tensor.read_text() + "\nfrom tinytorch.core.autograd import no_grad  # planted\n"
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "Curriculum order" in result.stdout and "BROKEN" in result.stdout
    assert "tinytorch.core.tensor -> tinytorch.core.autograd" in result.stdout


def test_datasets_may_not_import_the_framework(tree: Path) -> None:
    toy = tree / "tinytorch-foundation" / "src" / "tinytorch" / "datasets" / "toy.py"
    toy.write_text(toy.read_text() + "\nfrom tinytorch.core.tensor import Tensor  # planted\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "Datasets, checks and file helpers depend on NumPy only" in result.stdout


def test_the_shared_file_helpers_may_not_import_the_framework(tree: Path) -> None:
    files = tree / "tinytorch-foundation" / "src" / "tinytorch" / "files.py"
    files.write_text(files.read_text() + "\nfrom tinytorch.nn.layers import Module  # planted\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "tinytorch.files -> tinytorch.nn.layers" in result.stdout
