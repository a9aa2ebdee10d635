"""The threat model: a learner controls every file of a submission and everything its code does.

Each test builds a hostile submission from the generated (untouched) student tree of the
demo tier and grades it; whatever it tries, it must score no more than the untouched tree,
which scores 0. Attacks that only an isolated sandbox can stop (reading the instructor's
files, disk and process bombs, processes that escape their session) need bubblewrap and
root, and skip elsewhere; CI has both. Submissions as data (zips, locks, paths) are in
``test_course_gradebook.py``.
"""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from coursetools import grading, sandbox

QUICK = sandbox.Limits(startup=10.0)


def hostile(graded_demo, tmp_path: Path, files: dict[str, str], *solved: str) -> Path:
    """The student tree with ``files`` (relative path -> text) written over it."""
    tree = graded_demo.learner(tmp_path / "tree", *solved)
    for relative, text in files.items():
        path = tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tree


def prepend(tree: Path, relative: str, code: str) -> None:
    path = tree / relative
    path.write_text(textwrap.dedent(code).lstrip("\n") + path.read_text(encoding="utf-8"))


def grade(graded_demo, tree: Path) -> grading.GradeReport:
    return grading.grade(tree, graded_demo.key, [], limits=QUICK)


def statuses(report: grading.GradeReport) -> dict[str, str]:
    return {c.check.split(":")[1]: c.status for m in report.modules for c in m.checks}


FORGER = """
import json as _json, os as _os

# Claim success for every call, on every descriptor, with every value a guess could give.
_GUESSES = (0, 1.0, -1.0, [], [0.0, 0.0], True, None, "")
for _fd in range(3, 64):
    for _i in range(10):
        for _value in _GUESSES:
            _line = _json.dumps({"call": _i, "status": "ok", "value": _value}) + "\\n"
            try:
                _os.write(_fd, _line.encode())
            except OSError:
                pass
# And rewrite the worker's own reporting: whatever it sends becomes a success.
_dumps = _json.dumps


def _forged(record, *args, **kwargs):
    if isinstance(record, dict) and "call" in record:
        record = {**record, "status": "ok", "value": _GUESSES[record["call"] % len(_GUESSES)]}
    return _dumps(record, *args, **kwargs)


_json.dumps = _forged
"""


def test_forging_the_workers_results_earns_nothing(graded_demo, tmp_path: Path):
    """Without the answers (they never reach the worker) a forged result is a wrong value."""
    tree = graded_demo.learner(tmp_path / "tree")
    prepend(tree, "src/tinytorch/demo/__init__.py", FORGER)
    assert grade(graded_demo, tree).points == 0.0


# Code that grafts solution source onto the learner's modules, function by function: run
# at import, it makes every check pass (the control test below shows it does).
GRAFT = """
import tinytorch.demo.vector as _v, tinytorch.demo.stats as _s, tinytorch.demo.boost as _b

def _graft(module, source):
    found = {"__name__": module.__name__}
    exec(compile(source, module.__file__, "exec"), found)
    for name, new in found.items():
        old = getattr(module, name, None)
        if isinstance(new, type) and isinstance(old, type):
            for attribute, member in vars(new).items():
                target = getattr(old, attribute, None)
                if hasattr(member, "__code__") and hasattr(target, "__code__"):
                    target.__code__ = member.__code__
        elif hasattr(new, "__code__") and hasattr(old, "__code__"):
            old.__code__ = new.__code__

def _graft_all(sources):
    for name, module in (("vector.py", _v), ("stats.py", _s), ("boost.py", _b)):
        if name in sources:
            _graft(module, sources[name])
    if "boost.py" in sources:
        _b.enable_boost()
"""


def injector(graded_demo) -> str:
    """GRAFT applied to the solution's source, written into the code as text."""
    source = graded_demo.tier / "src/tinytorch/demo"
    sources = {n: (source / n).read_text() for n in ("vector.py", "stats.py", "boost.py")}
    return GRAFT + f"\n_graft_all({sources!r})\n"


