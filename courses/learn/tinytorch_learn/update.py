"""``tinytorch update``: take a newer release of the course without losing the learner's code.

Git's three-way merge does the work, with the release the tree started from as the base:

* the tree's history keeps every release it has taken on a branch of its own,
  ``tinytorch-release`` (until the first update, that is the tree's first commit: the
  release as generated);
* the new release's files become one commit on that branch;
* ``git merge tinytorch-release`` brings into the learner's branch what changed between
  the two releases. A function the learner wrote keeps their code (the release did not
  touch those lines); a new or changed stub, test or lesson arrives; where both changed
  the same lines git stops with the conflict marked in the file, and the command names
  the files and how to finish or undo. Nothing is resolved silently, nothing is lost:
  the learner's commits stay in the history.

The tree must be committed first, so that ``git merge --abort`` can always go back.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from tinytorch_learn.workspace import Workspace, project

BRANCH = "tinytorch-release"
RELEASE_IDENTITY = {
    "GIT_AUTHOR_NAME": "TinyTorch course release",
    "GIT_AUTHOR_EMAIL": "release@tinytorch.invalid",
    "GIT_COMMITTER_NAME": "TinyTorch course release",
    "GIT_COMMITTER_EMAIL": "release@tinytorch.invalid",
}
MAX_ZIP_BYTES = 512 * 2**20  # a course bundle is tens of megabytes
GENERATOR_EMAIL = "coursetools@tinytorch.invalid"  # the author of a student tree's first commit
#: Never part of a release: the learner's caches, results and notebooks, and git itself.
NOT_RELEASED = (".git", "__pycache__", ".tinytorch", "results", "notebooks", ".venv")


class UpdateError(RuntimeError):
    """The update cannot start (one line saying what to do); nothing was changed."""


def _git(tree: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(tree), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _checked(tree: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = _git(tree, *args, env=env)
    if done.returncode:
        raise UpdateError(f"git {args[0]} failed in {tree}: {done.stderr.strip()}")
    return done.stdout.strip()


def release_folder(source: Path, package: str, scratch: Path) -> Path:
    """The folder of ``package`` in ``source``: a student tree, a bundle folder, or a zip."""
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise UpdateError(f"{source} unpacks to more than {MAX_ZIP_BYTES >> 20} MiB")
            for member in members:
                parts = Path(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    raise UpdateError(f"{source} holds an unsafe path: {member.filename}")
            archive.extractall(scratch)
        source = scratch
    candidates = [source, *(p for p in sorted(source.glob("*")) if p.is_dir())]
    candidates += [p for c in list(candidates[1:]) for p in sorted(c.glob("*")) if p.is_dir()]
    for folder in candidates:
        if project(folder).get("name") == package:
            return folder
    raise UpdateError(
        f"{source} holds no release of {package} (a folder whose pyproject.toml names it)"
    )


def merge_release(
    tree: Workspace, source: Path, started_from: Path | None = None
) -> tuple[list[str], int]:
    """Merge the release at ``source`` into every tier of ``tree``; messages and exit status.

    ``started_from`` is the release the tree was made from (a folder or zip), for a tree
    whose git history does not start with it (a bundle's tree): files are then merged one
    by one against it (:func:`merge_files`).
    """
    for given in (source, started_from):
        if given is not None and not given.exists():
            raise UpdateError(f"{given} does not exist; give a release's folder or .zip")
    messages, code = [], 0
    for tier_name, root in tree.roots.items():
        package = tree.curriculum.tier(tier_name).package
        with tempfile.TemporaryDirectory(prefix="tinytorch-update-") as scratch:
            new = release_folder(source.resolve(), package, Path(scratch) / "new")
            if started_from is None:
                lines, status = _merge_one(root, new, package)
            else:
                old = release_folder(started_from.resolve(), package, Path(scratch) / "old")
                lines, status = merge_files(root, old, new, package)
        messages += lines
        code = max(code, status)
    return messages, code


def _merge_one(root: Path, new: Path, package: str) -> tuple[list[str], int]:
    if not (root / ".git").exists():
        raise UpdateError(
            f"{root} has no git history to tell your code from the release's: give the "
            "release you started from, `tinytorch update NEW --started-from OLD`"
        )
    if _checked(root, "status", "--porcelain"):
        raise UpdateError(
            "commit your work first (`git add -A && git commit -m 'my work'`), so that the "
            "update can always be undone"
        )
    first = _checked(root, "rev-list", "--max-parents=0", "HEAD").split()[0]
    release_made = _checked(root, "log", "-1", "--format=%ae", first) == GENERATOR_EMAIL
    if not release_made and not _git(root, "rev-parse", "--verify", "--quiet", BRANCH).stdout:
        raise UpdateError(
            f"the history of {root} does not start with a release of the course (its first "
            "commit is not the generated one): give the release you started from, "
            "`tinytorch update NEW --started-from OLD`"
        )
    known = _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}")
    base = known.stdout.strip() or first
    with tempfile.TemporaryDirectory(prefix="tinytorch-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _checked(root, f"--work-tree={new}", "add", "--all", "--force", ".", env=index)
        _drop_generated(root, index)
        snapshot = _checked(root, "write-tree", env=index)
    if snapshot == _checked(root, "rev-parse", f"{base}^{{tree}}"):
        return [f"{package}: already at this release; nothing to do"], 0
    version = project(new).get("version", "?")
    release = _checked(
        root,
        "commit-tree",
        snapshot,
        "-p",
        base,
        "-m",
        f"{package} {version}: release",
        env=RELEASE_IDENTITY,
    )
    _checked(root, "update-ref", f"refs/heads/{BRANCH}", release)
    identity = [] if _git(root, "config", "user.email").stdout.strip() else [
        "-c", "user.name=TinyTorch learner", "-c", "user.email=learner@tinytorch.invalid"
    ]  # fmt: skip
    merged = _git(root, *identity, "merge", "--no-edit", "-m", f"Take {package} {version}", BRANCH)
    if merged.returncode == 0:
        changed = _checked(root, "diff", "--stat", "HEAD~1", "HEAD").splitlines()
        return [f"{package} {version}: merged; your code is kept.", *changed[-1:]], 0
    conflicts = _checked(root, "diff", "--name-only", "--diff-filter=U").splitlines()
    if not conflicts:
        raise UpdateError(f"git merge stopped: {merged.stderr.strip() or merged.stdout.strip()}")
    return [
        f"{package} {version}: your code and the release both changed these files:",
        *(f"  {name}" for name in conflicts),
        "Nothing was resolved for you. In each file, keep your solution and the release's "
        "change between the <<<<<<< and >>>>>>> lines, then `git add` the file and "
        "`git commit`; `git merge --abort` puts everything back as it was.",
    ], 1


def merge_files(root: Path, old: Path, new: Path, package: str) -> tuple[list[str], int]:
    """Three-way merge of each file: ``old`` the release the tree started from, ``new`` the
    newer one, the tree the learner's. A file only the release changed is taken, one only
    the learner changed is kept, one both changed goes through ``git merge-file`` (conflicts
    marked in place); nothing is deleted."""
    changed, conflicts, notes = 0, [], []
    released = _files(new)
    for name in sorted(released):
        mine, theirs, base = root / name, new / name, old / name
        if mine.is_file() and mine.read_bytes() == theirs.read_bytes():
            continue
        if not mine.exists():
            if base.exists():
                notes.append(f"  {name}: you removed it; it stays removed")
                continue
        elif base.is_file() and base.read_bytes() == theirs.read_bytes():
            continue  # only you changed it
        elif not (base.is_file() and base.read_bytes() == mine.read_bytes()):
            if not base.is_file() or _merge_file(mine, base, theirs):
                conflicts.append(name)
            changed += 1
            continue
        mine.parent.mkdir(parents=True, exist_ok=True)
        mine.write_bytes(theirs.read_bytes())  # the release's change; you had not touched it
        changed += 1
    notes += [
        f"  {n}: no longer in the release; your copy stays"
        for n in sorted(_files(old) - released)
        if (root / n).exists()
    ]
    version = project(new).get("version", "?")
    if not conflicts:
        return [f"{package} {version}: merged {changed} file(s); your code is kept.", *notes], 0
    return [
        f"{package} {version}: your code and the release both changed these files:",
        *(f"  {name}" for name in conflicts),
        "Nothing was resolved for you: in each file, keep your solution and the release's "
        "change between the <<<<<<< and >>>>>>> lines.",
        *notes,
    ], 1


def _merge_file(mine: Path, base: Path, theirs: Path) -> bool:
    """``git merge-file`` into ``mine``; True when it left conflicts (or could not merge)."""
    labels = ["-L", "yours", "-L", "the release you started from", "-L", "the new release"]
    done = subprocess.run(
        ["git", "merge-file", *labels, str(mine), str(base), str(theirs)], capture_output=True
    )
    return done.returncode != 0


def _files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not set(path.relative_to(folder).parts) & set(NOT_RELEASED)
    }


def _drop_generated(root: Path, index: dict[str, str]) -> None:
    """Keep caches and results out of the release commit even without a .gitignore."""
    for pattern in ("*__pycache__*", ".tinytorch/*", "milestones/results/*"):
        _git(root, "rm", "--cached", "--quiet", "-r", "--ignore-unmatch", pattern, env=index)
