"""Debug mode: realistic bugs planted in a solution tier for a debugging workshop.

The catalog of a tier is ``courses/debug/<tier>.toml``, one ``[[bugs]]`` table per bug::

    [[bugs]]
    id = "softmax-no-max-shift"          # what course files name in ``bugs = [...]``
    title = "Softmax without the max shift"
    module = 2                           # the curriculum module the bug lives in
    file = "src/tinytorch/nn/activations.py"
    symptom = "What the learner sees (instructor guide)."
    hint = "What to nudge them towards (instructor guide)."

    [[bugs.patches]]                     # exact text: ``find`` occurs once in the file
    find = "    shifted = x.data - x.data.max(axis=dim, keepdims=True)\\n    e = np.exp(shifted)\\n"
    replace = "    e = np.exp(x.data)\\n"

A patch applies only if its ``find`` text occurs exactly once in the file (after the
patches before it): otherwise :class:`PatchError` says which bug, which patch and how
often it matched, so a catalog never silently drifts from the source.

:func:`check_catalog` is what "building the catalog" means: it runs the tier's shipped
tests (hidden tests removed) on the untouched solution, which must pass, and then once
per bug with only that bug applied, which must fail at least one test. It reuses the
coverage check's workspace (private copies of ``src``, one file swapped per run).

A debug tree (:func:`debug_tree_files`) is the solution tier with the chosen bugs
applied and the ``### BEGIN/END SOLUTION`` marker lines removed (they would point at
the code worth suspecting); tests and lessons are those of the student edition.

Command line::

    python -m coursetools.debug check [TIER ...] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from coursetools import markers
from coursetools.coverage import CoverageError, _Workspace
from coursetools.points import CURRICULUM
from coursetools.shipping import support_files
from coursetools.student import student_files
from coursetools.tiers import COURSES_DIR, Tier, lower_tiers, resolve_tier

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEBUG_DIR = COURSES_DIR / "debug"
_BUG_KEYS = ("id", "title", "module", "file", "symptom", "hint", "patches")
_MARKER_WORDS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class CatalogError(ValueError):
    """A catalog that cannot be trusted: malformed, or its tests do not behave."""


class PatchError(CatalogError):
    """A bug's patch no longer matches the source it is meant for."""


@dataclasses.dataclass(frozen=True)
class Patch:
    find: str
    replace: str


@dataclasses.dataclass(frozen=True)
class Bug:
    id: str
    tier: str
    title: str
    module: int
    file: str  # relative to the tier's root, e.g. src/tinytorch/core/autograd.py
    symptom: str
    hint: str
    patches: tuple[Patch, ...]


@dataclasses.dataclass(frozen=True)
class BugCheck:
    """Whether the shipped tests catch one bug, and the first test that does."""

    bug: Bug
    caught: bool
    detail: str


def catalog_path(tier: str, debug_dir: Path = DEBUG_DIR) -> Path:
    return debug_dir / f"{tier}.toml"


def load_catalog(tier: str, debug_dir: Path = DEBUG_DIR) -> list[Bug]:
    """The bugs of a tier's catalog, checked for shape (not yet against the source)."""
    path = catalog_path(tier, debug_dir)
    if not path.is_file():
        raise CatalogError(f"no debug catalog for tier {tier!r} ({path} does not exist)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: not valid TOML: {error}") from None
    unknown = set(data) - {"bugs"}
    if unknown:
        raise CatalogError(f"{path}: unknown key(s) {sorted(unknown)}; only [[bugs]] tables")
    bugs, problems = [], []
    for index, entry in enumerate(data.get("bugs", [])):
        where = f"{path}: bugs[{index}] ({entry.get('id', '?')})"
        missing = [key for key in _BUG_KEYS if key not in entry]
        extra = [key for key in entry if key not in _BUG_KEYS]
        if missing or extra:
            problems.append(f"{where}: missing {missing}, unknown {extra}")
            continue
        patches = []
        for number, patch in enumerate(entry["patches"], start=1):
            if set(patch) != {"find", "replace"} or patch["find"] == patch["replace"]:
                problems.append(f"{where}: patch {number} needs a find and a different replace")
                continue
            if any(word in patch["find"] + patch["replace"] for word in _MARKER_WORDS):
                problems.append(f"{where}: patch {number} touches a marker line")
                continue
            patches.append(Patch(patch["find"], patch["replace"]))
        if not patches:
            problems.append(f"{where}: no usable patches")
            continue
        bugs.append(
            Bug(
                id=entry["id"],
                tier=tier,
                title=entry["title"].strip(),
                module=int(entry["module"]),
                file=entry["file"],
                symptom=" ".join(entry["symptom"].split()),
                hint=" ".join(entry["hint"].split()),
                patches=tuple(patches),
            )
        )
    ids = [bug.id for bug in bugs]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        problems.append(f"{path}: duplicate bug ids {duplicated}")
    if problems:
        raise CatalogError("\n".join(problems))
    return bugs


