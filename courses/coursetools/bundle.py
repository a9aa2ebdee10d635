"""Course bundles: one reproducible, offline-installable zip per course file.

``build(courses/NAME.toml)`` writes ``dist/courses/NAME-<tier><version>....zip`` holding
one folder of the same name::

    README.md               for learners: what is here, how to work, test and grade
    noxfile.py              sessions test, grade, milestone (courses/templates/bundle_noxfile.py)
    course.toml             the course file it was built from
    bundle.lock.json        exact versions; sha256 of every wheel and of every file
    <tier>/                 a student tree (student mode) or a debug tree (debug mode)
    wheels/                 wheels of the solution tiers, and constraints.txt pinning them
    trusted/<tier>/tests/   the shipped tests of each solution tier (``nox -s test`` runs them)
    lessons/<tier>/*.ipynb  the course's lessons as notebooks (student edition, except for
                            solution tiers)
    milestones/             the runner, the course's milestone scripts and what they import
    grading/                the grader (coursetools) and points.json: points per module
    .github/workflows/classroom.yml   grades every push (GitHub Classroom convention)

The data the milestones train on ships inside the foundation tier (package data of
``tinytorch.datasets``, in its tree or wheel); the lock lists each file and its sha256.

Reproducible byte for byte: wheels are built with ``SOURCE_DATE_EPOCH`` (default
2025-01-01, the date of the student trees' commits) by the build backend pinned in
``courses/templates/build-constraints.txt``; zip entries are sorted, dated
``SOURCE_DATE_EPOCH`` and stored with fixed permissions (0644) and no directory entries,
and notebooks get cell ids from their position. The same tree and toolchain (hatchling,
jupytext, zlib; recorded in the lock) give the same bytes.

Before a bundle is written it is checked: no line of any student tier's solution leaks
into it (:mod:`coursetools.leaks`, over every file, inside wheels and notebooks too); a
debug tier's bugs are all applied, the patched-away text is gone, the instructor's
notes are not inside, and the shipped tests fail on the bugged tree while each bug is
caught on its own (:func:`coursetools.debug.check_catalog`). A debug bundle's
instructor notes are written next to the zip (``NAME-....instructor.md``), never into it;
so are the answer keys of its learner trees (``NAME-....answers.json``, mode 0600, see
:mod:`coursetools.answers`), with which ``nox -s grade-batch`` grades submissions.

:func:`read_bundle` and :func:`safe_extract` open a bundle (or any learner zip) and
refuse entries with absolute paths, ``..`` components or symlinks, and zips with too
many entries or too many uncompressed bytes (:class:`ZipLimits`), before extracting
anything.

Command line::

    python -m coursetools.bundle courses/NAME.toml [...] [--out DIR] [--no-bug-check]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from coursetools import answers, courses, debug, leaks, shipping
from coursetools.files import atomic_write, write_atomic
from coursetools.points import CURRICULUM
from coursetools.student import generate_student_tree, student_files
from coursetools.tiers import COURSES_DIR, REPO_ROOT, Tier, lower_tiers

DIST = REPO_ROOT / "dist" / "courses"
TEMPLATES = COURSES_DIR / "templates"
MILESTONES_DIR = REPO_ROOT / "milestones"
LESSONS_TOOL = REPO_ROOT / "tools" / "lessons.py"
LOCK_NAME = "bundle.lock.json"
BUILD_CONSTRAINTS = TEMPLATES / "build-constraints.txt"  # the pinned build backend
DEFAULT_EPOCH = 1735689600  # 2025-01-01T00:00:00Z
ZIP_EPOCH_MIN = 315532800  # 1980-01-01: zip cannot date anything earlier
TEST_TOOLS = ("pytest>=8", "hypothesis>=6")
BUILD_TOOLS = (
    "hatchling>=1.25",
    "editables>=0.5",
)  # editable installs of trees run without build isolation
#: What a learner tree's ``tinytorch`` command needs besides the test tools (its extra).
LEARNER_TOOLS = ("rich>=13", "jupytext>=1.16", "matplotlib>=3.7")
MILESTONE_TOOLS = ("matplotlib>=3.7", "tqdm>=4.60")
#: Loader functions of ``tinytorch.datasets`` -> the data files they read.
DATASET_FILES = {
    "load_tinydigits": ("tinydigits.npz",),
    "load_tinytalks": ("tinytalks/",),
    "load_tinytalks_rows": ("tinytalks/",),
}
_DATA_PREFIX = "tinytorch/datasets/data/"


class BundleError(RuntimeError):
    """A bundle that must not be handed out; nothing was written."""


class UnsafeArchiveError(BundleError):
    """A zip entry that would land outside the folder it is extracted into."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    course: courses.Course
    lock: dict
    size: int
    instructor_notes: Path | None


