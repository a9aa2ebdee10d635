"""Generate a tier's student tree: the solution branch with the solutions taken out.

``generate_student_tree(tier_dir, out_dir)`` writes ``out_dir/<tier>/``::

    pyproject.toml   the tier's own (same name, version, dependencies)
    CHANGELOG.md     the tier's own
    README.md        for learners: install, lessons, tests, points
    src/             solution blocks replaced by ``raise NotImplementedError(...)``
    tests/           hidden-test blocks removed
    lessons/         solution blocks replaced (worked answers by ``# YOUR ANSWER HERE``)
    .git/            one commit, fixed author, committer and date

Every source file is parsed before anything is written: one malformed marker
anywhere and the generator refuses, listing every problem as ``file:line``. The tree
is built in a staging directory and only replaces ``out_dir/<tier>`` once it has
passed its checks: every Python file compiles, every subpackage imports (from the
generated ``src``, with the lower tiers' solution sources beside it), and no solution
line leaks (:mod:`coursetools.leaks`). The same tier always gives the same bytes
and the same commit hash, so an instructor can regenerate and push without noise.

Command line::

    python -m coursetools.student foundation        # -> build/student/foundation
    python -m coursetools.student --all             # every tier
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coursetools import leaks, markers, shipping
from coursetools.points import CURRICULUM
from coursetools.tiers import (
    REPO_ROOT,
    Tier,
    WrongCodeError,
    all_tiers,
    lower_tiers,
    require_own_code,
    resolve_tier,
    write_metadata_shim,
)

COPIED_FILES = ("pyproject.toml", "CHANGELOG.md", "LICENSE")
FOLDERS = ("src", "tests", "lessons")

COMMIT_MESSAGE = "student edition\n\nGenerated from the solution tier by coursetools.student.\n"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "TinyTorch course tools",
    "GIT_AUTHOR_EMAIL": "coursetools@tinytorch.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "TinyTorch course tools",
    "GIT_COMMITTER_EMAIL": "coursetools@tinytorch.invalid",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}


class GenerationError(RuntimeError):
    """The generated tree failed a check; nothing was written to the destination."""


def student_files(tier: Tier) -> dict[str, bytes]:
    """Relative path -> content of every file of the student tree except README and ``.git``.

    Raises :class:`markers.MarkerError` listing every malformed file of the tier.
    """
    files: dict[str, bytes] = {}
    problems: list[str] = []
    for name in COPIED_FILES:
        if (tier.root / name).is_file():
            files[name] = (tier.root / name).read_bytes()
    for folder in FOLDERS:
        for path in sorted((tier.root / folder).rglob("*")):
            relative = path.relative_to(tier.root)
            if not path.is_file() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            if path.suffix != ".py":
                files[relative.as_posix()] = path.read_bytes()
                continue
            try:
                files[relative.as_posix()] = _stripped(tier, path).encode("utf-8")
            except markers.MarkerError as error:
                problems += error.problems
    if problems:
        raise markers.MarkerError(problems)
    return files


def _stripped(tier: Tier, path: Path) -> str:
    """The learner's version of one source file; stubs point to the module's lesson."""
    parsed = markers.parse(path)
    lesson = tier.lesson_for(parsed.module.number) if parsed.module else None
    if lesson is None or lesson == path:  # a lesson's own exercises need no pointer to it
        return markers.strip(parsed)
    return markers.strip(parsed, lesson.relative_to(tier.root).as_posix())


def generate_student_tree(
    tier_dir: Path | str,
    out_dir: Path | str,
    lower: list[Path] | None = None,
    extra_files: dict[str, bytes] | None = None,
    existing: str = "refuse",
) -> Path:
    """Write the student tree of the tier at ``tier_dir`` to ``out_dir/<tier>`` and return its path.

    ``lower`` are the directories of the solution tiers below this one, whose ``src``
    goes on ``PYTHONPATH`` for the import check (default: found in the monorepo).
    ``extra_files`` (relative path -> content) are added as they are, e.g. the CI
    workflow and grader of :func:`coursetools.shipping.tree_extras`; they are committed
    like the rest, and count as public text for the leak check (tooling, not solutions).
    An old tree at the destination that holds learner work (:func:`learner_work`) is
    refused with :class:`GenerationError`, unless ``existing`` is ``"backup"`` (it is
    renamed beside the new one) or ``"force"`` (it is replaced).
    """
    tier = Tier.load(tier_dir)
    files = student_files(tier)
    files["README.md"] = learner_readme(tier).encode("utf-8")
    files.update(extra_files or {})
    below = lower_tiers(tier) if lower is None else [Tier.load(p) for p in lower]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    destination = out_dir / tier.name
    staging = Path(tempfile.mkdtemp(prefix=f".{tier.name}-", dir=out_dir))
    try:
        for relative, content in sorted(files.items()):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        public = [
            content.decode("utf-8", errors="replace") for content in (extra_files or {}).values()
        ]
        _check(tier, Tier.load(staging), below, public)
        _commit(staging, f"{tier.project} {tier.version}: {COMMIT_MESSAGE}")
        _replace(destination, staging, existing)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def _check(solution: Tier, student: Tier, below: list[Tier], public: list[str] = ()) -> None:
    """Every Python file compiles, the package imports its own code, nothing leaks.

    ``public`` are the texts of the extra files: tooling whose lines are no secret.
    """
    for path in sorted(student.root.rglob("*.py")):
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            where = path.relative_to(student.root)
            raise GenerationError(
                f"generated {where}:{error.lineno} does not compile: {error.msg}"
            ) from None
    with tempfile.TemporaryDirectory(prefix="coursetools-student-") as scratch:
        pythonpath = [
            student.src,
            *(t.src for t in below),
            write_metadata_shim([student, *below], Path(scratch)),
        ]
        try:
            require_own_code(student.src, student.subpackages(), pythonpath, cwd=Path(scratch))
        except (ImportError, WrongCodeError) as error:
            raise GenerationError(f"the generated tree does not import: {error}") from None
    found = leaks.find_leaks(student.root, leaks.tier_secrets(solution, public))
    if found:
        raise GenerationError(
            "solution lines leak into the student tree:\n" + "\n".join(map(str, found))
        )


def _commit(tree: Path, message: str) -> None:
    """``git init`` and one commit whose hash depends on the content alone."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_IDENTITY)
    env.update(
        GIT_DIR=str(tree / ".git"),
        GIT_WORK_TREE=str(tree),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    for command in (
        ["git", "init", "--quiet", "--initial-branch=main", "--template=", str(tree)],
        ["git", "add", "--all"],
        [
            "git",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "--message",
            message,
        ],
    ):
        subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True)


