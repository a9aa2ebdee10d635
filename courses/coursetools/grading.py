"""The instructor's grade: graded checks on a learner's code, compared with an answer key.

A *graded check* is a function ``check_<what>()`` in ``courses/checks/<tier>/check_NN_<name>.py``
(``NN`` is the curriculum module). It builds inputs of its own choosing, calls the
learner's code, and returns what that code produced as plain data (numbers, lists,
NumPy arrays, strings, dicts of those)::

    def check_softmax_rows_of_large_logits():
        \"\"\"softmax of logits up to 1e4: rows sum to one, no overflow.\"\"\"
        return softmax(Tensor([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])).data

The checks run only in a sandboxed worker (:mod:`coursetools.sandbox`). The answers they
must match were recorded from the solution when the course was built
(:mod:`coursetools.answers`); they stay in this process and the instructor's files,
never in a worker, a student tree or a bundle. This process never imports learner
code: it reads the checks' names from their source with :mod:`ast`, sends the calls
to the worker, and compares the JSON values that come back (:func:`mismatch`).

Points: each module's points (:func:`module_spec`) are split evenly over its checks. A
check earns its share only when the learner's code returned a value that matches the
answer; an exception, a wrong value, a time-out or a crash earns nothing, so the
untouched student tree scores exactly 0 (:mod:`coursetools.answers` refuses a check
that passes on it). Each check has a wall-clock limit: ten times what the solution
took, plus 2 s, at most the module's limit; a hang costs only the checks that hang.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coursetools import sandbox
from coursetools.files import write_atomic
from coursetools.points import DEFAULT_TIMEOUT, module_spec
from coursetools.tiers import Tier, write_metadata_shim

if TYPE_CHECKING:
    from coursetools.answers import TierKey

RTOL, ATOL = 1e-4, 1e-6  # how close a float must be to its answer
CHECK_FILE = re.compile(r"check_(\d{2})_\w+\.py")


class GradingError(RuntimeError):
    """Grading cannot go ahead (no answer key for the tier, checks broken on the solution)."""


# ----------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One graded check: ``function`` in ``file`` (a module of the checks folder)."""

    module: int
    file: str
    function: str
    doc: str = ""

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}:{self.function}"


def find_checks(sources: dict[str, str]) -> list[Check]:
    """The checks in check files (name -> source), in module then source order.

    Read with :mod:`ast`, never imported: the check files import the code under test.
    """
    found = []
    for name in sorted(sources):
        match = CHECK_FILE.fullmatch(name)
        if not match:
            continue
        for node in ast.parse(sources[name], filename=name).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                doc = (ast.get_docstring(node) or "").strip().split("\n")[0]
                found.append(Check(int(match.group(1)), name, node.name, doc))
    return found


def check_sources(folder: Path) -> dict[str, str]:
    """File name -> source of every check file in ``folder``."""
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("check_*.py"))
        if CHECK_FILE.fullmatch(path.name)
    }


def run_checks(
    checks: list[Check],
    src: Path,
    sources: dict[str, str],
    *,
    preload: list[str],
    metadata: list[Tier],
    lower: list[Path],
    seconds: dict[str, float],
    slot: int = 0,
    trusted: bool = False,
    limits: sandbox.Limits | None = None,
) -> list[sandbox.Outcome]:
    """Run ``checks`` in a sandbox on the code in ``src``; one outcome per check.

    ``preload`` are the subpackages under test (imported first: an exit there fails every
    check); ``metadata`` the tiers whose entry points the code looks up (the tier and those
    below); ``lower`` the ``src`` folders of the tiers below; ``seconds`` the limit per check.
    ``trusted`` code (the solution, the stubs) may run without bubblewrap even as root.
    """
    with tempfile.TemporaryDirectory(prefix="coursetools-checks-") as scratch:
        checks_dir = Path(scratch) / "checks"
        checks_dir.mkdir()
        for name, text in sources.items():
            (checks_dir / name).write_text(text, encoding="utf-8")
        readonly = {
            "checks": checks_dir,
            "meta": write_metadata_shim(metadata, Path(scratch) / "meta"),
        }
        readonly.update({f"lower{n}": folder for n, folder in enumerate(lower)})
        calls = [
            sandbox.Call(Path(c.file).stem, c.function, seconds=seconds.get(c.id, DEFAULT_TIMEOUT))
            for c in checks
        ]
        return sandbox.run(
            calls,
            work=src,
            readonly=readonly,
            path=["ro/checks", "work", *(f"ro/lower{n}" for n in range(len(lower))), "ro/meta"],
            preload=[*preload, *sorted({Path(c.file).stem for c in checks})],
            slot=slot,
            trusted=trusted,
            limits=limits or sandbox.Limits(),
        )


