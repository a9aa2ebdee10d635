"""Helpers shared by the docs-tooling tests (imported by name: tests/docs is on sys.path)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT / "tools", ROOT / "docs" / "_ext"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

FOUNDATION = ROOT / "packages" / "tinytorch-foundation"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_manifest(root: Path, tier: str, names: list[str]) -> Path:
    """A curriculum.toml at ``root``: one tier ``tinytorch-<tier>`` whose modules are
    ``names`` (numbered from 1), each with a source, lesson and test file named for it."""
    modules = "".join(
        f"""
        [[module]]
        number = {n}
        slug = "{n:02d}_{name.lower()}"
        name = "{name}"
        tier = "{tier}"
        sources = ["src/tinytorch/{tier}/{name.lower()}.py"]
        lesson = "lessons/{n:02d}_{name.lower()}.py"
        tests = ["tests/test_{n:02d}_{name.lower()}.py"]
        points = 10
        timeout = 60
        prerequisites = {list(range(1, n))}
        """
        for n, name in enumerate(names, start=1)
    )
    header = f"""
        [[tier]]
        name = "{tier}"
        title = "{tier.title()}"
        package = "tinytorch-{tier}"
        description = "A tier for tests."
        tests = []
        """
    milestone = f"""
        [[milestone]]
        number = 1
        name = "Demo"
        script = "milestones/m01_demo.py"
        modules = [1]
        tier = "{tier}"
        """
    return write(root / "curriculum.toml", textwrap.dedent(header + modules + milestone))
