"""Grade a folder of learner submissions into one gradebook (CSV and JSON).

``nox -s grade-batch -- DIR`` grades every submission in ``DIR``: a student tree (a
folder with ``pyproject.toml``), a course bundle (a folder with ``bundle.lock.json``,
whose trees are graded in tier order), a folder holding one of those (a clone), or a
``.zip`` of any of them.

Submissions are data until proven otherwise. Before anything is graded:

* a zip's central directory is checked (entry count, declared and total uncompressed
  size, no absolute path, ``..``, backslash or symbolic link) before a byte is
  extracted, and extraction streams with a byte budget (:class:`SubmissionLimits`);
* a folder is walked without following links: it must hold only regular files and
  folders, within the same limits;
* a ``bundle.lock.json`` must be a small JSON object whose trees are folders inside
  the submission.

A submission that fails any of this is one ``error`` row that says why; the batch goes
on. Each tree is then graded by :func:`coursetools.grading.grade` in a sandboxed
worker, up to ``--jobs`` at once (default: one per core), each with its own sandbox
slot. The tiers below a tree are the submission's own trees when it has them (a bundle),
else the monorepo's solution tiers.

Answer keys: ``--key FILE`` (written next to a course bundle by ``nox -s bundle``), or
by default recorded from this monorepo's tiers (``build/answers/``).

Output (``--out``, default ``build/grades``, never inside ``DIR``): ``gradebook.csv``
(submission, tier, version, status, points, max points, the points of each module,
seconds, the first failure or what went wrong), ``gradebook.json`` (the same rows and
each tree's full report) and ``reports/<submission>-<hash>-<tier>.json``, whose names
are unique per submission. All are written atomically, by this process only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import queue
import re
import stat
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from coursetools import answers, grading, sandbox
from coursetools.bundle import BundleError, ZipLimits, safe_extract
from coursetools.files import write_atomic
from coursetools.tiers import PACKAGES_DIR, REPO_ROOT, resolve_tier, tomllib

LOCK_NAME = "bundle.lock.json"
MAX_LOCK_BYTES = 1 << 20
MAX_PYPROJECT_BYTES = 1 << 20


@dataclass(frozen=True)
class SubmissionLimits:
    """The most one submission may hold (zipped or not)."""

    files: int = 20_000
    file_bytes: int = 64 << 20
    total_bytes: int = 256 << 20


class SubmissionError(ValueError):
    """A submission that cannot be graded; the message says why."""


@dataclass(frozen=True)
class Tree:
    """One learner tree of a submission, and the submission's other trees by project."""

    submission: str
    path: Path
    project: str
    version: str
    siblings: dict[str, Path]


@dataclass
class Row:
    submission: str
    tier: str = ""
    project: str = ""
    version: str = ""
    status: str = "graded"  # graded or error
    points: float = 0.0
    max_points: int = 0
    modules: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0
    report: dict | None = None


# ----------------------------------------------------------------------------- submissions


def open_submission(entry: Path, scratch: Path, limits: SubmissionLimits) -> Path:
    """The folder to grade for one entry of the submissions folder (zips extracted)."""
    if entry.is_symlink():
        raise SubmissionError("it is a symbolic link")
    if entry.is_dir():
        _check_folder(entry, limits)
        return entry
    if entry.suffix != ".zip":
        raise SubmissionError("not a folder or a .zip")
    zip_limits = ZipLimits(limits.files, limits.file_bytes, limits.total_bytes)
    try:
        return safe_extract(entry, scratch, zip_limits)
    except BundleError as error:  # its message names the zip already
        raise SubmissionError(str(error)) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SubmissionError(f"{entry.name}: {error}") from None


