"""Formative feedback in continuous integration: a tree's own tests, module by module.

Every student tree and course bundle carries this file and :mod:`coursetools.points`
under ``grading/coursetools/``, and a workflow (``.github/workflows/classroom.yml``)
that runs on every push::

    python -m coursetools.classroom TREE [TREE ...] --out reports

For each module of each tree it runs the module's test files (``tests/test_NN_*.py``)
in one ``pytest`` process, within ``--timeout`` seconds, and gives the module the share
of its points that its passing tests make of its tests (skipped tests do not count, nor
do tests marked ``ungraded``: they pass on the untouched tree, which scores 0).
It writes

``reports/<tier>.json``     each tree's modules: tests passed, points, first failure
``reports/grade.json``      all trees: points, max points, modules
``reports/grade.md``        a table for people (the workflow adds it to the job summary)
``reports/classroom.json``  GitHub Classroom's runner result, one test per module; also
                            ``result=<base64>`` to ``$GITHUB_OUTPUT`` for
                            ``education/autograding-grading-reporter``

This is feedback for the learner, not a grade to trust: the learner's code runs in the
process of the tests that judge it, and a learner who wants to can make it say
anything. The instructor's grade compares values the learner's code computes, in a
sandbox, against answers the learner never sees (:mod:`coursetools.grading`,
``nox -s grade-batch``). The exit status is 0 whenever the tests ran.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from coursetools.files import write_atomic
from coursetools.points import module_spec

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

RUNNER = "tinytorch"  # the id of the Classroom runner (env TINYTORCH_RESULTS)
DEFAULT_TIMEOUT = 900.0  # seconds for one module's tests
_TEST_FILE = re.compile(r"test_(\d{2})_\w+\.py")


def module_tests(tree: Path) -> dict[int, list[Path]]:
    """Module number -> its test files, in module order."""
    found: dict[int, list[Path]] = {}
    for path in sorted((tree / "tests").glob("test_*.py")):
        match = _TEST_FILE.fullmatch(path.name)
        if match:
            found.setdefault(int(match.group(1)), []).append(path)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class TestCase:
    """One test as pytest's JUnit XML reports it."""

    file: str
    name: str
    outcome: str  # passed, failed or skipped
    message: str = ""


