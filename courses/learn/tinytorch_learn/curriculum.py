"""The curriculum manifest (``curriculum.toml``): every tier, module and milestone, in order.

One file says what the curriculum is; everything that needs to know reads it through
:func:`load` — grading points, the milestone runner, the docs' navigation, the
vocabulary and competency tools, student trees, bundles and the learner's command::

    curriculum = load()                        # curriculum.toml here or in a folder above
    curriculum.module("layers")                # also 3, "3", "03", "03_layers"
    curriculum.milestone(3).modules            # (1, 2, 3, 4, 5, 6, 7)
    curriculum.modules_of("arch")              # Modules 08-13, in order

A manifest is checked as it loads: duplicate numbers or slugs, an unknown tier, a
prerequisite that is unknown or not earlier, a milestone that needs a module of a higher
tier than it declares. Each problem is a :class:`CurriculumError` whose message is one
line naming what was wrong and the valid choices, so a command can print it as it is.
Whether the files it names exist is the tree's business: ``tools/manifest.py`` checks that.

Standard library only: learners' trees and bundles carry this package and a copy of the
manifest at their root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MANIFEST = "curriculum.toml"


class CurriculumError(ValueError):
    """A manifest that is missing or wrong, or a key that names nothing in it (one line)."""


@dataclass(frozen=True)
class Tier:
    """A tier: one distribution (``package``) holding consecutive modules."""

    name: str  # "foundation"
    title: str  # "Foundation"
    package: str  # "tinytorch-foundation": the distribution and its folder under packages/
    description: str  # one paragraph, for people
    tests: tuple[str, ...]  # the tier's test files no single module owns (no points)


@dataclass(frozen=True)
class Module:
    """A curriculum module. Paths are relative to its tier's package folder (tree root)."""

    number: int
    slug: str  # "03_layers": the lesson's and the pages' file name
    name: str  # "Layers"
    tier: str
    sources: tuple[str, ...]
    lesson: str
    tests: tuple[str, ...]
    points: int
    timeout: float  # seconds one graded check or test of this module may run
    prerequisites: tuple[int, ...]  # earlier modules it builds on directly

    @property
    def title(self) -> str:
        """``"03 Layers"``: how pages and messages name the module."""
        return f"{self.number:02d} {self.name}"


@dataclass(frozen=True)
class Milestone:
    """A historical milestone: a script that trains with the modules it needs."""

    number: int
    name: str  # "1986 MLP"
    script: str  # relative to the manifest's folder
    modules: tuple[int, ...]  # every module it runs
    tier: str  # the lowest tier that holds all of them

    @property
    def slug(self) -> str:
        """``"m03_1986_mlp"``: the script's name, also the name of its results file."""
        return Path(self.script).stem


@dataclass(frozen=True)
class Curriculum:
    """The loaded manifest: tiers, modules and milestones, each in curriculum order."""

    path: Path  # the manifest file
    tiers: tuple[Tier, ...]
    modules: tuple[Module, ...]
    milestones: tuple[Milestone, ...]

    @property
    def root(self) -> Path:
        """The folder holding the manifest (the repository, a student tree or a bundle)."""
        return self.path.parent

    def tier(self, name: str) -> Tier:
        """The tier called ``name`` ("foundation", or its package "tinytorch-foundation")."""
        for tier in self.tiers:
            if name in (tier.name, tier.package):
                return tier
        raise CurriculumError(f"unknown tier {name!r}; choose from {_names(self.tiers)}")

    def module(self, key: int | str) -> Module:
        """The module named by number (``3``, ``"3"``, ``"03"``), slug or name (``"layers"``)."""
        if found := _named(self.modules, key):
            return found
        choices = ", ".join(m.slug for m in self.modules)
        raise CurriculumError(f"unknown module {str(key)!r}; choose from {choices}")

    def milestone(self, key: int | str) -> Milestone:
        """The milestone named by number (``3``, ``"03"``), script name or name."""
        if found := _named(self.milestones, key):
            return found
        choices = ", ".join(f"{m.number} ({m.name})" for m in self.milestones)
        raise CurriculumError(f"unknown milestone {str(key)!r}; choose from {choices}")

    def modules_of(self, tier: str) -> tuple[Module, ...]:
        """The modules of one tier, in order."""
        name = self.tier(tier).name
        return tuple(m for m in self.modules if m.tier == name)

    def owner(self, tier: str, path: str) -> Module | None:
        """The module of ``tier`` whose source, lesson or test file ``path`` is (a path
        relative to the tier's package folder, ``"tests/test_03_layers.py"``); None for
        the tier's shared files."""
        return next(
            (m for m in self.modules_of(tier) if path in (*m.sources, m.lesson, *m.tests)),
            None,
        )

    def tiers_up_to(self, tier: str) -> tuple[Tier, ...]:
        """``tier`` and every tier below it, lowest first: what installing it brings."""
        names = [t.name for t in self.tiers]
        return self.tiers[: names.index(self.tier(tier).name) + 1]