def select(catalog: list[Bug], ids: list[str] | tuple[str, ...]) -> list[Bug]:
    by_id = {bug.id: bug for bug in catalog}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise CatalogError(f"unknown bug(s) {unknown}; the catalog has {sorted(by_id)}")
    return [by_id[i] for i in ids]


def apply(bug: Bug, text: str) -> str:
    """``text`` with every patch of ``bug`` applied; :class:`PatchError` if one does not fit."""
    for number, patch in enumerate(bug.patches, start=1):
        count = text.count(patch.find)
        if count != 1:
            found = "does not occur" if count == 0 else f"occurs {count} times"
            raise PatchError(
                f"bug {bug.id!r} ({bug.tier}): patch {number} no longer applies to {bug.file}: "
                f"its find text {found} (it must occur exactly once). Update the catalog "
                f"entry to the current source.\nfind text:\n{patch.find}"
            )
        text = text.replace(patch.find, patch.replace)
    return text


def patched_sources(tier: Tier, bugs: list[Bug]) -> dict[Path, str]:
    """Each file the bugs touch -> its text with those bugs applied, in catalog order."""
    patched: dict[Path, str] = {}
    for bug in bugs:
        path = tier.root / bug.file
        if not path.is_file():
            raise PatchError(f"bug {bug.id!r}: {bug.file} does not exist in {tier.root}")
        patched[path] = apply(bug, patched.get(path) or path.read_text(encoding="utf-8"))
    return patched


def _without_markers(path: Path, text: str) -> str:
    """The file with its solution-marker lines removed (their contents kept)."""
    parsed = markers.parse(path, text)
    drop = {n for block in parsed.solutions for n in (block.begin, block.end)}
    return "".join(line for n, line in enumerate(parsed.lines, start=1) if n not in drop)


