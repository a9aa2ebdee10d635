"""Command line of the instructor's grade of one tree (the logic is in :mod:`coursetools.grading`).

::

    python -m coursetools.grade build/student/foundation
    python -m coursetools.grade learner-clone/ --key dist/courses/semester-....answers.json
    python -m coursetools.grade packages/tinytorch-foundation      # the solution: full marks

Grades the code in the tree's ``src`` with the graded checks of its tier, in a sandboxed
worker, against the tier's answer key (``--key``, or recorded from this monorepo's
solution into ``build/answers/``). The tiers below come from this monorepo. Prints the
table, writes the JSON report (``--json``, default ``build/grades/<tree name>.json``),
and exits 0 when it graded (whatever the score), 2 when it could not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursetools import answers, gradebook, grading, sandbox
from coursetools.tiers import PACKAGES_DIR, REPO_ROOT, resolve_tier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.grade", description="Grade a TinyTorch tree."
    )
    parser.add_argument(
        "tree", type=Path, help="a learner's tree or a tier (has pyproject.toml, src/)"
    )
    parser.add_argument("--key", type=Path, help="answer key file (default: record from packages/)")
    parser.add_argument("--json", type=Path, help="report file (default build/grades/<tree>.json)")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    report_path = (args.json or REPO_ROOT / "build" / "grades" / f"{tree.name}.json").resolve()
    try:
        trees = gradebook.find_trees(tree, tree.name)
        if len(trees) != 1:
            raise gradebook.SubmissionError(f"{tree} holds {len(trees)} trees: use grade-batch")
        (found,) = trees
        if args.key:
            key = answers.load(args.key).get(found.project)
            if key is None:
                raise grading.GradingError(f"{args.key} has no answer key for {found.project}")
        else:
            key = answers.for_tier(resolve_tier(found.project))
        lower = [PACKAGES_DIR / m["project"] / "src" for m in reversed(key.metadata[1:])]
        report = grading.grade(tree, key, lower)
    except (
        gradebook.SubmissionError,
        grading.GradingError,
        sandbox.SandboxError,
        FileNotFoundError,
    ) as error:
        print(error, file=sys.stderr)
        return 2
    report.write_json(report_path)
    print(report.table())
    print(f"\nreport: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