def _named(items: Iterable[Module | Milestone], key: int | str) -> Module | Milestone | None:
    """The item whose number, slug or name (any case) ``key`` is; None if there is none."""
    text = str(key).strip().lower()
    number = int(text) if text.isdigit() else None
    return next((i for i in items if number == i.number or text in (i.slug, i.name.lower())), None)


def find(start: str | os.PathLike[str] | None = None) -> Path:
    """The manifest at or above ``start`` (a folder or the file itself; default: cwd)."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    if here.is_file():
        return here
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder / MANIFEST
    raise CurriculumError(
        f"no {MANIFEST} in {here} or any folder above it; run this inside a TinyTorch "
        "tree (the repository, a student tree or a course bundle)"
    )


def load(root: str | os.PathLike[str] | None = None) -> Curriculum:
    """Read and check the manifest found from ``root`` upwards (default: the working folder)."""
    path = find(root)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CurriculumError(f"{path}: cannot read the manifest: {error}") from None
    return parse(data, path)


# ------------------------------------------------------------------------- reading


# The fields of each table and their types; every field is required, no other is allowed.
_FIELDS = {
    "tier": {"name": str, "title": str, "package": str, "description": str, "tests": list},
    "module": {
        "number": int,
        "slug": str,
        "name": str,
        "tier": str,
        "sources": list,
        "lesson": str,
        "tests": list,
        "points": int,
        "timeout": (int, float),
        "prerequisites": list,
    },
    "milestone": {"number": int, "name": str, "script": str, "modules": list, "tier": str},
}


def parse(data: dict, path: Path) -> Curriculum:
    """Build and check a :class:`Curriculum` from the manifest's parsed TOML."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise CurriculumError(
            f"{path.name}: unknown table {unknown[0]!r}; the tables are "
            + ", ".join(f"[[{kind}]]" for kind in _FIELDS)
        )
    rows = {
        kind: [_fields(path, kind, i, row) for i, row in enumerate(_rows(path, data, kind))]
        for kind in _FIELDS
    }
    curriculum = Curriculum(
        path=path,
        tiers=tuple(
            Tier(**{**row, "tests": tuple(row["tests"]), "description": row["description"].strip()})
            for row in rows["tier"]
        ),
        modules=tuple(
            Module(
                **{
                    **row,
                    "sources": tuple(row["sources"]),
                    "tests": tuple(row["tests"]),
                    "timeout": float(row["timeout"]),
                    "prerequisites": tuple(row["prerequisites"]),
                }
            )
            for row in rows["module"]
        ),
        milestones=tuple(
            Milestone(**{**row, "modules": tuple(row["modules"])}) for row in rows["milestone"]
        ),
    )
    _check(curriculum)
    return curriculum


def _rows(path: Path, data: dict, kind: str) -> list:
    rows = data.get(kind, [])
    if not isinstance(rows, list) or not rows:
        raise CurriculumError(f"{path.name}: needs at least one [[{kind}]] table")
    return rows


