"""Grading benchmark (``nox -s bench -- grading``): one tier, then a batch of 20 submissions.

Prints, on this machine:
  1. recording the foundation tier's answer key, and grading its untouched student tree,
     a half-written tree and the solution (target: a tier in under 20 s);
  2. ``grade-batch`` over 20 foundation submissions on two workers: honest (partly
     written), solved (a folder, a zip, a bundle), cheating and hostile (every attack of
     the threat model in docs/architecture.md that a submission can carry) — each row's
     status, points and seconds, and the total (target: under 5 minutes on 2 cores).

Nothing here asserts anything: the attacks are asserted on the demo tier in
``tests/courses/test_course_grading_attacks.py``; this shows them on a real tier, at scale.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import psutil

from coursetools import answers, gradebook, grading, sandbox
from coursetools.student import generate_student_tree
from coursetools.tiers import resolve_tier

SOLUTION = resolve_tier("foundation")
INIT = "src/tinytorch/core/__init__.py"
MODULE_FILES = [  # in curriculum order: what an honest learner finishes first
    "core/tensor.py",
    "nn/activations.py",
    "nn/layers.py",
    "nn/losses.py",
    "core/autograd.py",
    "optim/optimizers.py",
]

# What hostile code does at import (prepended to tinytorch/core/__init__.py).
AT_IMPORT = {
    "forger": """
        import json as _j, os as _o
        for _fd in range(3, 64):
            for _i in range(60):
                _line = _j.dumps({"call": _i, "status": "ok", "value": 0.0}) + "\\n"
                try:
                    _o.write(_fd, _line.encode())
                except OSError:
                    pass
        _d = _j.dumps
        _forge = lambda r: {**r, "status": "ok", "value": 1.0} if "call" in r else r
        _j.dumps = lambda r, *a, **k: _d(_forge(r) if isinstance(r, dict) else r, *a, **k)
        """,
    "searcher": """
        import os as _o, sys as _s
        for _place in [*_s.path, *_s.argv, *_o.environ.values(), "/work", "/root", "/home", "/tmp"]:
            for _root, _dirs, _files in _o.walk(_place):
                _found = _o.path.join(_root, "tensor.py")
                if "tensor.py" in _files and "BEGIN SOLUTION" in open(_found).read():
                    __path__.insert(0, _root)  # this package's modules now come from there
                    break
        """,
    "exit": "import os as _o\n_o._exit(0)\n",
    "hang": "while True:\n    pass\n",
    "daemon": """
        import os as _o, time as _t
        if _o.fork() == 0:
            _o.setsid()
            if _o.fork() == 0:
                _t.sleep(3600)
            _o._exit(0)
        """,
    "bombs": """
        import os as _o
        try:
            bytearray(8 << 30)
        except MemoryError:
            pass
        for _n in range(10_000):
            try:
                open(f"fill{_n}", "wb").write(bytes(16 << 20))
            except OSError:
                break
        """,
}


def learner(where: Path, student: Path, solved: int) -> Path:
    """The student tree with the first ``solved`` module files finished."""
    tree = Path(shutil.copytree(student, where, ignore=shutil.ignore_patterns(".git")))
    for name in MODULE_FILES[:solved]:
        shutil.copyfile(SOLUTION.src / "tinytorch" / name, tree / "src/tinytorch" / name)
    return tree


def solved(where: Path) -> Path:
    return Path(shutil.copytree(SOLUTION.root, where, ignore=shutil.ignore_patterns("__pycache__")))


def prepend(tree: Path, code: str) -> Path:
    init = tree / INIT
    init.write_text(textwrap.dedent(code).lstrip("\n") + init.read_text())
    return tree


def zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    shutil.rmtree(folder)


def build_batch(folder: Path, student: Path) -> None:
    """Twenty submissions: honest, solved, cheating and hostile."""
    for n in range(1, 5):
        learner(folder / f"honest-{n}", student, n)
    solved(folder / "solved-folder")
    zip_folder(solved(folder / "solved-zip"), folder / "solved-zip.zip")
    bundle = folder / "solved-bundle"
    solved(bundle / "foundation")
    (bundle / "bundle.lock.json").write_text(json.dumps({"tiers": [{"tree": "foundation"}]}))
    prepend(learner(folder / "cheat-forger", student, 0), AT_IMPORT["forger"])
    prepend(learner(folder / "cheat-searcher", student, 0), AT_IMPORT["searcher"])
    config = learner(folder / "cheat-config", student, 0)
    injection = "import tinytorch.core.tensor  # would graft the solution in, if imported\n"
    for name in ("conftest.py", "src/conftest.py", "src/sitecustomize.py", "src/usercustomize.py"):
        (config / name).write_text(injection)
    (config / "src/evil.pth").write_text("import sitecustomize\n")
    (config / "pytest.ini").write_text("[pytest]\naddopts = -p sitecustomize\n")
    thief = folder / "cheat-lock"
    thief.mkdir()
    (thief / "bundle.lock.json").write_text(json.dumps({"tiers": [{"tree": "../solved-folder"}]}))
    prepend(solved(folder / "hostile-exit"), AT_IMPORT["exit"])
    prepend(solved(folder / "hostile-hang"), AT_IMPORT["hang"])
    if sandbox.isolation() == "bwrap":  # elsewhere these would escape or fill the disk
        prepend(learner(folder / "hostile-daemon", student, 0), AT_IMPORT["daemon"])
        prepend(learner(folder / "hostile-bombs", student, 0), AT_IMPORT["bombs"])
    loop = solved(folder / "hostile-loop-in-step")  # a solved tree whose SGD.step never ends
    optimizers = loop / "src/tinytorch/optim/optimizers.py"
    optimizers.write_text(
        optimizers.read_text().replace(
            "        self.step_count += 1\n", "        while True:\n            pass\n", 1
        )
    )
    with zipfile.ZipFile(folder / "hostile-zipbomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb/zeros.bin", "w", force_zip64=True) as entry:
            for _ in range(64):
                entry.write(bytes(1 << 24))  # 1 GiB of zeros, about 1 MB zipped
    broken = learner(folder / "hostile-badlock", student, 2)
    (broken / "bundle.lock.json").write_text('{"tiers": [')
    link = learner(folder / "hostile-symlink", student, 0)
    (link / "src/tinytorch/peek").symlink_to("/etc/shadow")


def timed(what: str, fn):
    started = time.monotonic()
    result = fn()
    print(f"  {what:<46} {time.monotonic() - started:6.1f} s")
    return result


def main() -> int:
    print(f"isolation: {sandbox.isolation()}")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        root = Path(scratch)
        student = generate_student_tree(SOLUTION.root, root / "student")
        print("1. one tier (foundation)")
        key = timed(
            "record the answer key (solution + stubs)", lambda: answers.record(SOLUTION, [])
        )
        for name, tree in (
            ("untouched student tree", student),
            ("half-written tree (modules 01-03)", learner(root / "half", student, 3)),
            ("solution", SOLUTION.root),
        ):
            report = timed(f"grade the {name}", lambda t=tree: grading.grade(t, key, []))
            print(f"  {'':<46} {report.points:6.1f} / {report.max_points}")

        print("2. a batch of 20 submissions, two workers")
        folder = root / "submissions"
        folder.mkdir()
        build_batch(folder, student)
        rows = timed(
            "grade-batch",
            lambda: gradebook.grade_batch(
                folder, root / "grades", jobs=2, keys={SOLUTION.project: key}
            ),
        )
        for row in rows:
            detail = row.detail.replace("\n", " ")[:58]
            score = f"{row.points:6.1f} {row.seconds:5.1f} s"
            print(f"  {row.submission:<22} {row.status:<7} {score}  {detail}")
        users = [p.info["uids"] for p in psutil.process_iter(["uids"]) if p.info["uids"]]
        leftover = sum(uids.real >= sandbox.UID_BASE for uids in users)
        print(f"  processes of sandbox users still running: {leftover}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
