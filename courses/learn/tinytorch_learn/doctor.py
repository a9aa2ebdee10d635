"""``tinytorch doctor``: is this environment ready to work in this tree? Each check is a
line that says what is fine or exactly what to run to fix it."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from tinytorch_learn.workspace import Workspace, project

MIN_PYTHON = (3, 10)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _locked(tree: Workspace) -> dict[str, str]:
    """Distribution -> version the bundle's lock pins (empty outside a bundle)."""
    try:
        lock = json.loads((tree.root / "bundle.lock.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for entry in lock.get("tiers", []) if isinstance(lock, dict) else []:
        if isinstance(entry, dict) and "project" in entry and "version" in entry:
            found[entry["project"]] = entry["version"]
    return found


def checks(tree: Workspace) -> Iterator[tuple[bool, str]]:
    """(fine?, what to say) for Python, every tier, the test tools and Jupyter."""
    here = ".".join(map(str, sys.version_info[:3]))
    yield (
        sys.version_info >= MIN_PYTHON,
        f"Python {here}"
        + ("" if sys.version_info >= MIN_PYTHON else " is too old: install Python 3.10 or newer"),
    )
    locked = _locked(tree)
    tiers = [t.name for t in tree.curriculum.tiers]
    highest = max(tiers.index(name) for name in tree.roots)
    for tier in tree.curriculum.tiers[: highest + 1]:
        installed = _version(tier.package)
        root = tree.roots.get(tier.name)
        wanted = locked.get(tier.package) or (project(root).get("version") if root else None)
        if installed is None:
            where = f"`pip install -e {_shown(root)}`" if root else f"`pip install {tier.package}`"
            yield False, f"{tier.package} is not installed: run {where}"
        elif wanted and installed != wanted:
            yield (
                False,
                f"{tier.package} {installed} is installed, this course pins {wanted}: reinstall it",
            )
        else:
            yield True, f"{tier.package} {installed}"
        if root is not None and installed is not None:
            yield _imports_from(tier.name, root)
    for module, why in (("pytest", "the tests"), ("rich", "this command")):
        found = importlib.util.find_spec(module) is not None
        yield found, f"{module} ({why})" + ("" if found else f" is missing: `pip install {module}`")
    jupyter = next((a for a in ("jupyterlab", "notebook") if importlib.util.find_spec(a)), None)
    yield (
        jupyter is not None,
        f"Jupyter: {jupyter}"
        if jupyter
        else "Jupyter is not installed (for `tinytorch lab`): `pip install jupyterlab`",
    )


def _imports_from(tier: str, root: Path) -> tuple[bool, str]:
    """Whether ``import tinytorch`` here reaches this tree's code (an editable install)."""
    src = (root / "src" / "tinytorch").resolve()
    paths = [Path(p).resolve() for p in getattr(_namespace(), "__path__", [])]
    if src in paths:
        return True, f"tinytorch imports your {tier} code from {_shown(root / 'src')}"
    return False, (
        f"tinytorch does not import your {tier} code from {_shown(root / 'src')}: run "
        f"`pip install -e {_shown(root)}` in this environment"
    )


def _namespace():
    import tinytorch

    return tinytorch


def _shown(path: Path | None) -> str:
    return os.path.relpath(path) if path else "."