def learner_work(tree: Path) -> list[str]:
    """What in ``tree`` the generator did not make: commits after its own, changed files.

    Empty for a tree exactly as :func:`generate_student_tree` left it (one commit by the
    course tools, nothing changed since); a folder that is not such a tree at all is work.
    """
    if not (tree / ".git").exists():
        return [f"{tree} is not a generated student tree (it has no .git)"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(tree), *args], capture_output=True, text=True, env=env
        )
        return done.stdout.rstrip() if done.returncode == 0 else ""  # porcelain lines start " M"

    found = []
    authors = git("log", "--format=%ae", "--all").splitlines()
    theirs = [a for a in authors if a != GIT_IDENTITY["GIT_AUTHOR_EMAIL"]]
    if not authors or theirs or len(authors) > 1:
        found.append(f"{len(authors)} commit(s), {len(theirs)} not made by the course tools")
    changed = git("status", "--porcelain", "--untracked-files=all").splitlines()
    if changed:
        shown = ", ".join(line[3:] for line in changed[:3]) + (" ..." if len(changed) > 3 else "")
        found.append(f"{len(changed)} changed or new file(s): {shown}")
    return found


def _replace(destination: Path, staging: Path, existing: str = "refuse") -> None:
    """Put ``staging`` at ``destination``. An old tree that holds learner work is refused
    (``existing="refuse"``), moved aside (``"backup"``) or replaced (``"force"``)."""
    if destination.exists():
        work = learner_work(destination) if existing != "force" else []
        if work and existing == "refuse":
            raise GenerationError(
                f"{destination} holds work the generator did not make ({'; '.join(work)}). "
                "Nothing was changed. To keep it, move the folder away or run again with "
                "--backup (it is renamed to a dated .backup folder beside it); --force "
                "replaces it; a learner's tree takes a new release with `tinytorch update`"
            )
        retired = destination.with_name(f".{destination.name}-old")
        if work:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            retired = destination.with_name(f"{destination.name}.backup-{stamp}")
        else:
            shutil.rmtree(retired, ignore_errors=True)
        destination.rename(retired)
        if not work:
            shutil.rmtree(retired)
    staging.rename(destination)


