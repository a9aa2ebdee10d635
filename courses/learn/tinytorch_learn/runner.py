"""Run one module's tests and read the outcome as data: pytest's own API, no text parsing.

:func:`run` starts ``python -m tinytorch_learn.runner OUT FILE ...`` (a fresh process, so
a learner's edit since the last run counts and a crash costs only this run); inside it,
``pytest.main`` runs with the :class:`Recorder` plugin, which writes every test's outcome
to ``OUT`` as JSON. Results are cached in ``<tree>/.tinytorch/results.json`` under a hash
of every file the tests can reach (:func:`fingerprint`), so ``tinytorch status`` reruns
only the modules whose code or tests changed.

Tests marked ``ungraded`` (they check code the tree provides, and pass before a learner
writes anything) count towards "tests passing", never towards points.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinytorch_learn.curriculum import Module
from tinytorch_learn.workspace import Workspace

CACHE = Path(".tinytorch") / "results.json"
#: One BLAS thread per process: on two cores, parallel test runs contend otherwise.
QUIET_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def blas_env() -> dict[str, str]:
    """This environment with one BLAS thread, unless the learner exported another count."""
    return {**QUIET_BLAS, **os.environ}


@dataclass(frozen=True)
class Failure:
    """The first failing test of a run, as the learner should read it."""

    test: str  # node id, e.g. tests/test_01_tensor.py::test_add
    message: str  # the exception's one-line message (a stub names its lesson)
    where: str  # file:line the error was raised at
    details: str = ""  # pytest's full report, for ``-v``


@dataclass(frozen=True)
class Outcome:
    """One run of a module's tests."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    graded: int = 0  # tests that carry points (not marked ungraded, not skipped)
    graded_passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: str = ""  # the run itself went wrong (time-out, collection error, crash)
    skip_reason: str = ""  # why most skipped tests were skipped (e.g. a later module)

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def complete(self) -> bool:
        return not self.error and self.total > 0 and self.failed == 0

    @classmethod
    def from_dict(cls, data: dict) -> Outcome:
        return cls(**{**data, "failures": [Failure(**f) for f in data.get("failures", [])]})


# ------------------------------------------------------------------ inside the test process


class Recorder:
    """A pytest plugin that keeps each test's outcome (setup and teardown errors count).

    pytest runs with ``--tb=no``: formatting a traceback costs about 0.1 s, and an untouched
    module fails hundreds of tests. Only the failures a learner may read (the first
    :data:`KEPT`) get their report, made from the exception while it is at hand.
    """

    KEPT = 20

    def __init__(self) -> None:
        self.tests: dict[str, dict] = {}
        self.reported = 0

    def pytest_runtest_logreport(self, report) -> None:
        entry = self.tests.setdefault(
            report.nodeid,
            {"outcome": "passed", "ungraded": "ungraded" in report.keywords, "failure": None},
        )
        if report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["reason"] = report.longrepr[-1].removeprefix("Skipped: ")
        elif report.failed and entry["outcome"] != "failed":
            entry["outcome"] = "failed"

    def pytest_exception_interact(self, node, call, report) -> None:
        """A test (or its set-up) failed: keep where and why, for the first few."""
        entry = self.tests.get(report.nodeid)
        if entry is None or entry["failure"] or self.reported >= self.KEPT:
            return
        self.reported += 1
        excinfo = call.excinfo
        raised = excinfo.traceback[-1]  # the frame that raised: a stub names its lesson
        # From the test file down, as pytest shows it (pytest's own frames left out).
        excinfo.traceback = excinfo.traceback.cut(path=node.path).filter(excinfo)
        entry["failure"] = {
            "test": report.nodeid,
            "message": excinfo.exconly().splitlines()[0],
            "where": f"{raised.path}:{raised.lineno + 1}",
            "details": str(excinfo.getrepr(style="short")),
        }

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.tests[report.nodeid or "collection"] = {
                "outcome": "failed",
                "ungraded": False,
                "failure": {
                    "test": report.nodeid,
                    "message": str(report.longrepr).strip().splitlines()[-1],
                    "where": report.nodeid,
                    "details": str(report.longrepr),
                },
            }


