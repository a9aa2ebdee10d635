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