def test_the_submissions_configuration_files_are_never_read(graded_demo, tmp_path: Path):
    inject = injector(graded_demo)
    tree = hostile(
        graded_demo,
        tmp_path,
        {
            "pyproject.toml": (graded_demo.student / "pyproject.toml").read_text()
            + '\n[tool.pytest.ini_options]\naddopts = "-p evil -k norm"\n',
            "pytest.ini": "[pytest]\naddopts = -p evil\n",
            "setup.cfg": "[tool:pytest]\naddopts = -p evil\n",
            "tox.ini": "[pytest]\naddopts = -p evil\n",
            "conftest.py": inject,
            "src/conftest.py": inject,
            "tests/conftest.py": inject,
            "src/evil.py": inject,
            "src/sitecustomize.py": inject,
            "src/usercustomize.py": inject,
            "src/evil.pth": "import evil\n",
        },
    )
    assert grade(graded_demo, tree).points == 0.0


def test_the_injection_itself_would_work_had_it_been_imported(graded_demo, tmp_path: Path):
    """The control for the test above: the same code, imported by the package, scores."""
    tree = graded_demo.learner(tmp_path / "tree")
    init = tree / "src/tinytorch/demo/__init__.py"
    init.write_text(init.read_text() + injector(graded_demo))
    assert grade(graded_demo, tree).points == 150.0


def test_the_solution_and_the_answers_are_out_of_reach(graded_demo, tmp_path: Path, bwrap):
    """Stubs that go looking for the solution (and the key) everywhere a learner might."""
    solution = graded_demo.tier / "src/tinytorch/demo"
    search = f"""
    import os, sys
    _places = [os.getcwd(), *sys.path, *sys.argv, *os.environ.values(), {str(solution)!r},
               {str(graded_demo.tier.parent.parent)!r}, "/root", "/home", "/tmp", "/work", "/ro"]
    _found = {{}}
    for _place in _places:
        for _root, _dirs, _files in os.walk(_place):
            for _name in ("vector.py", "stats.py", "boost.py", "tinytorch-demo.json"):
                _path = os.path.join(_root, _name)
                try:
                    _text = open(_path).read()
                except OSError:
                    continue
                if "### BEGIN SOLUTION" in _text or '"answers"' in _text:
                    _found[_name] = _text
    """
    tree = graded_demo.learner(tmp_path / "tree")
    init = tree / "src/tinytorch/demo/__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(search) + GRAFT + "\n_graft_all(_found)\n")
    assert grade(graded_demo, tree).points == 0.0


def test_a_skip_raised_under_a_foreign_filename_earns_nothing(graded_demo, tmp_path: Path):
    tree = graded_demo.learner(tmp_path / "tree")
    vector = tree / "src/tinytorch/demo/vector.py"
    lines = vector.read_text().splitlines(keepends=True)
    stub = next(n for n, line in enumerate(lines) if "implement Vector.norm" in line)
    lines[stub] = (
        "        import pytest\n"
        "        exec(compile(\"raise pytest.skip.Exception('graded elsewhere')\", "
        "'/usr/lib/python3/site.py', 'exec'))\n"
    )
    vector.write_text("".join(lines))
    report = grade(graded_demo, tree)
    assert report.points == 0.0
    assert report.modules[0].checks[0].message == "Skipped: graded elsewhere"


def test_an_exit_at_import_scores_zero_and_says_why(graded_demo, tmp_path: Path):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "stats.py", "boost.py")
    prepend(tree, "src/tinytorch/demo/__init__.py", "import os\nos._exit(0)\n")
    report = grade(graded_demo, tree)
    assert report.points == 0.0
    assert set(statuses(report).values()) == {"crashed"}
    assert report.modules[0].checks[0].message == (
        "the worker exited (exit code 0) before its code finished importing"
    )


def test_a_hang_at_import_scores_zero_within_the_startup_limit(graded_demo, tmp_path: Path):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "stats.py", "boost.py")
    prepend(tree, "src/tinytorch/demo/__init__.py", "while True:\n    print('busy')\n")
    started = time.monotonic()
    report = grading.grade(tree, graded_demo.key, [], limits=sandbox.Limits(startup=3.0))
    assert time.monotonic() - started < 20
    assert report.points == 0.0 and set(statuses(report).values()) == {"timeout"}


