"""Where a learner's modules live: the curriculum manifest and the tier folders around it.

One layout question, answered once for the learner's command and the lessons' test cell.
``curriculum.toml`` sits at the top of every TinyTorch tree, and a module's paths in it
are relative to its tier's folder, which is

* the manifest's own folder in a student tree (``build/student/foundation``),
* ``<tier>/`` beside the manifest in a course bundle (``foundation/``),
* ``packages/<package>/`` in the repository itself.

A folder counts only when its ``pyproject.toml`` names the tier's distribution, so a
student tree of the arch tier holds Modules 08-13 and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch_learn.curriculum import Curriculum, CurriculumError, Module, load

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

#: The line a student tree has where a learner's code goes (coursetools.markers writes it).
STUB = re.compile(r'raise NotImplementedError\(\s*"Module (\d{2}) \(')


class NotALearnerTree(CurriculumError):
    """The folder holds no tier the learner works on (one line, names what to do)."""


@dataclass(frozen=True)
class Workspace:
    """A curriculum and the folders of the tiers present around it."""

    curriculum: Curriculum
    roots: dict[str, Path]  # tier name -> the folder holding its pyproject, src, tests, lessons
    _release: dict[str, Callable[[str], str | None] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def root(self) -> Path:
        return self.curriculum.root

    @property
    def modules(self) -> tuple[Module, ...]:
        """The modules of the tiers present here, in curriculum order."""
        return tuple(m for m in self.curriculum.modules if m.tier in self.roots)

    def module(self, key: int | str) -> Module:
        """The module named by ``key`` (3, "03", "03_layers", "layers") if its tier is here."""
        choices = ", ".join(m.slug for m in self.modules)
        try:
            module = self.curriculum.module(key)
        except CurriculumError:
            raise CurriculumError(f"unknown module {str(key)!r}; choose from {choices}") from None
        if module.tier not in self.roots:
            raise CurriculumError(
                f"module {module.title} belongs to the {module.tier} tier, which is not in "
                f"this tree; choose from {choices}"
            )
        return module

    def path(self, module: Module, relative: str) -> Path:
        """A path the manifest gives for ``module``, in this tree."""
        return self.roots[module.tier] / relative

    def tests(self, module: Module) -> list[Path]:
        return [self.path(module, name) for name in module.tests]

    def sources(self, module: Module) -> list[Path]:
        return [self.path(module, name) for name in module.sources]

    def lesson(self, module: Module) -> Path:
        return self.path(module, module.lesson)

    def shown(self, path: Path) -> str:
        """``path`` as the learner types it: relative to the working folder when inside it."""
        try:
            return os.path.relpath(path, Path.cwd())
        except ValueError:  # another drive (Windows)
            return str(path)

    def stubs_left(self, module: Module) -> int:
        """How many functions of ``module`` still raise the generated NotImplementedError."""
        return sum(
            _stubs(path.read_text(encoding="utf-8"), module) for path in self.sources(module)
        )

    def untouched(self, module: Module) -> bool | None:
        """Whether ``module``'s sources are exactly as the release shipped them.

        The release is the tree's first git commit (a student tree) or the sha256 that a
        bundle's ``bundle.lock.json`` records for each file; None when neither exists.
        """
        root = self.roots[module.tier]
        shipped = self._release_hashes(module.tier)
        if shipped is None:
            return None
        for name in module.sources:
            path = root / name
            if not path.is_file() or shipped(name) != hashlib.sha256(path.read_bytes()).hexdigest():
                return False
        return True

    def _release_hashes(self, tier: str) -> Callable[[str], str | None] | None:
        """A function: path in the tier's folder -> sha256 of the released file (or None)."""
        if tier not in self._release:
            root = self.roots[tier]
            self._release[tier] = _git_release(root) or _bundle_release(root)
        return self._release[tier]


def _git_release(root: Path) -> Callable[[str], str | None] | None:
    """The file hashes of the tree's first commit: the release as generated."""
    if not (root / ".git").exists():
        return None
    first = _git(root, "rev-list", "--max-parents=0", "HEAD")
    if not first:
        return None
    commit = first.split()[0]

    def shipped(name: str) -> str | None:
        done = subprocess.run(
            ["git", "show", f"{commit}:{name}"], cwd=root, capture_output=True, timeout=30
        )
        return hashlib.sha256(done.stdout).hexdigest() if done.returncode == 0 else None

    return shipped


def _bundle_release(root: Path) -> Callable[[str], str | None] | None:
    """The file hashes a course bundle's lock records for the tree at ``root``."""
    try:
        lock = json.loads((root.parent / "bundle.lock.json").read_text(encoding="utf-8"))
        files = lock["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return lambda name: files.get(f"{root.name}/{name}")


def _stubs(text: str, module: Module) -> int:
    return sum(int(match.group(1)) == module.number for match in STUB.finditer(text))


def _git(cwd: Path, *args: str) -> str | None:
    """Output of a read-only git command in ``cwd``; None if git or the object is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def project(folder: Path) -> dict:
    """The ``[project]`` table of ``folder/pyproject.toml`` (empty if there is none)."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("project", {})
    return table if isinstance(table, dict) else {}


def find(start: str | os.PathLike[str] | None = None) -> Workspace:
    """The workspace around ``start`` (default: the working folder).

    Raises :class:`CurriculumError` (one line) when there is no manifest above ``start`` or
    no tier folder beside it.
    """
    curriculum = load(start)
    roots = {}
    for tier in curriculum.tiers:
        for folder in (
            curriculum.root,
            curriculum.root / tier.name,
            curriculum.root / "packages" / tier.package,
        ):
            if project(folder).get("name") == tier.package:
                roots[tier.name] = folder
                break
    if not roots:
        raise NotALearnerTree(
            f"{curriculum.root} holds no tier of the curriculum (a folder whose pyproject.toml "
            f"names {', '.join(t.package for t in curriculum.tiers)}); run this in your student "
            "tree or course bundle"
        )
    return Workspace(curriculum, roots)