def source_date_epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- zip files


def write_zip(files: dict[str, bytes], path: Path, top: str, epoch: int) -> None:
    """Write ``files`` under ``top/`` into ``path``: sorted, fixed dates and permissions.

    Written to a temporary name and renamed into place, so a reader never sees half a zip.
    """
    date_time = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as file, zipfile.ZipFile(file, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=date_time)
            info.create_system = 3  # Unix, so that the permissions below are read
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)


@dataclass(frozen=True)
class ZipLimits:
    """What a zip may hold before anything of it is read: entries and uncompressed bytes."""

    entries: int = 50_000
    entry_bytes: int = 512 << 20
    total_bytes: int = 2 << 30


def _check_entry(archive_name: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    reason = None
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        reason = "it is an absolute path"
    elif ".." in re.split(r"[/\\]", name):
        reason = "it has a '..' component"
    elif "\\" in name:
        reason = "it has a backslash (a Windows path separator)"
    elif stat.S_ISLNK(info.external_attr >> 16):
        reason = "it is a symbolic link"
    if reason:
        raise UnsafeArchiveError(
            f"{archive_name}: refusing entry {name!r}: {reason}, so it could write outside "
            "the folder it is extracted into"
        )


def _checked_entries(
    archive: zipfile.ZipFile, name: str, limits: ZipLimits
) -> list[zipfile.ZipInfo]:
    """The archive's file entries once every name and declared size is acceptable.

    Only the central directory is read. A declared size that lies is caught while
    reading: :mod:`zipfile` never returns more than the declared bytes of an entry
    and fails its CRC check when the data does not match.
    """
    infos = archive.infolist()
    if len(infos) > limits.entries:
        raise UnsafeArchiveError(f"{name}: {len(infos)} entries, more than {limits.entries}")
    for info in infos:
        _check_entry(name, info)
        if info.file_size > limits.entry_bytes:
            raise UnsafeArchiveError(
                f"{name}: entry {info.filename!r} unpacks to {info.file_size} bytes, "
                f"more than {limits.entry_bytes}"
            )
    total = sum(info.file_size for info in infos)
    if total > limits.total_bytes:
        raise UnsafeArchiveError(
            f"{name}: unpacks to {total} bytes, more than {limits.total_bytes}"
        )
    return [info for info in infos if not info.is_dir()]


def read_bundle(path: Path | str, limits: ZipLimits = ZipLimits()) -> dict[str, bytes]:
    """Every file of a zip (name -> bytes), after checking every entry is safe."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        infos = _checked_entries(archive, str(path), limits)
        return {info.filename: archive.read(info) for info in infos}


def safe_extract(path: Path | str, dest: Path | str, limits: ZipLimits = ZipLimits()) -> Path:
    """Extract a zip into ``dest`` once every entry has been checked; return ``dest``.

    Entries are streamed to disk in chunks: memory stays small whatever the zip holds.
    """
    dest = Path(dest)
    root = dest.resolve()
    with zipfile.ZipFile(path) as archive:
        for info in _checked_entries(archive, str(path), limits):
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(root):  # belt and braces after _check_entry
                raise UnsafeArchiveError(
                    f"{path}: refusing entry {info.filename!r}: it leaves {dest}"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
    return dest


# ----------------------------------------------------------------------------- parts


def build_wheel(tier: Tier, out: Path, epoch: int) -> Path:
    """Build the tier's wheel reproducibly (``SOURCE_DATE_EPOCH``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(epoch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PIP_CONSTRAINT": str(BUILD_CONSTRAINTS),  # `python -m build` installs through pip
    }
    uv = shutil.which("uv")
    if uv:
        command = [uv, "build", "--quiet", "--wheel", "--out-dir", str(out), str(tier.root)]
        command += ["--build-constraints", str(BUILD_CONSTRAINTS)]
    else:
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(tier.root)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(f"building the wheel of {tier.project} failed:\n{result.stderr}")
    stem = tier.project.replace("-", "_")
    wheels = sorted(out.glob(f"{stem}-{tier.version}-*.whl"))
    if len(wheels) != 1:
        raise BundleError(f"expected one wheel of {tier.project} {tier.version} in {out}")
    return wheels[0]


