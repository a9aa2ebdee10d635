"""Command line of the grader (the logic is in :mod:`coursetools.grading`).

::

    python -m coursetools.grade build/student/foundation
    python -m coursetools.grade packages/tinytorch-foundation --json build/grades/solution.json
    python -m coursetools.grade learner-clone/ --tests packages/tinytorch-foundation/tests

Prints the table, writes the JSON report (default ``build/grades/<tree name>.json`` in
the monorepo), and exits 0 when it graded (whatever the score), 2 when it refused to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursetools.grading import GradingError, grade
from coursetools.tiers import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.grade", description="Grade a TinyTorch tree."
    )
    parser.add_argument(
        "tree", type=Path, help="student tree or tier directory (has pyproject.toml, src/, tests/)"
    )
    parser.add_argument(
        "--tests", type=Path, help="grade with these tests instead of the tree's own tests/"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds per test (default: per module, 60 s; 300 s for 09)"
    )
    parser.add_argument("--json", type=Path, help="report file (default build/grades/<tree>.json)")
    args = parser.parse_args(argv)
    report_path = args.json or REPO_ROOT / "build" / "grades" / f"{args.tree.resolve().name}.json"
    try:
        report = grade(args.tree, tests_dir=args.tests, timeout=args.timeout)
    except (GradingError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    report.write_json(report_path)
    print(report.table())
    print(f"\nreport: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