BOMBS = {
    "norm": "while True:\n    print('x' * 10000)",  # prints forever
    "add": "import numpy\nreturn numpy.ones(10**10)",  # 80 GB of memory
    "mean": (  # a process bomb
        "import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(600)\n"
        "        os._exit(0)"
    ),
    "variance": (  # a disk bomb: fill the sandbox, file after file
        "import itertools\nfor n in itertools.count():\n"
        "    open(f'fill{n}', 'wb').write(bytes(1 << 24))"
    ),
}


def test_bombs_cost_only_the_checks_that_set_them_off(
    graded_demo, tmp_path: Path, bwrap, sandbox_strays
):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "stats.py", "boost.py")
    for function, file in (
        ("norm", "vector"),
        ("add", "vector"),
        ("mean", "stats"),
        ("variance", "stats"),
    ):
        plant(tree / f"src/tinytorch/demo/{file}.py", function, BOMBS[function])
    started = time.monotonic()
    report = grade(graded_demo, tree)
    messages = {c.check: c.message for m in report.modules for c in m.checks}
    assert statuses(report) == {
        "check_norm": "timeout",
        "check_add": "raised",  # MemoryError: the address-space limit
        "check_mean": "raised",  # BlockingIOError: the process limit
        "check_variance": "raised",  # OSError: the sandbox's disk is full
        "check_boosted": "passed",
    }, messages
    assert report.points == 50.0
    assert time.monotonic() - started < 60
    assert not sandbox_strays()


def plant(path: Path, function: str, code: str) -> None:
    """Run ``code`` first in the solution block of ``function`` (solved files keep markers)."""
    lines = path.read_text().splitlines(keepends=True)
    start = next(n for n, line in enumerate(lines) if f"def {function}(" in line)
    at = next(n for n in range(start, len(lines)) if "### BEGIN SOLUTION" in lines[n])
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines.insert(at + 1, textwrap.indent(code, indent) + "\n")
    path.write_text("".join(lines))


DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # detached: its parent is gone, its session is its own
        for _ in range(600):
            for target in ({gradebook!r}, "/work/../gradebook.csv"):
                try:
                    open(target, "w").write("mallory,foundation,0.1,graded,400.00,400\\n")
                except OSError:
                    pass
            time.sleep(0.1)
    os._exit(0)
time.sleep(0.5)
"""


def test_nothing_a_submission_starts_outlives_its_grading(
    graded_demo, tmp_path: Path, bwrap, sandbox_strays
):
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_text("honest,demo,0.3.1,graded,150.00,150\n")
    tree = graded_demo.learner(tmp_path / "tree")
    prepend(tree, "src/tinytorch/demo/__init__.py", DAEMON.format(gradebook=str(gradebook)))
    assert grade(graded_demo, tree).points == 0.0
    time.sleep(1.0)
    assert not sandbox_strays()
    assert gradebook.read_text() == "honest,demo,0.3.1,graded,150.00,150\n"


def test_graders_running_at_once_never_share_a_sandbox_user():
    """Two graders on one machine (say two terminals, each asking for slot 0) get different
    user ids, so one submission's process bomb cannot use up the other's process limit."""
    first, held = sandbox._claim_uid(0)
    try:
        second, other = sandbox._claim_uid(0)
        os.close(other)
    finally:
        os.close(held)
    assert second != first


def test_a_lock_folder_others_can_enter_is_refused(tmp_path: Path, monkeypatch):
    """Someone else on the machine made the lock folder first, open to all: no id is claimed."""
    shared = tmp_path / "coursetools-sandbox-uids"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(sandbox, "UID_LOCKS", shared)
    with pytest.raises(sandbox.SandboxError, match="nobody else can enter"):
        sandbox._claim_uid(0)
    assert list(shared.iterdir()) == []
