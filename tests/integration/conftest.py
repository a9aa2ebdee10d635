"""Cross-tier integration tests: the tiers as a user installs them, from built wheels.

``nox -s integration`` builds the wheel of every tier, installs the highest tier from its
wheel into the session (the lower tiers arrive as its dependencies) and runs these tests
with ``TINYTORCH_WHEELS`` naming the wheel folder. Tests that need an environment of
their own (only foundation; arch alone; opt alone) create a fresh venv and install from
that folder. Outside nox, the wheels are built on first use (with ``uv build``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "packages"
TIERS = ("foundation", "arch", "opt")


def run(*command: str | Path, **kwargs) -> str:
    """Run a command; on failure, fail the test with its output (not a bare exit code)."""
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode != 0:
        pytest.fail(
            f"command failed ({result.returncode}): {' '.join(map(str, command))}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tier name -> its wheel (built by nox into ``TINYTORCH_WHEELS``, or here with uv).

    All wheels sit in one folder, ``wheels["arch"].parent``, for ``--find-links``.
    """
    given = os.environ.get("TINYTORCH_WHEELS")
    if given:
        folder = Path(given)
    else:
        if shutil.which("uv") is None:
            pytest.skip("needs the tier wheels: run `nox -s integration` (or install uv)")
        folder = tmp_path_factory.mktemp("wheels")
        for tier in TIERS:
            run("uv", "build", "--wheel", "--out-dir", folder, PACKAGES / f"tinytorch-{tier}")
    found = {tier: sorted(folder.glob(f"tinytorch_{tier}-*.whl")) for tier in TIERS}
    for tier, files in found.items():
        if len(files) != 1:
            pytest.fail(f"expected one tinytorch_{tier} wheel in {folder}, found {files}")
    return {tier: files[0] for tier, files in found.items()}


class Venv:
    """A fresh, empty virtual environment (uv when available, else python -m venv)."""

    # What `python -m venv` puts into every environment before anything is installed.
    BOOTSTRAP = frozenset({"pip", "setuptools", "wheel"})

    def __init__(self, path: Path) -> None:
        self.path = path
        self.uv = shutil.which("uv")
        if self.uv:
            run(self.uv, "venv", "--quiet", "--python", sys.executable, path)
        else:
            run(sys.executable, "-m", "venv", path)
        bin_dir = "Scripts" if os.name == "nt" else "bin"
        self.python = path / bin_dir / ("python.exe" if os.name == "nt" else "python")

    def install(self, *args: str | Path) -> None:
        if self.uv:
            run(self.uv, "pip", "install", "--quiet", "--python", self.python, *args)
        else:
            run(self.python, "-m", "pip", "install", "--quiet", *args)

    def python_c(self, code: str) -> str:
        return run(self.python, "-c", code, cwd=self.path)

    def distributions(self) -> set[str]:
        """Names of everything installed, without the venv's own bootstrap tools."""
        listing = self.python_c(
            "import importlib.metadata as m\n"
            "print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
        )
        return {name.strip().lower() for name in listing.split()} - self.BOOTSTRAP


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return Venv(tmp_path / "venv")