def _check_folder(folder: Path, limits: SubmissionLimits) -> None:
    """Only regular files and folders, no links, within the limits; nothing is read."""
    files = total = 0
    for parent, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(parent, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise SubmissionError(f"{path.relative_to(folder)} is not a regular file or folder")
            if stat.S_ISREG(mode):
                files, size = files + 1, path.lstat().st_size
                total += size
                if size > limits.file_bytes or files > limits.files or total > limits.total_bytes:
                    raise SubmissionError(
                        f"more than {limits.files} files, {limits.file_bytes} bytes in one "
                        f"file or {limits.total_bytes} bytes in all"
                    )


def find_trees(root: Path, name: str) -> list[Tree]:
    """The learner trees of one submission folder, lowest tier first."""
    root = root.resolve()
    lock = root / LOCK_NAME
    if lock.is_file():
        paths = _lock_trees(root, lock)
    elif (root / "pyproject.toml").is_file():
        paths = [root]
    else:
        children = [c for c in sorted(root.iterdir()) if c.is_dir() and not c.name.startswith(".")]
        if len(children) == 1:  # a zip or clone with one top folder
            return find_trees(children[0], name)
        raise SubmissionError("no student tree (pyproject.toml) or bundle.lock.json found")
    identities = [(path, *_identity(path)) for path in paths]
    siblings = {project: path for path, project, _ in identities}
    return [Tree(name, path, project, version, siblings) for path, project, version in identities]


def _lock_trees(root: Path, lock: Path) -> list[Path]:
    """The tree folders a bundle's lock names, each checked to be a folder of the submission."""
    if lock.stat().st_size > MAX_LOCK_BYTES:
        raise SubmissionError(f"{LOCK_NAME} is larger than {MAX_LOCK_BYTES} bytes")
    try:
        tiers = json.loads(lock.read_text(encoding="utf-8"))["tiers"]
        trees = [t["tree"] for t in tiers if "tree" in t]
    except (ValueError, KeyError, TypeError) as error:
        raise SubmissionError(f"{LOCK_NAME} is not a bundle lock: {error!r}") from None
    paths = []
    for tree in trees:
        pure = PurePosixPath(tree) if isinstance(tree, str) else None
        path = (root / tree).resolve() if pure and not pure.is_absolute() else None
        if path is None or ".." in pure.parts or "\\" in tree or not path.is_relative_to(root):
            raise SubmissionError(f"{LOCK_NAME} names a tree outside the submission: {tree!r}")
        if not path.is_dir():
            raise SubmissionError(f"{LOCK_NAME} names a tree that is not there: {tree!r}")
        paths.append(path)
    if not paths:
        raise SubmissionError(f"{LOCK_NAME} names no learner tree")
    return paths


def _identity(tree: Path) -> tuple[str, str]:
    """(project, version) from a tree's ``pyproject.toml``."""
    pyproject = tree / "pyproject.toml"
    if not pyproject.is_file() or pyproject.stat().st_size > MAX_PYPROJECT_BYTES:
        raise SubmissionError(f"{tree.name}/pyproject.toml is missing or too large")
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        return str(project["name"]), str(project.get("version", ""))
    except (ValueError, KeyError, TypeError) as error:
        raise SubmissionError(f"{tree.name}/pyproject.toml names no project: {error!r}") from None


def report_name(submission: str, tier: str) -> str:
    """A report file name unique to the submission, readable, and safe on any filesystem."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", submission)[:60]
    digest = hashlib.sha256(submission.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{readable}-{digest}-{tier}.json"


# ----------------------------------------------------------------------------- grading


def grade_tree(tree: Tree, keys: dict[str, answers.TierKey], packages_dir: Path, slot: int) -> Row:
    """Grade one tree in its sandbox slot; any problem is this row's error."""
    row = Row(tree.submission, tree.project.removeprefix("tinytorch-"), tree.project, tree.version)
    started = time.monotonic()
    try:
        key = keys.get(tree.project)
        if key is None:
            raise SubmissionError(f"no answer key for {tree.project!r}")
        lower = [
            tree.siblings.get(m["project"]) or packages_dir / m["project"] for m in key.metadata[1:]
        ]
        missing = [str(p) for p in lower if not (p / "src").is_dir()]
        if missing:
            raise SubmissionError(f"no tier to grade on below it: {', '.join(missing)}")
        report = grading.grade(tree.path, key, [p / "src" for p in reversed(lower)], slot)
    except (SubmissionError, grading.GradingError, sandbox.SandboxError, OSError) as error:
        row.status, row.detail = "error", str(error)
    else:
        row.report = report.to_json()
        row.points, row.max_points = report.points, report.max_points
        row.modules = {f"{m.number:02d}": m.points for m in report.modules}
        row.detail = next((m.first_failure for m in report.modules if m.first_failure), "")
    row.seconds = round(time.monotonic() - started, 1)
    return row


def grade_batch(
    folder: Path | str,
    out: Path | str,
    jobs: int | None = None,
    keys: dict[str, answers.TierKey] | None = None,
    packages_dir: Path = PACKAGES_DIR,
    limits: SubmissionLimits = SubmissionLimits(),
) -> list[Row]:
    """Grade every submission of ``folder``; write the gradebook into ``out``; return its rows."""
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of submissions")
    if out.is_relative_to(folder):
        raise ValueError(f"the gradebook cannot go inside the submissions folder: {out}")
    jobs = jobs or os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="coursetools-batch-") as scratch:
        rows: list[Row] = []
        trees: list[tuple[int, Tree]] = []
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or (entry.is_file() and entry.suffix != ".zip"):
                continue
            name = entry.stem if entry.suffix == ".zip" else entry.name
            try:
                root = open_submission(entry, Path(scratch) / str(len(rows)), limits)
                found = find_trees(root, name)
            except (SubmissionError, OSError) as error:
                rows.append(Row(name, status="error", detail=f"refused: {error}"))
                continue
            for tree in found:
                trees.append((len(rows), tree))
                rows.append(Row(name))
        keys = (
            keys
            if keys is not None
            else _monorepo_keys({t.project for _, t in trees}, packages_dir)
        )
        slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            slots.put(slot)

        def grade_in_a_slot(tree: Tree) -> Row:
            slot = slots.get()
            try:
                return grade_tree(tree, keys, packages_dir, slot)
            finally:
                slots.put(slot)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for (index, _), row in zip(trees, pool.map(grade_in_a_slot, [t for _, t in trees])):
                rows[index] = row
    write_gradebook(rows, out)
    return rows