def debug_tree_files(tier: Tier, bugs: list[Bug]) -> dict[str, bytes]:
    """Relative path -> content of the debug tree: solution + bugs, student tests and lessons."""
    files = {**student_files(tier), **support_files(tier)}
    patched = patched_sources(tier, bugs)
    for path in sorted(tier.src.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        text = patched.get(path) or path.read_text(encoding="utf-8")
        relative = path.relative_to(tier.root).as_posix()
        files[relative] = _without_markers(path, text).encode("utf-8")
    files["README.md"] = debug_readme(tier, len(bugs)).encode("utf-8")
    return files


def debug_readme(tier: Tier, bug_count: int) -> str:
    rows = []
    names = tier.module_names()
    for number, found in tier.module_tests().items():
        spec = CURRICULUM.get(number)
        files = ", ".join(
            f"`tests/{p.name}`" for p in (found if isinstance(found, list) else [found])
        )
        rows.append(
            f"| {number:02d} {names.get(number) or (spec.name if spec else '')} "
            f"| {files} | {spec.points if spec else 0} |"
        )
    return f"""# {tier.project} {tier.version} — debugging edition

This is the complete **{tier.name}** tier, with {bug_count} realistic bug(s) planted in it:
the kind that real framework code ships with, each caught by at least one of the tests
in `tests/`. Your job is to find and fix them. No bug is in the tests.

## Install

```bash
python -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -e .
pip install pytest hypothesis
```

## Work

```bash
python -m pytest tests -q -x       # the first failing test is a good place to start
```

Read the failing test, form a hypothesis, and check it with the smallest example you
can write. A fix is right when the whole suite passes and you can say why the bug
produced the symptom you saw. Lessons in `lessons/` explain each module.

## Modules, tests and points

| module | tests | points |
| --- | --- | --- |
{chr(10).join(rows)}

Your course grades this tree per module, like any student tree: every test is worth
an equal share of its module's points.
"""


def _stage(tier: Tier, scratch: Path) -> Tier:
    """A copy of the tier whose tests are the shipped ones (hidden tests removed)."""
    root = scratch / tier.name
    shutil.copytree(tier.src, root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(tier.root / "pyproject.toml", root / "pyproject.toml")
    shipped = {
        relative: content
        for relative, content in student_files(tier).items()
        if relative.startswith("tests/")
    }
    for relative, content in {**shipped, **support_files(tier)}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    return Tier.load(root)


def check_catalog(
    tier_dir: Path | str,
    bugs: list[Bug] | None = None,
    lower: list[Tier] | None = None,
    workers: int = 2,
    timeout: float = 300.0,
    debug_dir: Path = DEBUG_DIR,
) -> list[BugCheck]:
    """Run the shipped tests on the clean solution (must pass) and with each bug (must fail)."""
    solution = Tier.load(tier_dir)
    bugs = load_catalog(solution.name, debug_dir) if bugs is None else bugs
    below = lower_tiers(solution) if lower is None else lower
    patched = {bug.id: patched_sources(solution, [bug]) for bug in bugs}  # fail fast on drift
    with tempfile.TemporaryDirectory(prefix="coursetools-debug-") as scratch:
        staged = _stage(solution, Path(scratch))
        test_files = sorted(staged.tests.glob("test_*.py"))
        workspace = _Workspace(staged, below, Path(scratch) / "work", workers, timeout)
        clean = workspace.run(workspace.tests(test_files))
        if clean.code != 0:
            raise CatalogError(
                f"{solution.project}: the shipped tests fail on the solution with no bug "
                f"applied, so they cannot vouch for any bug: {clean.detail}"
            )

        def run(bug: Bug) -> BugCheck:
            ((path, text),) = patched[bug.id].items()
            replace = (staged.root / path.relative_to(solution.root), text)
            own = sorted(staged.tests.glob(f"test_{bug.module:02d}_*.py"))
            for files in (own, [f for f in test_files if f not in own]):
                if not files:
                    continue
                result = workspace.run(workspace.tests(files), replace=replace)
                if result.noticed:
                    return BugCheck(bug, True, result.detail)
            return BugCheck(bug, False, "every shipped test passes with this bug applied")

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, bugs))


def catalog_markdown(checks: dict[str, list[BugCheck]]) -> str:
    """The instructor's page: every bug, what learners see, how to nudge, which test catches it."""
    out = [
        "# Debugging workshop: bug catalog",
        "",
        "Instructor material: never hand this page to learners. Each bug is an exact",
        "patch on the solution source (`courses/debug/<tier>.toml`); a course in debug mode",
        "plants a chosen set. Every bug below was checked when this page was built: the",
        "shipped tests pass on the clean solution and fail with the bug applied.",
    ]
    for tier, results in checks.items():
        out += ["", f"## {tier}", ""]
        for check in results:
            bug = check.bug
            status = "caught by" if check.caught else "NOT CAUGHT:"
            out += [
                f"### `{bug.id}` — {bug.title}",
                "",
                f"- **Module**: {bug.module:02d}, `{bug.file}`",
                f"- **Symptom**: {bug.symptom}",
                f"- **Hint**: {bug.hint}",
                f"- **Test**: {status} `{check.detail}`",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.debug", description="Check the debug-mode bug catalogs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="every catalogued bug is caught; the solution passes")
    check.add_argument("tiers", nargs="*", help="tiers to check (default: every catalog)")
    check.add_argument("--markdown", type=Path, help="write the instructor's catalog page here")
    check.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    tiers = args.tiers or [p.stem for p in sorted(DEBUG_DIR.glob("*.toml"))]
    results: dict[str, list[BugCheck]] = {}
    status = 0
    for name in tiers:
        try:
            tier = resolve_tier(name)
            results[tier.name] = check_catalog(tier.root, workers=args.workers)
        except (CatalogError, CoverageError, FileNotFoundError) as error:
            print(f"{name}: {error}", file=sys.stderr)
            status = 1
            continue
        for result in results[tier.name]:
            mark = "caught " if result.caught else "MISSED "
            detail = " ".join(result.detail.split())[:90]
            print(f"{mark} {tier.name:<10} {result.bug.id:<32} {detail}")
            status = status or (0 if result.caught else 1)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(catalog_markdown(results), encoding="utf-8")
        print(f"catalog page: {args.markdown}")
    return status


if __name__ == "__main__":
    sys.exit(main())
