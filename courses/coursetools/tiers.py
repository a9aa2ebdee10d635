"""What a tier directory holds, and how to run Python against one.

A tier is a directory with ``pyproject.toml``, ``src/tinytorch/<subpackage>/``, ``tests/``
and ``lessons/``: either a package of the monorepo (``packages/tinytorch-foundation``)
or a generated student tree (``build/student/foundation``). Both look the same to
the tools, which is what lets the grader grade either.

Code under test is put on ``PYTHONPATH`` rather than installed, so that the grader
and the coverage check run exactly the tree they were given. Entry points (the
``tinytorch.nn`` group through which higher tiers register layers) normally come from
an installed distribution's metadata; :func:`write_metadata_shim` writes that metadata
next to the code so the bridge works without installing anything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES_DIR = REPO_ROOT / "packages"
COURSES_DIR = REPO_ROOT / "courses"

#: ``Module 05 · Autograd — reverse-mode ...``: how every curriculum file names its module.
MODULE_HEADER = re.compile(r"Module (\d{2}) · (.+?) — ")
#: ``tests/test_05_autograd.py``: tests that grade Module 05 (a module may have several).
MODULE_TEST_FILE = re.compile(r"test_(\d{2})_\w+\.py")

_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HEADER_SEARCH_LINES = 40


def module_header(lines: list[str] | tuple[str, ...]) -> tuple[int, str] | None:
    """(number, name) from the first ``Module NN · Name — ...`` among a file's opening lines."""
    for line in lines[:_HEADER_SEARCH_LINES]:
        match = MODULE_HEADER.search(line)
        if match:
            return int(match.group(1)), match.group(2).strip()
    return None


def normalize(name: str) -> str:
    """A distribution name in PEP 503 form: ``TinyTorch_Foundation`` -> ``tinytorch-foundation``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Tier:
    """One tier directory and the parts of its ``pyproject.toml`` the tools need."""

    root: Path
    project: str
    version: str
    dependencies: tuple[str, ...]
    entry_points: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | str) -> Tier:
        """Read the tier at ``root``; fail clearly if it has no usable ``pyproject.toml``."""
        root = Path(root).resolve()
        pyproject = root / "pyproject.toml"
        if not pyproject.is_file():
            raise FileNotFoundError(f"{root} is not a tier: it has no pyproject.toml")
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        return cls(
            root=root,
            project=project["name"],
            version=project["version"],
            dependencies=tuple(project.get("dependencies", ())),
            entry_points=project.get("entry-points", {}),
        )

    @property
    def name(self) -> str:
        """The short tier name: ``foundation`` for ``tinytorch-foundation``."""
        return normalize(self.project).removeprefix("tinytorch-")

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def tests(self) -> Path:
        return self.root / "tests"

    @property
    def lessons(self) -> Path:
        return self.root / "lessons"

    def subpackages(self) -> list[str]:
        """Dotted names of the subpackages this tier owns, e.g. ``tinytorch.core``."""
        namespace = self.src / "tinytorch"
        if not namespace.is_dir():
            return []
        return [
            f"tinytorch.{child.name}"
            for child in sorted(namespace.iterdir())
            if (child / "__init__.py").is_file()
        ]

    def module_tests(self, tests_dir: Path | None = None) -> dict[int, list[Path]]:
        """Module number -> its test files (``tests/test_NN_<name>.py``), in module order.

        A module may have several (``test_05_autograd.py``, ``test_05_gradients.py``):
        together they grade it.
        """
        found: dict[int, list[Path]] = {}
        for path in sorted((tests_dir or self.tests).glob("test_*.py")):
            match = MODULE_TEST_FILE.fullmatch(path.name)
            if match:
                found.setdefault(int(match.group(1)), []).append(path)
        return dict(sorted(found.items()))

    def module_names(self) -> dict[int, str]:
        """Module number -> name, as the tier's source files announce them."""
        names = {}
        for path in sorted(self.src.rglob("*.py")):
            header = module_header(path.read_text(encoding="utf-8").splitlines())
            if header:
                names.setdefault(*header)
        return names

    def lesson_for(self, number: int) -> Path | None:
        """The lesson of module ``number`` (``lessons/NN_<name>.py``), if the tier has one."""
        matches = sorted(self.lessons.glob(f"{number:02d}_*.py"))
        return matches[0] if matches else None

    def tier_dependencies(self) -> list[str]:
        """Project names of the lower tiers this tier depends on."""
        names = []
        for requirement in self.dependencies:
            match = _REQUIREMENT_NAME.match(requirement)
            if match and normalize(match.group()).startswith("tinytorch-"):
                names.append(normalize(match.group()))
        return names