def mismatch(answer: object, value: object, where: str = "the value") -> str:
    """Why ``value`` does not match ``answer`` ("" if it does), without telling the answer.

    Numbers (and rectangular lists of them) match within ``RTOL``/``ATOL`` (NaN matches
    NaN); integer arrays, strings, booleans and None must be equal; dicts need the same
    keys, lists the same length.
    """
    if isinstance(answer, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(answer):
            return f"{where} should be a dict with the keys {sorted(answer)}"
        return next(
            (m for k in answer if (m := mismatch(answer[k], value[k], f"{where}[{k!r}]"))), ""
        )
    expected = _numbers(answer)
    if expected is not None:
        got = _numbers(value)
        if got is None:
            return f"{where} should be numbers"
        if got.shape != expected.shape:
            return f"{where} has shape {got.shape}, expected {expected.shape}"
        if expected.dtype.kind in "iu":
            return "" if np.array_equal(got, expected) else f"{where} is wrong"
        close = np.allclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
        return "" if close else f"{where} is wrong"
    if isinstance(answer, list):
        if not isinstance(value, list) or len(value) != len(answer):
            return f"{where} should be a list of {len(answer)}"
        pairs = zip(answer, value)
        return next(
            (m for n, (a, v) in enumerate(pairs) if (m := mismatch(a, v, f"{where}[{n}]"))), ""
        )
    return "" if type(value) is type(answer) and value == answer else f"{where} is wrong"


def _numbers(data: object) -> np.ndarray | None:
    """``data`` as an int or float array if it is a number or a rectangular list of numbers."""
    if isinstance(data, bool) or not isinstance(data, (int, float, list)):
        return None
    try:
        array = np.asarray(data)
    except (ValueError, OverflowError):
        return None
    return array if array.dtype.kind in "iuf" else None


# ----------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class CheckResult:
    check: str
    doc: str
    status: str  # passed, wrong, raised, timeout, crashed
    message: str = ""
    seconds: float = 0.0


@dataclass
class ModuleResult:
    number: int
    name: str
    max_points: int
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.status == "passed" for c in self.checks)

    @property
    def points(self) -> float:
        if not self.checks:
            return 0.0
        return round(self.max_points * self.passed / len(self.checks), 2)

    @property
    def first_failure(self) -> str:
        failed = next((c for c in self.checks if c.status != "passed"), None)
        if failed is None:
            return ""
        return f"{failed.check.split(':')[-1]} [{failed.status}] {failed.message}".strip()

    def to_json(self) -> dict:
        return {
            "module": self.number,
            "name": self.name,
            "passed": self.passed,
            "checks": len(self.checks),
            "points": self.points,
            "max_points": self.max_points,
            "first_failure": self.first_failure,
            "results": [asdict(c) for c in self.checks],
        }


@dataclass
class GradeReport:
    """A tree's grade: a table for people, JSON for machines."""

    tree: str
    project: str
    version: str
    isolation: str
    modules: list[ModuleResult]

    @property
    def points(self) -> float:
        return round(sum(m.points for m in self.modules), 2)

    @property
    def max_points(self) -> int:
        return sum(m.max_points for m in self.modules)

    def to_json(self) -> dict:
        return {
            "tree": self.tree,
            "project": self.project,
            "version": self.version,
            "isolation": self.isolation,
            "points": self.points,
            "max_points": self.max_points,
            "modules": [m.to_json() for m in self.modules],
        }

    def write_json(self, path: Path) -> None:
        """Write the report atomically (a reader never sees half a file)."""
        write_atomic(path, json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")

    def table(self, width: int = 72) -> str:
        rows = [f"Grade for {self.tree} ({self.project} {self.version}, {self.isolation})", ""]
        rows.append(f"{'module':<18} {'checks':>9} {'points':>15}  first failure")
        for m in self.modules:
            points = f"{m.points:.2f} / {m.max_points}"
            failure = m.first_failure.replace("\n", " ")
            failure = failure if len(failure) <= width else failure[: width - 1] + "…"
            passed = f"{m.passed}/{len(m.checks)}"
            rows.append(f"{m.number:02d} {m.name:<15} {passed:>9} {points:>15}  {failure}")
        rows.append(f"{'total':<18} {'':>9} {f'{self.points:.2f} / {self.max_points}':>15}")
        return "\n".join(rows)


# ----------------------------------------------------------------------------- grading


def limit(solution_seconds: float) -> float:
    """A check's time limit from the solution's time: ten times it plus 2 s, in tenths."""
    return round(2.0 + 10 * solution_seconds, 1)


def grade(
    tree: Path | str,
    key: TierKey,
    lower: list[Path],
    slot: int = 0,
    limits: sandbox.Limits | None = None,
) -> GradeReport:
    """Grade the learner's code in ``tree/src`` against an answer key.

    ``lower`` are the ``src`` folders of the tiers below, lowest first. Nothing of the
    tree but ``src`` is used: its tests, configuration and tooling play no part.
    """
    tree = Path(tree)
    checks = key.checks()
    seconds = {c.id: min(module_spec(c.module).timeout, limit(key.seconds[c.id])) for c in checks}
    outcomes = run_checks(
        checks,
        tree / "src",
        key.sources,
        preload=key.subpackages,
        metadata=key.metadata_tiers(),
        lower=lower,
        seconds=seconds,
        slot=slot,
        limits=limits,
    )
    modules = {
        number: ModuleResult(number, name, module_spec(number, name).points)
        for number, name in sorted(key.modules.items())
    }
    for check, outcome in zip(checks, outcomes):
        status, message = outcome.status, outcome.message
        if status == "ok":
            message = mismatch(key.answers[check.id], outcome.value)
            status = "wrong" if message else "passed"
        modules[check.module].checks.append(
            CheckResult(check.id, check.doc, status, message, outcome.seconds)
        )
    return GradeReport(
        str(tree), key.project, key.version, sandbox.isolation(), list(modules.values())
    )