def _monorepo_keys(projects: set[str], packages_dir: Path) -> dict[str, answers.TierKey]:
    """Answer keys of the monorepo's tiers the submissions are made of (recorded if stale)."""
    keys = {}
    for project in sorted(projects):
        if (packages_dir / project / "pyproject.toml").is_file():
            keys[project] = answers.for_tier(resolve_tier(project, packages_dir))
    return keys


def write_gradebook(rows: list[Row], out: Path) -> None:
    modules = sorted({m for row in rows for m in row.modules})
    columns = ["submission", "tier", "version", "status", "points", "max_points"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, *(f"m{m}" for m in modules), "seconds", "detail"])
    for row in rows:
        writer.writerow(
            [
                row.submission,
                row.tier,
                row.version,
                row.status,
                f"{row.points:.2f}",
                row.max_points,
                *(f"{row.modules[m]:.2f}" if m in row.modules else "" for m in modules),
                row.seconds,
                row.detail.replace("\n", " ")[:300],
            ]
        )
    write_atomic(out / "gradebook.csv", buffer.getvalue())
    for row in rows:
        if row.report is not None:
            text = json.dumps(row.report, indent=2, ensure_ascii=False) + "\n"
            write_atomic(out / "reports" / report_name(row.submission, row.tier), text)
    payload = [{k: v for k, v in row.__dict__.items()} for row in rows]
    write_atomic(out / "gradebook.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.gradebook", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folder", type=Path, help="folder of submissions (trees, bundles, zips)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "grades")
    parser.add_argument("--jobs", type=int, help="trees graded at once (default: one per core)")
    parser.add_argument("--key", type=Path, help="answer key file (default: record from packages/)")
    args = parser.parse_args(argv)
    try:
        keys = answers.load(args.key) if args.key else None
        rows = grade_batch(args.folder, args.out, args.jobs, keys)
    except (FileNotFoundError, ValueError, grading.GradingError, sandbox.SandboxError) as error:
        print(error, file=sys.stderr)
        return 2
    for row in rows:
        score = f"{row.points:7.2f} / {row.max_points:<4}" if row.status == "graded" else " " * 14
        print(f"{row.submission:<28} {row.tier:<11} {row.status:<7} {score} {row.detail[:60]}")
    book = Path(args.out).resolve() / "gradebook"
    print(f"{len(rows)} row(s); gradebook: {book}.csv, {book}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