def _summarise(tests: dict[str, dict], code: int) -> Outcome:
    ran = [t for t in tests.values() if t["outcome"] != "skipped"]
    graded = [t for t in ran if not t["ungraded"]]
    error = "" if tests or code == 0 else f"pytest stopped before any test ran (exit code {code})"
    reasons = Counter(t.get("reason", "") for t in tests.values() if t["outcome"] == "skipped")
    return Outcome(
        passed=sum(t["outcome"] == "passed" for t in ran),
        failed=sum(t["outcome"] == "failed" for t in ran),
        skipped=len(tests) - len(ran),
        graded=len(graded),
        graded_passed=sum(t["outcome"] == "passed" for t in graded),
        failures=[Failure(**t["failure"]) for t in ran if t["failure"]][:20],
        error=error,
        skip_reason=reasons.most_common(1)[0][0] if reasons else "",
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m tinytorch_learn.runner OUT FILE...``: run the files, write ``OUT``."""
    import pytest

    out, *files = argv if argv is not None else sys.argv[1:]
    recorder = Recorder()
    # The tree's own folder is pytest's root, whatever encloses it (a student tree often
    # sits inside a clone of the course repository, whose settings are not the tree's).
    options = ["-q", "--tb=no", "-p", "no:cacheprovider", "--color=no", "-o", "addopts="]
    options += ["--rootdir", ".", "-c", "pyproject.toml", "--import-mode=importlib"]
    with open(os.devnull, "w") as sink:  # the learner reads our summary, not pytest's log
        saved, sys.stdout = sys.stdout, sink
        try:
            code = pytest.main([*files, *options], plugins=[recorder])
        finally:
            sys.stdout = saved
    outcome = _summarise(recorder.tests, int(code))
    Path(out).write_text(json.dumps(asdict(outcome)), encoding="utf-8")
    return 0


# ------------------------------------------------------------------ in the learner's command


def fingerprint(workspace: Workspace, module: Module) -> str:
    """A hash of every file ``module``'s tests can reach: its tests, its code, the code of
    the modules it stands on, and the tree's shared files (not other modules' code)."""
    needed = _prerequisites(workspace, module)
    other = {
        path.resolve()
        for m in workspace.modules
        if m.number not in needed
        for path in workspace.sources(m)
    }
    root = workspace.roots[module.tier]
    files = [*workspace.tests(module), root / "tests" / "conftest.py"]
    for tier_root in workspace.roots.values():
        files += [p for p in sorted((tier_root / "src").rglob("*.py")) if p.resolve() not in other]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(workspace.root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _prerequisites(workspace: Workspace, module: Module) -> set[int]:
    """``module`` and every module it stands on, directly or not."""
    found, pending = set(), [module.number]
    while pending:
        number = pending.pop()
        if number not in found:
            found.add(number)
            pending += workspace.curriculum.module(number).prerequisites
    return found


def run(workspace: Workspace, module: Module, timeout: float = 900.0) -> Outcome:
    """Run ``module``'s tests in a fresh process, or return the cached outcome of the same files."""
    cache_file = workspace.root / CACHE
    key = fingerprint(workspace, module)
    cache = _read_cache(cache_file)
    if cache.get(module.slug, {}).get("key") == key:
        return Outcome.from_dict(cache[module.slug]["outcome"])
    outcome = _run_fresh(workspace, module, timeout)
    if not outcome.error:
        cache = _read_cache(cache_file)  # another run may have written meanwhile
        cache[module.slug] = {"key": key, "outcome": asdict(outcome)}
        _write_cache(cache_file, cache)
    return outcome


def _run_fresh(workspace: Workspace, module: Module, timeout: float) -> Outcome:
    tests = [str(p) for p in workspace.tests(module) if p.is_file()]
    if not tests:
        return Outcome(error=f"no test file of Module {module.title} in this tree")
    root = workspace.roots[module.tier]
    with tempfile.TemporaryDirectory(prefix="tinytorch-tests-") as scratch:
        out = Path(scratch) / "outcome.json"
        command = [sys.executable, "-m", "tinytorch_learn.runner", str(out), *tests]
        env = {**blas_env(), "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run(
                command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return Outcome(error=f"the tests of Module {module.title} took over {timeout:g} s")
        if not out.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return Outcome(error=f"the test process crashed (exit code {done.returncode}): {last}")
        return Outcome.from_dict(json.loads(out.read_text(encoding="utf-8")))


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, cache: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(cache, indent=1), encoding="utf-8")
    os.replace(partial, path)  # atomic: a reader sees the old cache or the new one


if __name__ == "__main__":
    sys.exit(main())
