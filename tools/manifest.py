"""The curriculum manifest against the tree: ``curriculum.toml`` must describe what is here.

``tinytorch_learn.curriculum`` checks the manifest on its own (duplicate numbers, unknown
tiers, prerequisites that come later, a milestone needing a module above its tier); this
tool checks it against the files, so that everything reading the manifest (grading,
the milestone runner, the docs, the learner's command) sees the tree as it is:

* every tier's package folder, and every module's sources, lesson and tests, exist;
* every test file under ``packages/*/tests`` (``test_*.py``) belongs to exactly one
  module or is listed as one of its tier's shared tests, and a ``test_NN_*.py`` file
  belongs to module NN (tools that only see file names count on it);
* every lesson under ``packages/*/lessons`` belongs to a module, and a source file that
  opens with ``Module NN · Name —`` is one of module NN's sources;
* every milestone's script exists; no folder ``packages/tinytorch-*`` is missing from it;
* the files that must restate the curriculum for other tools agree with it: the
  import-linter ``curriculum-order`` layers in ``pyproject.toml`` hold every module's
  sources, later modules above earlier ones, and ``courses/schema.json`` (for editors)
  names the manifest's tiers and its highest module and milestone numbers.

Each problem is one line naming the manifest entry and the file. Run by ``nox -s lint``::

    python tools/manifest.py [--root DIR]      # exit 1 when the tree and manifest disagree
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tinytorch_learn.curriculum import MANIFEST, Curriculum, CurriculumError, load

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
#: ``Module 05 · Autograd — ...``: how a curriculum source file names its module.
MODULE_HEADER = re.compile(r"Module (\d{2}) · .+? — ")
TEST_FILE = re.compile(r"test_(\d{2})_\w+\.py")
_HEADER_LINES = 40


def _header_module(path: Path) -> int | None:
    """The module a source file names on its opening lines, if it names one."""
    lines = path.read_text(encoding="utf-8").splitlines()[:_HEADER_LINES]
    return next((int(m.group(1)) for line in lines if (m := MODULE_HEADER.search(line))), None)


def _owners(manifest: Curriculum, tier: str) -> dict[str, list[str]]:
    """Each file path the manifest names in ``tier`` -> who names it (``module 03``, ...)."""
    owners: dict[str, list[str]] = {}
    for test in manifest.tier(tier).tests:
        owners.setdefault(test, []).append(f"tier {tier}")
    for module in manifest.modules_of(tier):
        for path in (*module.sources, module.lesson, *module.tests):
            owners.setdefault(path, []).append(f"module {module.number:02d}")
    return owners


def check_tier(manifest: Curriculum, tier: str, folder: Path) -> list[str]:
    """The disagreements between one tier's entries and its package folder."""
    where = f"{MANIFEST}: tier {tier}"
    if not folder.is_dir():
        return [f"{where}: package folder {folder.name} is missing"]
    problems = []
    owners = _owners(manifest, tier)
    for path, named_by in sorted(owners.items()):
        if not (folder / path).is_file():
            problems.append(f"{where}: {', '.join(named_by)} names {path}, which is missing")
        if len(named_by) > 1:
            problems.append(f"{where}: {path} is named by {' and '.join(named_by)}; one owner only")
    for test in sorted((folder / "tests").rglob("test_*.py")):
        path = test.relative_to(folder).as_posix()
        if path not in owners:
            problems.append(
                f"{where}: test file {path} belongs to no module; add it to a module's "
                "tests (or the tier's shared tests)"
            )
        elif (m := TEST_FILE.fullmatch(test.name)) and owners[path] != [
            f"module {int(m.group(1)):02d}"
        ]:
            problems.append(
                f"{where}: {path} is named for module {m.group(1)} but listed under "
                f"{', '.join(owners[path])}"
            )
    for lesson in sorted((folder / "lessons").glob("*.py")):
        path = lesson.relative_to(folder).as_posix()
        if path not in owners:
            problems.append(f"{where}: lesson {path} belongs to no module")
    for source in sorted((folder / "src").rglob("*.py")):
        path = source.relative_to(folder).as_posix()
        number = _header_module(source)
        if number is not None and owners.get(path) != [f"module {number:02d}"]:
            listed = ", ".join(owners.get(path, ["no module"]))
            problems.append(
                f"{where}: {path} opens with 'Module {number:02d} ·' but is listed under "
                f"{listed}; add it to module {number:02d}'s sources"
            )
    return problems


