"""Course files: which tiers a course hands out, at which exact version, in which mode.

A course file is ``courses/<name>.toml``::

    #:schema ./schema.json
    name = "semester"                       # the file's own name, without .toml
    title = "TinyTorch in one semester"
    audience = "Undergraduates in a 14-week course"
    milestones = [1, 2, 3, 4, 5]            # historical milestones shipped (1-6)
    lessons = [1, 2, 3]                     # optional: modules whose lessons ship (default: all
                                            # lessons of the student and debug tiers)

    [tiers.foundation]
    version = "0.2.0"                       # exact: the version the tier has in this tree
    mode = "student"                        # student | solution | debug

    [tiers.arch]
    version = "0.1.0"
    mode = "debug"
    bugs = ["conv-padding-off-by-one"]      # debug mode only: ids from courses/debug/<tier>.toml

:func:`load` reads and checks a course against the tree it is built from and returns a
:class:`Course`; every problem found is reported at once, each naming the key and why
(:class:`CourseError`). A course that only needs something not yet in the tree (a tier,
a milestone script, a lesson) raises :class:`NotInTreeError`, so tooling can tell "wait
for it to land" from "fix the course file". ``courses/schema.json`` describes the same
format as JSON Schema for editors; this module is the authority.

Command line::

    python -m coursetools.courses [courses/NAME.toml ...]    # default: every course file
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from coursetools.tiers import COURSES_DIR, PACKAGES_DIR, REPO_ROOT, Tier, normalize
from tinytorch_learn import curriculum

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

#: The curriculum's tiers, lowest first (curriculum.toml). Which of them exist is read
#: from the tree.
KNOWN_TIERS = tuple(t.name for t in curriculum.load(REPO_ROOT).tiers)
MODES = ("student", "solution", "debug")
MILESTONES_DIR = REPO_ROOT / "milestones"
DEBUG_DIR = COURSES_DIR / "debug"

_TOP_KEYS = ("name", "title", "audience", "description", "milestones", "lessons", "tiers")
_REQUIRED = ("name", "title", "audience", "tiers")
_TIER_KEYS = ("version", "mode", "bugs")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?")


class CourseError(ValueError):
    """A course file that cannot be built; ``problems`` lists each as ``file: key: why``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class NotInTreeError(CourseError):
    """The course is well-formed but needs a tier, milestone or lesson this tree lacks yet."""


@dataclass(frozen=True)
class CourseTier:
    """One tier of a course: the tier in the tree, the pinned version, the mode."""

    name: str
    version: str
    mode: str
    tier: Tier
    bugs: tuple[str, ...] = ()

    @property
    def project(self) -> str:
        return self.tier.project


@dataclass(frozen=True)
class Milestone:
    number: int
    name: str  # script name without .py
    title: str
    tier: str

    @property
    def script(self) -> str:
        return f"{self.name}.py"


@dataclass(frozen=True)
class Course:
    path: Path
    name: str
    title: str
    audience: str
    description: str
    tiers: tuple[CourseTier, ...]  # lowest first
    milestones: tuple[Milestone, ...]
    lessons: tuple[tuple[str, Path], ...]  # (tier name, lesson file), module order
    warnings: tuple[str, ...] = field(default=())

    def tier(self, name: str) -> CourseTier:
        return next(t for t in self.tiers if t.name == name)

    @property
    def versions(self) -> str:
        """``foundation0.2.0-arch0.1.0``: the tiers and versions, for file names."""
        return "-".join(f"{t.name}{t.version}" for t in self.tiers)

    @property
    def bundle_name(self) -> str:
        return f"{self.name}-{self.versions}"