def resolve_tier(spec: str | Path, packages_dir: Path = PACKAGES_DIR) -> Tier:
    """A tier from a short name (``foundation``), a project name or a directory."""
    path = Path(spec)
    if path.is_dir():
        return Tier.load(path)
    candidate = packages_dir / f"tinytorch-{normalize(str(spec)).removeprefix('tinytorch-')}"
    if candidate.is_dir():
        return Tier.load(candidate)
    known = ", ".join(sorted(p.name for p in packages_dir.glob("tinytorch-*"))) or "none"
    raise FileNotFoundError(
        f"no tier {spec!r}: not a directory, and not in {packages_dir} (has {known})"
    )


def all_tiers(packages_dir: Path = PACKAGES_DIR) -> list[Tier]:
    """Every tier of the monorepo, lowest first (foundation, arch, opt)."""
    tiers = [Tier.load(p.parent) for p in sorted(packages_dir.glob("tinytorch-*/pyproject.toml"))]
    return sorted(tiers, key=lambda t: len(lower_tiers(t, packages_dir)))


def lower_tiers(tier: Tier, packages_dir: Path = PACKAGES_DIR) -> list[Tier]:
    """The solution tiers below ``tier`` found in ``packages_dir``, transitively, lowest last.

    A lower tier that is not in ``packages_dir`` is left to the Python environment
    (a learner's tree pulls it in with ``pip install -e .``).
    """
    found: dict[str, Tier] = {}
    pending = tier.tier_dependencies()
    while pending:
        name = pending.pop(0)
        directory = packages_dir / name
        if name in found or not (directory / "pyproject.toml").is_file():
            continue
        found[name] = Tier.load(directory)
        pending.extend(found[name].tier_dependencies())
    return list(found.values())


def write_metadata_shim(tiers: list[Tier], dest: Path) -> Path:
    """Write a ``.dist-info`` per tier into ``dest`` so entry points resolve without installing.

    ``importlib.metadata`` finds distributions on ``sys.path``; with ``dest`` on
    ``PYTHONPATH`` ahead of site-packages, these shadow any installed copy of the same tier.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for tier in tiers:
        info = dest / f"{normalize(tier.project).replace('-', '_')}-{tier.version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {tier.project}\nVersion: {tier.version}\n",
            encoding="utf-8",
        )
        groups = [
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in sorted(entries.items()))
            for group, entries in sorted(tier.entry_points.items())
        ]
        (info / "entry_points.txt").write_text("\n".join(groups), encoding="utf-8")
    return dest


def python_env(pythonpath: list[Path]) -> dict[str, str]:
    """The current environment with ``pythonpath`` first on ``PYTHONPATH`` and no bytecode written.

    No ``.pyc`` files: the tools rewrite sources in place, and a stale cache must never
    stand in for the file on disk.
    """
    env = dict(os.environ)
    inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in pythonpath] + inherited)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_WHERE_SCRIPT = """
import importlib, json, sys
where = {}
for name in sys.argv[1:]:
    where[name] = importlib.import_module(name).__file__
print(json.dumps(where))
"""


class WrongCodeError(RuntimeError):
    """The code that imports is not the code the tool was asked to run."""


def import_locations(subpackages: list[str], pythonpath: list[Path], cwd: Path) -> dict[str, str]:
    """Import each subpackage in a fresh interpreter; return where each one's ``__init__`` lives.

    Raises :class:`ImportError` with the interpreter's traceback if any import fails.
    """
    result = subprocess.run(
        [sys.executable, "-c", _WHERE_SCRIPT, *subpackages],
        cwd=cwd,
        env=python_env(pythonpath),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise ImportError(f"importing {', '.join(subpackages)} failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def require_own_code(src: Path, subpackages: list[str], pythonpath: list[Path], cwd: Path) -> None:
    """Fail unless every one of ``subpackages`` imports from ``src`` (not an installed copy)."""
    src = src.resolve()
    for name, location in import_locations(subpackages, pythonpath, cwd).items():
        if location is None or not Path(location).resolve().is_relative_to(src):
            raise WrongCodeError(f"{name} imports from {location}, not from {src}")
