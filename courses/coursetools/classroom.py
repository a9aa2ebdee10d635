"""Grade learner trees in continuous integration, GitHub Classroom style.

Every student tree and every course bundle carries a copy of the grader (this module,
:mod:`coursetools.grading`, :mod:`coursetools.grade`, :mod:`coursetools.pytest_grading`,
:mod:`coursetools.tiers`) under ``grading/coursetools/`` and a workflow,
``.github/workflows/classroom.yml``, that runs on every push::

    python -m coursetools.classroom TREE [TREE ...] --out reports

which grades each tree against the code in it (lower tiers come from the environment:
the bundle's wheels, or the learner's own lower trees) and writes

``reports/<tier>.json``     the grader's report of each tree
``reports/grade.json``      all trees: points, max points, modules
``reports/grade.md``        a table for people (the workflow appends it to the job summary)
``reports/classroom.json``  GitHub Classroom's runner result: one test per module with its
                            score; ``result=<base64>`` also goes to ``$GITHUB_OUTPUT`` for
                            ``education/autograding-grading-reporter``

A 1,000-learner course is graded by the classroom's runners this way; the instructor's
authoritative grade comes from ``nox -s grade-batch`` with the course's own tests.
The exit status is 0 whenever grading ran (whatever the score), 2 when it refused.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from coursetools.grading import GradeReport, GradingError, grade

RUNNER = "tinytorch"  # the id of the Classroom runner (env TINYTORCH_RESULTS)


def classroom_result(reports: list[GradeReport]) -> dict:
    """The runner result GitHub Classroom's grading reporter reads (one test per module)."""
    tests, status = [], "pass"
    for report in reports:
        for module in report.modules:
            passed = module.graded > 0 and module.passed == module.graded and not module.error
            status = status if passed else "fail"
            tests.append(
                {
                    "name": f"{report.project} · Module {module.number:02d} {module.name}",
                    "status": "pass" if passed else "fail",
                    "score": module.points,
                    "max_score": module.max_points,
                    "message": module.first_failure[:500],
                    "line_no": 0,
                    "execution_time": "",
                    "test_code": f"pytest {module.test_file}",
                }
            )
    return {
        "version": 1,
        "status": status,
        "max_score": sum(r.max_points for r in reports),
        "tests": tests,
    }


def markdown(reports: list[GradeReport]) -> str:
    """The job summary: one table per tree, then the total."""
    total = round(sum(r.points for r in reports), 2)
    maximum = sum(r.max_points for r in reports)
    out = [f"# TinyTorch grade: {total:.2f} / {maximum}", ""]
    for report in reports:
        out += [
            f"## {report.project} {report.version}: {report.points:.2f} / {report.max_points}",
            "",
            "| module | tests passed | points | first failure |",
            "| --- | ---: | ---: | --- |",
        ]
        for m in report.modules:
            failure = m.first_failure.replace("|", "\\|").replace("\n", " ")[:160]
            tests = f"{m.passed}/{m.graded}" if m.tests else "-"
            out.append(
                f"| {m.number:02d} {m.name} | {tests} | {m.points:.2f} / {m.max_points} "
                f"| {failure or '—'} |"
            )
        out.append("")
    return "\n".join(out)


def write_reports(reports: list[GradeReport], out: Path) -> dict:
    """Write every report file into ``out``; return the Classroom result."""
    out.mkdir(parents=True, exist_ok=True)
    for report in reports:
        report.write_json(out / f"{report.project.removeprefix('tinytorch-')}.json")
    summary = {
        "points": round(sum(r.points for r in reports), 2),
        "max_points": sum(r.max_points for r in reports),
        "trees": [r.to_json() for r in reports],
    }
    _write(out / "grade.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    _write(out / "grade.md", markdown(reports))
    result = classroom_result(reports)
    _write(out / "classroom.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.classroom", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("trees", nargs="+", type=Path, help="learner trees, lowest tier first")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument("--timeout", type=float, help="seconds per test (default: per module)")
    args = parser.parse_args(argv)
    reports = []
    for tree in args.trees:
        try:
            # lower tiers come from the environment: bundled wheels or the learner's own trees
            reports.append(grade(tree, lower=[], timeout=args.timeout))
        except (GradingError, FileNotFoundError) as error:
            print(f"{tree}: {error}", file=sys.stderr)
            return 2
        print(reports[-1].table(), end="\n\n")
    result = write_reports(reports, args.out)
    total = round(sum(r.points for r in reports), 2)
    print(f"total {total:.2f} / {sum(r.max_points for r in reports)}; reports in {args.out}")
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        encoded = base64.b64encode(json.dumps(result).encode("utf-8")).decode("ascii")
        with open(github_output, "a", encoding="utf-8") as handle:
            handle.write(f"result={encoded}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