def learner_readme(tier: Tier) -> str:
    """The README of the student tree: what is here and how to work with it."""
    rows = []
    names = tier.module_names()
    for number, test_files in tier.module_tests().items():
        spec = CURRICULUM.get(number)
        lesson = tier.lesson_for(number)
        rows.append(
            f"| {number:02d} {names.get(number) or (spec.name if spec else '')} "
            f"| {'`' + lesson.relative_to(tier.root).as_posix() + '`' if lesson else '—'} "
            f"| {', '.join(f'`tests/{f.name}`' for f in test_files)} "
            f"| {spec.points if spec else 0} |"
        )
    first_tests = next(iter(tier.module_tests().values()), [])
    example = f"tests/{first_tests[0].name}" if first_tests else "tests"
    return f"""# {tier.project} {tier.version} — student edition

Your copy of the TinyTorch **{tier.name}** tier. Every class and function you will
build is already here with its signature and docstring; where its body should be, it
raises `NotImplementedError` naming the module and the lesson that teaches it. Work
through the lessons in order and replace each `raise` with your implementation.

This tree was generated from the solution tier. It is a git repository: commit your
work as you go; `tinytorch update` later merges a newer release of the course into it
without losing your code.

## Install (once, about a minute)

```bash
python -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -e .
```

`pip install -e .` installs this tier as your own code, the tiers below it as trusted
solutions, and the `tinytorch` command (from `learn/`, shipped with this tree) with the
test tools it runs. The package imports even while modules are unwritten, and what a
later module switches on (autograd, in Module 05) comes alive as soon as your code for
it works.

## Work

```bash
tinytorch status       # where you stand, and the one next step (the file to open)
tinytorch lab 01       # the lesson as a notebook in Jupyter (`pip install jupyterlab` first)
tinytorch test 01      # only that module's tests: the first failure and what to read
tinytorch milestone 1  # once the modules it needs are complete
tinytorch grade        # your estimate, with the course's points
tinytorch doctor       # what to fix when something is not set up
```

## Modules, lessons, tests and points

| module | lesson | tests | points |
| --- | --- | --- | --- |
{chr(10).join(rows)}

Lessons are jupytext percent-format scripts: read them in an editor, or open one as a
notebook with `tinytorch lab NN` (its last Use cell runs the module's tests). Without
the command, `python -m pytest {example} -q` runs one module's tests.

## Grading

Your course grades the code in this tree's `src/` with graded checks: for each module,
functions that call your code on inputs of their own and compare what it computes with
answers recorded from the reference solution, which you never see. Each module's points
are split evenly over its checks; a check earns its share only when your code's result
matches, so an untouched tree scores exactly 0. Your code runs in a sandbox with a time
limit per check: a function that hangs costs only the checks that call it. Passing the
tests in this tree is the best way to know where you stand; on GitHub, the workflow in
`.github/workflows/classroom.yml` reports your tests' estimate on every push.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.student", description="Generate student trees."
    )
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "tier", nargs="?", help="tier name (foundation, arch, opt) or tier directory"
    )
    chosen.add_argument("--all", action="store_true", help="every tier in packages/")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "build" / "student", help="parent of the trees"
    )
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument(
        "--backup", action="store_true", help="keep an old tree holding learner work beside"
    )
    kept.add_argument(
        "--force", action="store_true", help="replace an old tree even if it holds learner work"
    )
    args = parser.parse_args(argv)
    existing = "backup" if args.backup else "force" if args.force else "refuse"
    tiers = all_tiers() if args.all else [resolve_tier(args.tier)]
    for tier in tiers:
        try:
            tree = generate_student_tree(
                tier.root, args.out, extra_files=shipping.tree_extras(tier), existing=existing
            )
        except (markers.MarkerError, GenerationError) as error:
            print(f"{tier.project}: not generated\n{error}", file=sys.stderr)
            return 1
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout
        print(f"{tier.project} {tier.version}: {tree} (commit {head.strip()[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