def _import_name(source: str) -> str:
    """``src/tinytorch/perf/profiling.py`` -> ``tinytorch.perf.profiling``."""
    return ".".join(Path(source).with_suffix("").parts[1:])


def check_layers(manifest: Curriculum, pyproject: Path) -> list[str]:
    """The import-linter ``curriculum-order`` layers (highest first) against the modules."""
    where = f"{pyproject.name}: the curriculum-order contract"
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c["layers"] for c in contracts["contracts"] if c["id"] == "curriculum-order")
    owner = {_import_name(s): m.number for m in manifest.modules for s in m.sources}
    problems, seen, below = [], set(), None
    for layer in layers:
        names = [n.strip() for n in re.split(r"[:|]", layer)]
        numbers = {owner.get(n) for n in names}
        problems += [f"{where}: layer {n} is no module's source" for n in names if n not in owner]
        numbers.discard(None)
        if len(numbers) > 1:
            problems.append(f"{where}: layer {layer!r} mixes modules {sorted(numbers)}")
        if numbers and below is not None and max(numbers) > below:
            problems.append(
                f"{where}: layer {layer!r} (module {max(numbers):02d}) is below module "
                f"{below:02d}; later modules go above earlier ones"
            )
        below = min(numbers | {below} - {None}) if numbers else below
        seen.update(names)
    problems += [
        f"{where}: module {number:02d}'s source {name} is in no layer"
        for name, number in owner.items()
        if name not in seen
    ]
    return problems


def check_schema(manifest: Curriculum, schema: Path) -> list[str]:
    """The course-file schema's tiers and number ranges against the manifest."""
    where = f"courses/{schema.name}"
    properties = json.loads(schema.read_text(encoding="utf-8"))["properties"]
    problems = []
    tiers = list(properties["tiers"]["properties"])
    if tiers != [t.name for t in manifest.tiers]:
        names = ", ".join(t.name for t in manifest.tiers)
        problems.append(f"{where}: tiers are {', '.join(tiers)}; the manifest's are {names}")
    for key, highest in (
        ("lessons", manifest.modules[-1].number),
        ("milestones", manifest.milestones[-1].number),
    ):
        if properties[key]["items"].get("maximum") != highest:
            problems.append(f"{where}: {key} items must have maximum {highest}, as the manifest")
    return problems


def check(root: Path = ROOT) -> list[str]:
    """Every disagreement between ``root/curriculum.toml`` and the tree, one line each."""
    try:
        manifest = load(root / MANIFEST)
    except CurriculumError as error:
        return [str(error)]
    problems = []
    for tier in manifest.tiers:
        problems += check_tier(manifest, tier.name, root / "packages" / tier.package)
    for milestone in manifest.milestones:
        if not (root / milestone.script).is_file():
            problems.append(
                f"{MANIFEST}: milestone {milestone.number} ({milestone.name}): "
                f"script {milestone.script} is missing"
            )
    for path, checker in (
        (root / "pyproject.toml", check_layers),
        (root / "courses" / "schema.json", check_schema),
    ):
        if path.is_file():
            problems += checker(manifest, path)
    known = {tier.package for tier in manifest.tiers}
    for folder in sorted((root / "packages").glob("tinytorch-*")):
        if folder.is_dir() and folder.name not in known:
            problems.append(f"{MANIFEST}: packages/{folder.name} is no tier of the manifest")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    problems = check(args.root.resolve())
    for problem in problems:
        print(problem)
    if problems:
        print(f"manifest: FAILED — {len(problems)} problem(s)")
        return 1
    manifest = load(args.root.resolve() / MANIFEST)
    print(
        f"manifest: ok — {len(manifest.tiers)} tiers, {len(manifest.modules)} modules, "
        f"{len(manifest.milestones)} milestones agree with the tree"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