def load_script(path: Path, name: str):
    """Import a script of the repository (``tools/lessons.py``) by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def milestone_table(milestones_dir: Path = MILESTONES_DIR) -> dict[int, Milestone]:
    """The milestones as the curriculum manifest above ``milestones_dir`` lists them."""
    return {
        m.number: Milestone(m.number, m.slug, m.name, m.tier)
        for m in curriculum.load(milestones_dir).milestones
    }


def course_files(courses_dir: Path = COURSES_DIR) -> list[Path]:
    return sorted(courses_dir.glob("*.toml"))


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _listing(items) -> str:
    return ", ".join(items)


class _Checker:
    """Collects every problem of one course file instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []
        self.missing: list[str] = []  # problems that only say "not in this tree yet"
        self.warnings: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(f"{self.path}: {key}: {message}" if key else f"{self.path}: {message}")

    def not_in_tree(self, key: str, message: str) -> None:
        self.error(key, message)
        self.missing.append(self.problems[-1])

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"{self.path}: {key}: {message}")

    def unknown_keys(self, where: str, table: dict, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                self.error(
                    f"{prefix}{key}",
                    f"unknown key (allowed: {_listing(allowed)}){_suggest(key, allowed)}",
                )

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        if len(self.missing) == len(self.problems):
            raise NotInTreeError(self.problems)
        raise CourseError(self.problems)


def load(
    path: Path | str,
    packages_dir: Path = PACKAGES_DIR,
    milestones_dir: Path = MILESTONES_DIR,
    debug_dir: Path = DEBUG_DIR,
) -> Course:
    """Read and check a course file against the tree; raise :class:`CourseError` listing why not."""
    path = Path(path)
    check = _Checker(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError([f"{path}: no such course file"]) from None
    except tomllib.TOMLDecodeError as error:
        raise CourseError([f"{path}: not valid TOML: {error}"]) from None

    check.unknown_keys("", data, _TOP_KEYS)
    for key in _REQUIRED:
        if key not in data:
            check.error(key, "missing (every course names: " + _listing(_REQUIRED) + ")")
    name = data.get("name", "")
    if "name" in data:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            check.error("name", f"{name!r} is not a course name (lowercase letters, digits, -)")
        elif name != path.stem:
            check.error("name", f"{name!r} differs from the file name {path.name!r}")
    for key in ("title", "audience", "description"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            check.error(key, "must be a non-empty string")

    tiers = _check_tiers(check, data.get("tiers"), packages_dir, debug_dir)
    milestones = _check_milestones(check, data.get("milestones", []), tiers, milestones_dir)
    lessons = _check_lessons(check, data.get("lessons"), tiers)
    check.raise_if_any()
    return Course(
        path=path,
        name=name,
        title=data["title"],
        audience=data["audience"],
        description=data.get("description", "").strip(),
        tiers=tuple(tiers),
        milestones=tuple(milestones),
        lessons=tuple(lessons),
        warnings=tuple(check.warnings),
    )


def _check_tiers(
    check: _Checker, table: object, packages_dir: Path, debug_dir: Path
) -> list[CourseTier]:
    if table is None:
        return []
    if not isinstance(table, dict) or not table:
        check.error("tiers", "must be a table with at least one tier ([tiers.foundation] ...)")
        return []
    found: dict[str, CourseTier] = {}
    for name, spec in table.items():
        key = f"tiers.{name}"
        if name not in KNOWN_TIERS:
            check.error(
                key, f"unknown tier (tiers: {_listing(KNOWN_TIERS)}){_suggest(name, KNOWN_TIERS)}"
            )
            continue
        if not isinstance(spec, dict):
            check.error(key, 'must be a table: version = "X.Y.Z", mode = "student"')
            continue
        check.unknown_keys(key, spec, _TIER_KEYS)
        version = spec.get("version")
        mode = spec.get("mode")
        if version is None:
            check.error(f"{key}.version", 'missing: pin the exact version, e.g. version = "0.2.0"')
        elif not isinstance(version, str) or not _EXACT_VERSION.fullmatch(version):
            check.error(
                f"{key}.version",
                f"{version!r} is not an exact version: a course pins one release, written "
                'with all three parts (e.g. "0.2.0"), never a range',
            )
            version = None
        if mode is None:
            check.error(f"{key}.mode", f"missing (one of {_listing(MODES)})")
        elif mode not in MODES:
            check.error(
                f"{key}.mode",
                f"{mode!r} is not a mode ({_listing(MODES)}){_suggest(str(mode), MODES)}",
            )
            mode = None
        bugs = _check_bugs(check, key, name, mode, spec.get("bugs"), debug_dir)
        directory = packages_dir / f"tinytorch-{name}"
        if not (directory / "pyproject.toml").is_file():
            check.not_in_tree(
                key,
                f"tinytorch-{name} is not in this tree yet ({directory} has no pyproject.toml); "
                "the course can be built once the tier lands",
            )
            continue
        tier = Tier.load(directory)
        if version is not None and version != tier.version:
            check.error(
                f"{key}.version",
                f"pins {version}, but the tree holds tinytorch-{name} {tier.version} "
                f"({directory / 'pyproject.toml'}): bundles are built from the tree, so pin "
                f"{tier.version}, or build from the commit tagged tinytorch-{name}-v{version}",
            )
        if version is not None and mode is not None:
            found[name] = CourseTier(name, version, mode, tier, bugs)
    ordered = [found[name] for name in KNOWN_TIERS if name in found]
    _check_lower_tiers(check, ordered, table)
    return ordered


def _check_bugs(
    check: _Checker, key: str, tier: str, mode: str | None, bugs: object, debug_dir: Path
) -> tuple[str, ...]:
    if bugs is None:
        if mode == "debug":
            check.error(
                f"{key}.bugs",
                f"a debug tier names the bugs to plant, from {debug_dir / (tier + '.toml')}",
            )
        return ()
    if mode != "debug":
        check.error(f"{key}.bugs", f"only a tier in debug mode has bugs (mode is {mode!r})")
        return ()
    if not isinstance(bugs, list) or not bugs or not all(isinstance(b, str) for b in bugs):
        check.error(f"{key}.bugs", "must be a non-empty list of bug ids")
        return ()
    from coursetools import debug  # a course file is read without the catalog unless it needs it

    try:
        catalog = debug.load_catalog(tier, debug_dir)
    except debug.CatalogError as error:
        check.error(f"{key}.bugs", str(error))
        return ()
    known = [bug.id for bug in catalog]
    for bug in bugs:
        if bug not in known:
            check.error(
                f"{key}.bugs",
                f"no bug {bug!r} in {debug_dir / (tier + '.toml')} (has {_listing(known)})"
                f"{_suggest(bug, known)}",
            )
    if len(set(bugs)) != len(bugs):
        check.error(f"{key}.bugs", "lists a bug more than once")
    return tuple(bugs)


def _check_lower_tiers(check: _Checker, tiers: list[CourseTier], table: dict) -> None:
    """Every tier's lower tiers are in the course, at versions inside its declared ranges."""
    pinned = {t.project: t for t in tiers}
    for course_tier in tiers:
        for requirement_text in course_tier.tier.dependencies:
            try:
                requirement = Requirement(requirement_text)
            except InvalidRequirement:
                continue
            lower = normalize(requirement.name)
            if not lower.startswith("tinytorch-"):
                continue
            short = lower.removeprefix("tinytorch-")
            where = course_tier.tier.root / "pyproject.toml"
            if lower not in pinned:
                if short in table:  # present in the file, but already reported as broken
                    continue
                check.error(
                    f"tiers.{course_tier.name}",
                    f"{course_tier.project} ({course_tier.mode}) stands on {lower} "
                    f"(it requires {requirement_text} in {where}), which the course leaves out: "
                    f'add [tiers.{short}] with mode = "solution" (a trusted wheel) or "student"',
                )
                continue
            version = pinned[lower].version
            if not requirement.specifier.contains(version, prereleases=True):
                check.error(
                    f"tiers.{short}.version",
                    f"{version} is outside the range {course_tier.project} declares on it "
                    f"({requirement_text}, in {where}): pin a version {course_tier.name} "
                    f"supports, or widen {course_tier.name}'s range and release it",
                )
            if course_tier.mode == "solution" and pinned[lower].mode != "solution":
                check.warn(
                    f"tiers.{course_tier.name}",
                    f"a solution wheel above a {pinned[lower].mode} tier ({short}): "
                    f"{course_tier.name}'s tests pass only once the learner's {short} works",
                )


def _check_milestones(
    check: _Checker, numbers: object, tiers: list[CourseTier], milestones_dir: Path
) -> list[Milestone]:
    if not isinstance(numbers, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in numbers
    ):
        check.error("milestones", "must be a list of milestone numbers, e.g. [1, 2, 3]")
        return []
    table = milestone_table(milestones_dir)
    in_course = {t.name for t in tiers}
    chosen = []
    if len(set(numbers)) != len(numbers):
        check.error("milestones", "lists a milestone more than once")
    for number in sorted(set(numbers)):
        if number not in table:
            check.error(
                "milestones", f"no milestone {number} (milestones: {_listing(map(str, table))})"
            )
            continue
        milestone = table[number]
        needed = KNOWN_TIERS[: KNOWN_TIERS.index(milestone.tier) + 1]
        absent = [t for t in needed if t not in in_course]
        if absent and tiers:
            check.error(
                "milestones",
                f"milestone {number} ({milestone.title}) trains on tinytorch-{milestone.tier}, "
                f"but the course leaves out {_listing('tinytorch-' + t for t in absent)}",
            )
            continue
        if not (milestones_dir / milestone.script).is_file():
            check.not_in_tree(
                "milestones",
                f"milestone {number} ({milestone.title}) is not in this tree yet "
                f"(no {milestones_dir / milestone.script})",
            )
            continue
        chosen.append(milestone)
    return chosen


def _check_lessons(
    check: _Checker, numbers: object, tiers: list[CourseTier]
) -> list[tuple[str, Path]]:
    owner: dict[int, CourseTier] = {}
    for course_tier in tiers:
        for number in course_tier.tier.module_names():
            owner[number] = course_tier
    if numbers is None:  # every lesson of the tiers the learners work on
        return [
            (t.name, lesson)
            for number, t in sorted(owner.items())
            if t.mode != "solution" and (lesson := t.tier.lesson_for(number)) is not None
        ]
    if not isinstance(numbers, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in numbers
    ):
        check.error("lessons", "must be a list of module numbers, e.g. [1, 2, 3]")
        return []
    chosen = []
    for number in sorted(set(numbers)):
        if number not in owner:
            check.error(
                "lessons",
                f"module {number:02d} belongs to none of the course's tiers "
                f"({_listing(t.name for t in tiers) or 'none'})",
            )
            continue
        lesson = owner[number].tier.lesson_for(number)
        if lesson is None:
            check.not_in_tree(
                "lessons",
                f"module {number:02d} has no lesson in this tree yet "
                f"(no {owner[number].tier.lessons}/{number:02d}_*.py)",
            )
            continue
        chosen.append((owner[number].name, lesson))
    return chosen


def describe(course: Course) -> str:
    """One paragraph: what the course holds."""
    tiers = ", ".join(f"{t.name} {t.version} ({t.mode})" for t in course.tiers)
    milestones = ", ".join(str(m.number) for m in course.milestones) or "none"
    return (
        f"{course.name}: {tiers}; milestones {milestones}; {len(course.lessons)} lesson(s)"
        + "".join(f"\n  warning: {w}" for w in course.warnings)
    )


def schema_problems(path: Path, schema_file: Path = COURSES_DIR / "schema.json") -> list[str]:
    """What ``courses/schema.json`` (the editors' view of the format) says about a file.

    Needs ``jsonschema``; kept in step with :func:`load` by the tests and ``nox -s courses``.
    """
    import json

    import jsonschema

    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{path}: schema: {'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(data)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.courses", description="Check course files against the tree."
    )
    parser.add_argument(
        "files", nargs="*", type=Path, help="course files (default: courses/*.toml)"
    )
    parser.add_argument(
        "--schema", action="store_true", help="also check each file against courses/schema.json"
    )
    args = parser.parse_args(argv)
    status = 0
    for path in args.files or course_files():
        if args.schema and path.is_file():
            problems = schema_problems(path)
            for problem in problems:
                print(problem, file=sys.stderr)
            status = 1 if problems else status
        try:
            course = load(path)
        except NotInTreeError as error:
            print(f"{path}: waits for the tree:\n{error}", file=sys.stderr)
            status = max(status, 1)
            continue
        except CourseError as error:
            print(error, file=sys.stderr)
            status = 1
            continue
        print(f"ok  {describe(course)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