def _wheel_generator(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/WHEEL"))
        for line in wheel.read(name).decode("utf-8").splitlines():
            if line.startswith("Generator:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


@functools.cache
def _lessons_tool():
    """``tools/lessons.py``, whose ``to_notebook`` turns a lesson into a notebook."""
    return courses.load_script(LESSONS_TOOL, "_tinytorch_lessons_tool")


def lesson_notebook(text: str, name: str) -> bytes:
    """A percent-format lesson as ``.ipynb`` bytes (jupytext), cell ids from their position."""
    import jupytext

    with tempfile.TemporaryDirectory(prefix="coursetools-lesson-") as scratch:
        source = Path(scratch) / name
        source.write_text(text, encoding="utf-8")
        notebook = _lessons_tool().to_notebook(source)
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", Path(name).stem)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{stem}-{index:03d}"
    return jupytext.writes(notebook, fmt="ipynb").encode("utf-8")


def milestone_scripts(chosen: list[courses.Milestone]) -> list[str]:
    """The chosen milestone scripts and every milestone script they import, sorted."""
    try:
        return shipping.milestone_scripts([m.script for m in chosen])
    except FileNotFoundError as error:
        raise BundleError(str(error)) from None


def _student_tree(tier: Tier, scratch: Path) -> dict[str, bytes]:
    """The student tree (as ``nox -s student`` makes it, with its extras), without ``.git``."""
    tree = generate_student_tree(tier.root, scratch, extra_files=shipping.tree_extras(tier))
    return {
        path.relative_to(tree).as_posix(): path.read_bytes()
        for path in sorted(tree.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(tree).parts
    }


def _points(course: courses.Course) -> dict:
    """Points per module of every tree the learners work on, with the tests that grade it."""
    table = {}
    for course_tier in course.tiers:
        if course_tier.mode == "solution":
            continue
        modules = {}
        for number, found in course_tier.tier.module_tests().items():
            paths = found if isinstance(found, list) else [found]  # one or several files
            spec = CURRICULUM.get(number)
            modules[f"{number:02d}"] = {
                "module": spec.name if spec else paths[0].stem,
                "tests": [f"{course_tier.name}/tests/{p.name}" for p in paths],
                "points": spec.points if spec else 0,
                "seconds_per_test": spec.timeout if spec else 60,
            }
        table[course_tier.name] = modules
    return table


def bundle_files(
    course: courses.Course, scratch: Path, epoch: int
) -> tuple[dict[str, bytes], dict]:
    """Every file of the bundle (relative to its top folder) and its lock."""
    files: dict[str, bytes] = {}
    locked_tiers = []
    third_party: set[str] = set()
    tools = {"jupytext": _version("jupytext"), "uv": _uv_version()}
    for course_tier in course.tiers:
        tier = course_tier.tier
        entry = {
            "tier": course_tier.name,
            "project": tier.project,
            "version": course_tier.version,
            "mode": course_tier.mode,
            "requires": list(tier.dependencies),
            "subpackages": tier.subpackages(),
        }
        third_party |= {d for d in tier.dependencies if not d.startswith("tinytorch-")}
        if course_tier.mode == "solution":
            wheel = build_wheel(tier, scratch / "wheels", epoch)
            data = wheel.read_bytes()
            files[f"wheels/{wheel.name}"] = data
            entry["wheel"] = {
                "file": f"wheels/{wheel.name}",
                "sha256": sha256(data),
                "size": len(data),
                "generator": _wheel_generator(data),
            }
            trusted = f"trusted/{course_tier.name}"
            for relative, content in {
                **student_files(tier),
                **shipping.support_files(tier),
            }.items():
                if not relative.startswith(("src/", "lessons/")) and "/" in relative:
                    files[f"{trusted}/{relative}"] = content
            entry["tests"] = f"{trusted}/tests"
        elif course_tier.mode == "student":
            tree = _student_tree(tier, scratch / "student")
            files.update({f"{course_tier.name}/{name}": data for name, data in tree.items()})
            entry["tree"] = course_tier.name
        else:
            bugs = debug.select(debug.load_catalog(course_tier.name), course_tier.bugs)
            tree = {**debug.debug_tree_files(tier, bugs), **shipping.tree_extras(tier)}
            files.update({f"{course_tier.name}/{name}": data for name, data in tree.items()})
            entry["tree"] = course_tier.name
            entry["bugs"] = len(bugs)
        locked_tiers.append(entry)
    shipping.share_learn(files, [t["tree"] for t in locked_tiers if "tree" in t])

    lessons = []
    for tier_name, lesson in course.lessons:
        course_tier = course.tier(tier_name)
        relative = lesson.relative_to(course_tier.tier.root).as_posix()
        if course_tier.mode == "solution":
            text = lesson.read_text(encoding="utf-8")
        else:  # the student edition, exactly as in the learner's tree
            text = files[f"{tier_name}/{relative}"].decode("utf-8")
        target = f"lessons/{tier_name}/{lesson.stem}.ipynb"
        files[target] = lesson_notebook(text, lesson.name)
        lessons.append(target)

    scripts = milestone_scripts(list(course.milestones))
    if scripts:
        for name in ("run.py", "common.py", "identify.py", *scripts):
            files[f"milestones/{name}"] = (MILESTONES_DIR / name).read_bytes()
    data_files = _milestone_data(course, files, scripts)

    files.update(shipping.grader_files())
    files["grading/points.json"] = _json(_points(course))
    files["grading/check_install.py"] = (TEMPLATES / "check_install.py").read_bytes()
    files["noxfile.py"] = (TEMPLATES / "bundle_noxfile.py").read_bytes()
    files[".github/workflows/classroom.yml"] = (TEMPLATES / "classroom-bundle.yml").read_bytes()
    files[".gitignore"] = (TEMPLATES / "gitignore").read_bytes()
    files["course.toml"] = learner_course_file(course).encode("utf-8")
    files["curriculum.toml"] = shipping.MANIFEST.read_bytes()  # the lessons find their tests
    pins = [f"{t['project']}=={t['version']}\n" for t in locked_tiers if t["mode"] == "solution"]
    if pins:
        files["wheels/constraints.txt"] = "".join(pins).encode("utf-8")
    has_trees = any(t["mode"] != "solution" for t in locked_tiers)
    lock = {
        "lock_version": 1,
        "course": {
            "name": course.name,
            "title": course.title,
            "file": "course.toml",
            "source_sha256": sha256(course.path.read_bytes()),
        },
        "bundle": course.bundle_name,
        "source_date_epoch": epoch,
        "python": ">=3.10",
        "tiers": locked_tiers,
        "requirements": {
            "third_party": sorted(third_party),
            "tools": [*TEST_TOOLS, *((*BUILD_TOOLS, *LEARNER_TOOLS) if has_trees else ())],
            "milestone": list(MILESTONE_TOOLS),
        },
        "milestones": [
            {"number": m.number, "title": m.title, "script": f"milestones/{m.script}"}
            for m in course.milestones
        ],
        "data": data_files,
        "lessons": lessons,
        "built_with": tools,
    }
    files["README.md"] = readme(course, lock).encode("utf-8")
    lock["files"] = {name: sha256(data) for name, data in sorted(files.items())}
    return files, lock


def learner_course_file(course: courses.Course) -> str:
    """The course file as the bundle shows it: canonical, and without any debug tier's bugs.

    (The lock keeps the sha256 of the instructor's original file.)
    """
    lines = [
        "# The course this bundle was built from. The bugs of a debug tier are left out.",
        f"name = {json.dumps(course.name)}",
        f"title = {json.dumps(course.title)}",
        f"audience = {json.dumps(course.audience)}",
    ]
    if course.description:
        lines.append(f"description = {json.dumps(course.description, ensure_ascii=False)}")
    lines.append(f"milestones = {json.dumps([m.number for m in course.milestones])}")
    for course_tier in course.tiers:
        lines += [
            "",
            f"[tiers.{course_tier.name}]",
            f"version = {json.dumps(course_tier.version)}",
            f"mode = {json.dumps(course_tier.mode)}",
        ]
        if course_tier.bugs:
            lines.append(f"# {len(course_tier.bugs)} bug(s) planted")
    return "\n".join(lines) + "\n"


def _milestone_data(course: courses.Course, files: dict[str, bytes], scripts: list[str]) -> list:
    """The data files the milestones load, where they are in the bundle, and their sha256."""
    wanted: set[str] = set()
    for script in scripts:
        text = files[f"milestones/{script}"].decode("utf-8")
        for loader, names in DATASET_FILES.items():
            if re.search(rf"\b{loader}\b", text):
                wanted.update(names)
    if not wanted:
        return []
    foundation = course.tier("foundation")
    found = []
    if foundation.mode == "solution":
        wheel_name = next(t for t in files if t.startswith("wheels/tinytorch_foundation-"))
        with zipfile.ZipFile(io.BytesIO(files[wheel_name])) as wheel:
            members = {n: wheel.read(n) for n in wheel.namelist() if n.startswith(_DATA_PREFIX)}
        where = {f"{wheel_name}!{name}": data for name, data in members.items()}
    else:
        prefix = f"foundation/src/{_DATA_PREFIX}"
        where = {name: data for name, data in files.items() if name.startswith(prefix)}
    for want in sorted(wanted):
        matches = {n: d for n, d in where.items() if n.split(_DATA_PREFIX, 1)[1].startswith(want)}
        if not matches:
            raise BundleError(f"the milestones need dataset file {want!r}, which is not bundled")
        found += [
            {"file": n, "sha256": sha256(d), "size": len(d)} for n, d in sorted(matches.items())
        ]
    return found


def _json(payload: object) -> bytes:
    return (json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _uv_version() -> str:
    uv = shutil.which("uv")
    if not uv:
        return "not used"
    printed = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()
    return printed[1] if len(printed) > 1 else "unknown"


def readme(course: courses.Course, lock: dict) -> str:
    """The learner's README of the bundle."""
    rows = []
    for entry in lock["tiers"]:
        if entry["mode"] == "student":
            where = f"`{entry['tree']}/`: your tree, implement it"
        elif entry["mode"] == "debug":
            where = f"`{entry['tree']}/`: complete, with bugs planted; find and fix them"
        else:
            where = f"`{entry['wheel']['file']}`: trusted, installed as it is"
        rows.append(f"| {entry['project']} | {entry['version']} | {entry['mode']} | {where} |")
    milestones = "\n".join(f"- {m['number']}. {m['title']}" for m in lock["milestones"]) or "- none"
    lessons = "\n".join(f"- `{name}`" for name in lock["lessons"]) or "- none in this course"
    yours = [e["tree"] for e in lock["tiers"] if e["mode"] != "solution"]
    description = f"\n{course.description}\n" if course.description else ""
    return f"""# {course.title}

For: {course.audience}
{description}
This folder is the whole course: nothing else needs downloading but common Python
packages (numpy, pytest, ...) from your usual package index. The TinyTorch tiers are
installed from this folder only.

| tier | version | mode | where |
| --- | --- | --- | --- |
{chr(10).join(rows)}

## Start

In a virtual environment (Python 3.10 or newer), from this folder — about a minute:

```bash
python -m venv .venv && source .venv/bin/activate   # Windows: .venv\\Scripts\\activate
pip install {_quoted(lock["requirements"]["third_party"] + lock["requirements"]["tools"])}
{_manual_install(lock)}
```
{_learner_start(yours, lock)}
## Lessons

{lessons}

## Milestones

{milestones}

## Grading

{_grading(yours)}
## What is in this folder

{_contents(lock)}
"""


def _learner_start(yours: list[str], lock: dict) -> str:
    """How a learner begins: the ``tinytorch`` command their tree brings, and the lessons."""
    if not yours:
        return (
            "\nEvery tier here is a trusted solution: `python -m pytest trusted/<tier>/tests -q` "
            "runs its tests; `python milestones/run.py` runs the milestones.\n\n"
        )
    first = yours[0]
    notebooks = (
        "\nThe notebooks in `lessons/` are the same lessons: `jupyter lab lessons` (in the same\n"
        "environment, after `pip install jupyterlab`) opens them, and each runs your tree's\n"
        "tests for its module in its last Use cell.\n"
        if lock["lessons"]
        else ""
    )
    return f"""
Then work inside your tree:

```bash
cd {first}
tinytorch status        # each module's state, the milestones unlocked, the one next step
```

`tinytorch test 01` runs one module's tests and shows the first failure with the lesson
to read; `tinytorch lab 01` opens Module 01's lesson as a notebook in Jupyter (`pip
install jupyterlab` first) against your own code; `tinytorch milestone 1` runs a
milestone once the modules it needs are complete; `tinytorch grade` estimates your
grade; `tinytorch doctor` says what to fix in your set-up. Keep this bundle's zip:
`tinytorch update NEWER.zip --started-from THIS.zip` merges a newer release of the course
into your tree without losing your code.
{notebooks}
With nox instead (`pip install nox uv`): `nox -s test`, `nox -s grade`, `nox -s milestone`.

"""


def _grading(yours: list[str]) -> str:
    if not yours:
        return "Nothing here is graded: every tier is a trusted solution.\n"
    return """`tinytorch grade` (or `nox -s grade`) runs each module's tests on the code in your
tree and gives the module the share of its points (`grading/points.json`) that its passing
tests make of its graded tests; tests that pass before you write anything carry no
points, so an untouched tree scores 0. Pushed to GitHub,
`.github/workflows/classroom.yml` does the same on every push and shows the table in the
run's summary. That is an estimate for you: your course grade comes from your
instructor's graded checks, which run your code on inputs of their own and compare what
it computes with answers you do not have.
"""


def _contents(lock: dict) -> str:
    """One line per folder this bundle really holds."""
    lines = [
        "- `bundle.lock.json`: the exact version of every tier and the sha256 of every file"
        + ("" if not any("wheel" in e for e in lock["tiers"]) else " and wheel")
        + ";\n  `course.toml`: the course; `curriculum.toml`: every module and milestone.",
    ]
    for entry in lock["tiers"]:
        if "tree" in entry:
            lines.append(
                f"- `{entry['tree']}/`: your tree ({entry['mode']} edition of {entry['project']})."
            )
    if any("wheel" in e for e in lock["tiers"]):
        lines.append(
            "- `wheels/`: the solution tiers (with `constraints.txt` pinning them); "
            "`trusted/`: their tests."
        )
    if lock["lessons"]:
        lines.append("- `lessons/`: the lessons as notebooks.")
    if lock["milestones"]:
        lines.append(
            "- `milestones/`: the milestone scripts; their data ships inside the foundation tier."
        )
    lines.append("- `grading/`: the formative grader and the points per module.")
    return "\n".join(lines)


def _quoted(requirements: list[str]) -> str:
    return " ".join(f'"{r}"' for r in requirements)


def _manual_install(lock: dict) -> str:
    lines = []
    wheels = [e["wheel"]["file"] for e in lock["tiers"] if e["mode"] == "solution"]
    if wheels:
        lines.append(f"pip install --no-index --find-links wheels {' '.join(wheels)}")
    local = "--no-index --find-links wheels" if wheels else "--no-index"
    for entry in lock["tiers"]:
        if entry["mode"] != "solution":
            lines.append(f"pip install {local} --no-build-isolation -e {entry['tree']}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- checks


def check_bundle(
    course: courses.Course, files: dict[str, bytes], zip_path: Path, check_bugs: bool = True
) -> None:
    """Refuse a bundle that leaks a solution or a debug tier's fixes and notes."""
    problems = []
    trees = {t.name for t in course.tiers if t.mode != "solution"}
    tooling = [
        data.decode("utf-8", "replace") for name, data in files.items() if _tooling(name, trees)
    ]
    for course_tier in course.tiers:
        if course_tier.mode == "student":
            # What the bundle shows of the other tiers is public too: a line of this tier's
            # solution that the learner can read in another tier's code reveals nothing.
            others = _tier_texts(files, {t.name for t in course.tiers} - {course_tier.name})
            public = tooling + others
            found = leaks.find_leaks(zip_path, leaks.tier_secrets(course_tier.tier, public))
            problems += [f"LEAK {leak}" for leak in found]
        elif course_tier.mode == "debug":
            problems += _check_debug_tier(course_tier, files, check_bugs)
    if problems:
        raise BundleError(f"{zip_path.name} must not be handed out:\n" + "\n".join(problems))


def _tooling(name: str, trees: set[str]) -> bool:
    """Files the course tooling adds (grader, runner, the learner's command, milestones),
    not made from a tier."""
    parts = name.split("/")
    if len(parts) == 1:
        return name != LOCK_NAME
    if parts[0] in trees:
        return parts[1] in ("grading", "learn", ".github", "scripts", ".gitignore")
    return parts[0] in ("grading", "learn", "milestones", ".github")


def _tier_texts(files: dict[str, bytes], tiers: set[str]) -> list[str]:
    """The text of every bundle file made from one of ``tiers`` (wheels unpacked)."""
    texts = []
    for name, data in files.items():
        parts = name.split("/")
        owner = parts[1] if parts[0] in ("trusted", "lessons") and len(parts) > 2 else parts[0]
        if parts[0] == "wheels" and name.endswith(".whl"):
            owner = parts[1].split("-", 1)[0].removeprefix("tinytorch_")
            if owner in tiers:
                with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                    texts += [wheel.read(n).decode("utf-8", "replace") for n in wheel.namelist()]
            continue
        if owner in tiers:
            texts.append(data.decode("utf-8", "replace"))
    return texts


def _check_debug_tier(course_tier: courses.CourseTier, files: dict[str, bytes], run: bool) -> list:
    problems = []
    bugs = debug.select(debug.load_catalog(course_tier.name), course_tier.bugs)
    everything = b"\n".join(files.values()).decode("utf-8", errors="replace")
    for bug in bugs:
        shipped = files[f"{course_tier.name}/{bug.file}"].decode("utf-8")
        if not all(patch.replace in shipped for patch in bug.patches):
            problems.append(f"bug {bug.id}: not applied in {course_tier.name}/{bug.file}")
        if any(patch.find in shipped for patch in bug.patches):
            problems.append(f"bug {bug.id}: the fixed text is still in {bug.file}")
        for note in (bug.symptom, bug.hint):
            if note[:60] in everything:
                problems.append(f"bug {bug.id}: the instructor's notes are inside the bundle")
    if run and not problems:
        checks = debug.check_catalog(course_tier.tier.root, bugs)
        problems += [f"bug {c.bug.id} is caught by no shipped test" for c in checks if not c.caught]
    return problems


def instructor_notes(course: courses.Course) -> str | None:
    """For a course with debug tiers: which bugs were planted, their symptoms and hints."""
    debug_tiers = [t for t in course.tiers if t.mode == "debug"]
    if not debug_tiers:
        return None
    out = [
        f"# {course.title}: instructor notes",
        "",
        f"Bundle `{course.bundle_name}.zip`. Keep this page away from learners.",
    ]
    for course_tier in debug_tiers:
        bugs = debug.select(debug.load_catalog(course_tier.name), course_tier.bugs)
        out += ["", f"## {course_tier.project} {course_tier.version}: {len(bugs)} bug(s)", ""]
        for bug in bugs:
            out += [
                f"### `{bug.id}` — {bug.title}",
                "",
                f"- Module {bug.module:02d}, `{bug.file}`",
                f"- Symptom: {bug.symptom}",
                f"- Hint: {bug.hint}",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


# ----------------------------------------------------------------------------- build


def build(
    course_path: Path | str,
    out_dir: Path | str = DIST,
    epoch: int | None = None,
    check_bugs: bool = True,
) -> Bundle:
    """Validate the course, assemble, check and write its bundle; return what was written."""
    course = courses.load(course_path)
    epoch = source_date_epoch() if epoch is None else epoch
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="coursetools-bundle-") as scratch:
        files, lock = bundle_files(course, Path(scratch), epoch)
        files[LOCK_NAME] = _json(lock)
        candidate = Path(scratch) / f"{course.bundle_name}.zip"
        write_zip(files, candidate, course.bundle_name, epoch)
        check_bundle(course, files, candidate, check_bugs)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / candidate.name
        with candidate.open("rb") as source, atomic_write(target, "wb") as file:
            shutil.copyfileobj(source, file)
    notes_text = instructor_notes(course)
    notes = None
    if notes_text:
        notes = out_dir / f"{course.bundle_name}.instructor.md"
        write_atomic(notes, notes_text)
    answer_keys(course, out_dir / f"{course.bundle_name}.answers.json")
    return Bundle(target, course, lock, target.stat().st_size, notes)


def answer_keys(course: courses.Course, path: Path) -> Path | None:
    """The answer keys of the course's learner trees, next to the bundle (never inside it).

    ``nox -s grade-batch -- DIR --key PATH`` grades the learners' submissions with them.
    """
    keys = []
    for course_tier in course.tiers:
        if course_tier.mode == "solution":
            continue
        start = None
        if course_tier.mode != "student":  # a debug tree: the solution with its bugs
            bugs = debug.select(debug.load_catalog(course_tier.name), course_tier.bugs)
            start = debug.debug_tree_files(course_tier.tier, bugs)
        keys.append(answers.record(course_tier.tier, lower_tiers(course_tier.tier), start=start))
    return answers.save(keys, path) if keys else None


def summary(bundle: Bundle) -> str:
    """What a bundle holds, in a few lines (for the build log and release notes)."""
    lock = bundle.lock
    counts: dict[str, int] = {}
    for name in lock["files"]:
        head = name.split("/", 1)[0] if "/" in name else "(top)"
        counts[head] = counts.get(head, 0) + 1
    tiers = ", ".join(f"{t['tier']} {t['version']} ({t['mode']})" for t in lock["tiers"])
    parts = ", ".join(f"{head} {n}" for head, n in sorted(counts.items()))
    return (
        f"{bundle.path} ({bundle.size / 1024:.0f} KiB, {len(lock['files']) + 1} files)\n"
        f"  tiers: {tiers}\n"
        f"  milestones: {', '.join(str(m['number']) for m in lock['milestones']) or 'none'}; "
        f"lessons: {len(lock['lessons'])}; wheels: "
        f"{sum(1 for t in lock['tiers'] if 'wheel' in t)}; data files: {len(lock['data'])}\n"
        f"  files by folder: {parts}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.bundle", description="Build course bundles."
    )
    parser.add_argument("courses", nargs="*", type=Path, help="course files (default: all)")
    parser.add_argument("--out", type=Path, default=DIST, help="output folder (dist/courses)")
    parser.add_argument(
        "--no-bug-check",
        action="store_true",
        help="debug tiers: skip running the tests per bug (patches are still checked)",
    )
    args = parser.parse_args(argv)
    status = 0
    for path in args.courses or courses.course_files():
        try:
            bundle = build(path, args.out, check_bugs=not args.no_bug_check)
        except courses.NotInTreeError as error:
            print(f"{path}: not built, it waits for the tree:\n{error}", file=sys.stderr)
            status = 1
            continue
        except (courses.CourseError, BundleError, debug.CatalogError) as error:
            print(f"{path}: not built:\n{error}", file=sys.stderr)
            status = 1
            continue
        print(summary(bundle))
        if bundle.instructor_notes:
            print(f"  instructor notes (not in the bundle): {bundle.instructor_notes}")
    return status


if __name__ == "__main__":
    sys.exit(main())