def run_pytest(
    files: list[Path], cwd: Path, timeout: float, env: dict[str, str] | None = None, *options: str
) -> tuple[int, list[TestCase]]:
    """Run ``pytest`` on ``files`` in a fresh process: its exit code (-1: time-out) and tests."""
    with tempfile.TemporaryDirectory(prefix="coursetools-pytest-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *map(str, files), "-q", "-p", "no:cacheprovider"]
        command += [
            f"--junitxml={junit}",
            "-o",
            "junit_family=xunit1",
            f"--rootdir={cwd}",
            *options,
        ]
        try:
            code = subprocess.run(
                command, cwd=cwd, env=env, capture_output=True, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            return -1, []
        if not junit.is_file():
            return code, []
        cases = []
        for case in ElementTree.parse(junit).iter("testcase"):
            problem = next(
                (case.find(tag) for tag in ("failure", "error") if case.find(tag) is not None), None
            )
            outcome = "skipped" if case.find("skipped") is not None else "passed"
            outcome = "failed" if problem is not None else outcome
            message = problem.get("message", "") if problem is not None else ""
            cases.append(TestCase(case.get("file", ""), case.get("name", ""), outcome, message))
        return code, cases


def run_module(tree: Path, number: int, files: list[Path], timeout: float) -> dict:
    """Run one module's test files; its tests passed, graded, points and first failure."""
    spec = module_spec(number)
    name = files[0].stem.split("_", 2)[-1].replace("_", " ").title()  # test_01_tensor: Tensor
    code, cases = run_pytest(files, tree, timeout, None, "-m", "not ungraded")
    graded = [case for case in cases if case.outcome != "skipped"]
    passed = sum(case.outcome == "passed" for case in graded)
    failed = next((case for case in graded if case.outcome == "failed"), None)
    if code == -1:
        failure = f"the tests took over {timeout:g} s"
    elif failed is not None:
        failure = f"{failed.name}: {failed.message}"
    else:
        failure = "" if graded else "no test ran"
    points = round(spec.points * passed / len(graded), 2) if graded and code != -1 else 0.0
    return {
        "module": number,
        "name": name,
        "passed": passed if code != -1 else 0,
        "graded": len(graded),
        "points": points,
        "max_points": spec.points,
        "first_failure": failure,
    }


def tree_report(tree: Path, timeout: float) -> dict:
    """Every module of one tree."""
    project = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    modules = [run_module(tree, n, files, timeout) for n, files in module_tests(tree).items()]
    return {
        "tree": str(tree),
        "project": project["name"],
        "version": project["version"],
        "points": round(sum(m["points"] for m in modules), 2),
        "max_points": sum(m["max_points"] for m in modules),
        "modules": modules,
    }


def classroom_result(reports: list[dict]) -> dict:
    """The runner result GitHub Classroom's grading reporter reads (one test per module)."""
    tests = [
        {
            "name": f"{report['project']} · Module {m['module']:02d} {m['name']}",
            "status": "pass" if m["graded"] and m["passed"] == m["graded"] else "fail",
            "score": m["points"],
            "max_score": m["max_points"],
            "message": m["first_failure"][:500],
            "line_no": 0,
            "execution_time": "",
            "test_code": f"pytest tests/test_{m['module']:02d}_*.py",
        }
        for report in reports
        for m in report["modules"]
    ]
    return {
        "version": 1,
        "status": "pass" if all(t["status"] == "pass" for t in tests) else "fail",
        "max_score": sum(r["max_points"] for r in reports),
        "tests": tests,
    }


def markdown(reports: list[dict]) -> str:
    """The job summary: one table per tree, then the total."""
    total = round(sum(r["points"] for r in reports), 2)
    out = [f"# TinyTorch estimate: {total:.2f} / {sum(r['max_points'] for r in reports)}", ""]
    out += ["Your own tests, run on your code: feedback, not your course grade.", ""]
    for report in reports:
        out += [
            f"## {report['project']} {report['version']}: "
            f"{report['points']:.2f} / {report['max_points']}",
            "",
            "| module | tests passed | points | first failure |",
            "| --- | ---: | ---: | --- |",
        ]
        for m in report["modules"]:
            failure = m["first_failure"].replace("|", "\\|").replace("\n", " ")[:160]
            out.append(
                f"| {m['module']:02d} {m['name']} | {m['passed']}/{m['graded']} "
                f"| {m['points']:.2f} / {m['max_points']} | {failure or '—'} |"
            )
        out.append("")
    return "\n".join(out)


def write_reports(reports: list[dict], out: Path) -> dict:
    """Write every report file into ``out``; return the Classroom result."""
    out.mkdir(parents=True, exist_ok=True)
    for report in reports:
        write_atomic(out / f"{report['project'].removeprefix('tinytorch-')}.json", _json(report))
    summary = {
        "points": round(sum(r["points"] for r in reports), 2),
        "max_points": sum(r["max_points"] for r in reports),
        "trees": reports,
    }
    write_atomic(out / "grade.json", _json(summary))
    write_atomic(out / "grade.md", markdown(reports))
    result = classroom_result(reports)
    write_atomic(out / "classroom.json", _json(result))
    return result


def _json(payload: object) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.classroom", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("trees", nargs="+", type=Path, help="learner trees, lowest tier first")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds for one module's tests"
    )
    args = parser.parse_args(argv)
    reports = [tree_report(tree.resolve(), args.timeout) for tree in args.trees]
    result = write_reports(reports, args.out)
    print(markdown(reports))
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        encoded = base64.b64encode(json.dumps(result).encode("utf-8")).decode("ascii")
        with open(github_output, "a", encoding="utf-8") as handle:
            handle.write(f"result={encoded}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