def _fields(path: Path, kind: str, index: int, row: object) -> dict:
    """One table's fields, each present and of its type, or a CurriculumError naming it."""
    fields = _FIELDS[kind]
    where = f"{path.name}: [[{kind}]] #{index + 1}"
    if not isinstance(row, dict):
        raise CurriculumError(f"{where} is not a table")
    if "name" in row or "number" in row:
        where += f" ({row.get('number', row.get('name'))})"
    extra = sorted(set(row) - set(fields))
    if extra:
        raise CurriculumError(
            f"{where}: unknown field {extra[0]!r}; fields are {', '.join(fields)}"
        )
    for name, kind_of in fields.items():
        if name not in row:
            raise CurriculumError(f"{where}: missing field {name!r}")
        value = row[name]
        if isinstance(value, bool) or not isinstance(value, kind_of):
            raise CurriculumError(f"{where}: {name} = {value!r} has the wrong type")
        if isinstance(value, list):
            item = (int,) if name in ("prerequisites", "modules") else (str,)
            if any(isinstance(v, bool) or not isinstance(v, item) for v in value):
                raise CurriculumError(f"{where}: {name} must list {item[0].__name__}s")
    return dict(row)


def _names(items: Iterable[Tier]) -> str:
    return ", ".join(t.name for t in items)


def _duplicate(values: Iterable[object]) -> object | None:
    seen = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def _check(c: Curriculum) -> None:
    """The manifest's own consistency; the first problem found raises CurriculumError."""
    name = c.path.name
    for label, values in (
        ("tier name", [t.name for t in c.tiers]),
        ("tier package", [t.package for t in c.tiers]),
        ("module number", [m.number for m in c.modules]),
        ("module slug", [m.slug for m in c.modules]),
        ("module name", [m.name.lower() for m in c.modules]),
        ("milestone number", [m.number for m in c.milestones]),
    ):
        if (twice := _duplicate(values)) is not None:
            raise CurriculumError(f"{name}: duplicate {label} {twice!r}; each must be unique")
    rank = {t.name: i for i, t in enumerate(c.tiers)}
    numbers = {m.number: m for m in c.modules}
    previous: Module | None = None
    for module in c.modules:
        where = f"{name}: module {module.title}"
        if module.tier not in rank:
            raise CurriculumError(
                f"{where}: unknown tier {module.tier!r}; choose from {_names(c.tiers)}"
            )
        if not module.slug.startswith(f"{module.number:02d}_"):
            raise CurriculumError(
                f"{where}: slug {module.slug!r} must start with '{module.number:02d}_'"
            )
        if previous and (
            module.number < previous.number or rank[module.tier] < rank[previous.tier]
        ):
            raise CurriculumError(
                f"{where} comes after {previous.title} ({previous.tier}); list modules in "
                "curriculum order: by number, tier by tier"
            )
        for needed in module.prerequisites:
            if needed not in numbers or needed >= module.number:
                earlier = ", ".join(str(n) for n in numbers if n < module.number) or "none"
                raise CurriculumError(
                    f"{where}: prerequisite {needed} is not an earlier module; "
                    f"choose from {earlier}"
                )
        previous = module
    for milestone in c.milestones:
        where = f"{name}: milestone {milestone.number} ({milestone.name})"
        if milestone.tier not in rank:
            raise CurriculumError(
                f"{where}: unknown tier {milestone.tier!r}; choose from {_names(c.tiers)}"
            )
        for needed in milestone.modules:
            if needed not in numbers:
                raise CurriculumError(
                    f"{where}: unknown module {needed}; choose from "
                    + ", ".join(str(n) for n in numbers)
                )
            module = numbers[needed]
            if rank[module.tier] > rank[milestone.tier]:
                raise CurriculumError(
                    f"{where} needs module {module.title} of tier {module.tier!r}, above its "
                    f"tier {milestone.tier!r}; declare tier = {module.tier!r} or drop the module"
                )
