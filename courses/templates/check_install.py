"""Check that each TinyTorch tier of this bundle imports from where the lock says.

Solution tiers: from the installed wheel (site-packages), at the locked version.
Your trees: from the tree's own ``src/`` (an editable install), never from elsewhere.
Run by the bundle's noxfile after installing; exits non-zero with every problem found.
"""

from __future__ import annotations

import importlib
import json
import sys
from importlib import metadata
from pathlib import Path

BUNDLE = Path(__file__).resolve().parents[1]


def main() -> int:
    lock = json.loads((BUNDLE / "bundle.lock.json").read_text(encoding="utf-8"))
    problems = []
    for tier in lock["tiers"]:
        try:
            version = metadata.version(tier["project"])
        except metadata.PackageNotFoundError:
            problems.append(f"{tier['project']} is not installed")
            continue
        if version != tier["version"]:
            problems.append(
                f"{tier['project']} {version} installed; the lock says {tier['version']}"
            )
        own = (BUNDLE / tier["tree"] / "src").resolve() if "tree" in tier else None
        for name in tier["subpackages"]:
            where = Path(importlib.import_module(name).__file__).resolve().parent
            if own is not None and not where.is_relative_to(own):
                problems.append(f"{name} imports from {where}, not from your tree {own}")
            if own is None and "site-packages" not in where.parts:
                problems.append(f"{name} imports from {where}, not from the installed wheel")
            print(f"  {name:<20} {tier['project']} {version:<8} {tier['mode']:<9} {where}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
