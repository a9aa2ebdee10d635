"""Grading: the learner's own code, points per module, and a time limit per test."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from coursetools import grade as grade_cli
from coursetools.grading import CURRICULUM, GradingError, grade
from coursetools.student import generate_student_tree


@pytest.fixture
def student_tree(demo_tier: Path, tmp_path: Path) -> Path:
    return generate_student_tree(demo_tier, tmp_path / "student", lower=[])


def solve(tree: Path, demo_tier: Path, *files: str) -> None:
    """The learner finishes these source files (copied from the solution)."""
    for name in files:
        shutil.copyfile(demo_tier / "src/tinytorch/demo" / name, tree / "src/tinytorch/demo" / name)


def scores(report) -> dict[int, tuple[int, int, float]]:
    """Module -> (tests passed, tests graded, points)."""
    return {m.number: (m.passed, m.graded, m.points) for m in report.modules}


def test_the_points_table_covers_all_twenty_modules_with_the_papers_anchors():
    assert sorted(CURRICULUM) == list(range(1, 21))
    assert CURRICULUM[1].points == 60 and CURRICULUM[5].points == 100
    tiers = {"foundation": range(1, 8), "arch": range(8, 14), "opt": range(14, 21)}
    assert {
        tier: sum(CURRICULUM[n].points for n in numbers) for tier, numbers in tiers.items()
    } == {
        "foundation": 400,
        "arch": 360,
        "opt": 390,
    }


def test_the_solution_tier_earns_full_marks(demo_tier: Path):
    report = grade(demo_tier, lower=[])
    assert scores(report) == {1: (4, 4, 60.0), 2: (3, 3, 40.0), 3: (1, 1, 50.0)}
    assert (report.points, report.max_points) == (150.0, 150)


def test_only_solved_modules_earn_their_points(student_tree: Path, demo_tier: Path):
    solve(student_tree, demo_tier, "vector.py", "boost.py")
    report = grade(student_tree, lower=[])
    assert scores(report) == {1: (4, 4, 60.0), 2: (0, 2, 0.0), 3: (1, 1, 50.0)}
    stats = report.modules[1]
    assert (
        stats.first_failure
        == "test_mean [failed] NotImplementedError: Module 02 (Stats): implement mean"
    )


def test_points_are_split_evenly_over_a_modules_graded_tests(student_tree: Path):
    report = grade(student_tree, lower=[])
    vector = report.modules[0]
    assert [t.outcome for t in vector.tests] == ["failed", "failed", "passed", "skipped"]
    assert vector.points == 20.0  # one test of the three graded, of 60 points


def test_a_test_that_skips_while_a_later_module_is_dormant_is_not_graded(
    student_tree: Path, demo_tier: Path
):
    solve(student_tree, demo_tier, "vector.py")
    vector = grade(student_tree, lower=[]).modules[0]
    assert (vector.passed, vector.graded, len(vector.tests), vector.points) == (3, 3, 4, 60.0)


def test_a_skip_raised_from_learner_code_counts_as_a_failure(student_tree: Path, demo_tier: Path):
    solve(student_tree, demo_tier, "vector.py", "stats.py", "boost.py")
    stats = student_tree / "src/tinytorch/demo/stats.py"
    stats.write_text(
        stats.read_text(encoding="utf-8").replace(
            "    return sum(x.values) / len(x.values)\n",
            "    import pytest\n\n    pytest.skip('not today')\n",
            1,
        ),
        encoding="utf-8",
    )
    (mean, variance) = grade(student_tree, lower=[]).modules[1].tests
    assert (mean.outcome, variance.outcome) == ("failed", "passed")
    assert mean.message.startswith(
        f"skipped from inside {student_tree / 'src'}, which does not count"
    )


def test_grading_with_the_instructors_tests_includes_the_hidden_ones(
    student_tree: Path, demo_tier: Path
):
    solve(student_tree, demo_tier, "stats.py")
    report = grade(student_tree, tests_dir=demo_tier / "tests", lower=[])
    assert scores(report)[2] == (3, 3, 40.0)
    assert report.modules[1].test_file == str(demo_tier / "tests/test_02_stats.py")


def test_a_learners_endless_loop_costs_that_test_only(student_tree: Path, demo_tier: Path):
    solve(student_tree, demo_tier, "vector.py", "stats.py", "boost.py")
    stats = student_tree / "src/tinytorch/demo/stats.py"
    stats.write_text(
        stats.read_text(encoding="utf-8").replace(
            "    return sum(x.values) / len(x.values)\n",
            "    while True:\n"
            "        try:\n"
            "            pass\n"
            "        except BaseException:\n"
            "            pass\n",
            1,
        ),
        encoding="utf-8",
    )
    started = time.monotonic()
    report = grade(student_tree, lower=[], timeout=3)
    assert time.monotonic() - started < 40
    outcomes = {t.nodeid.split("::")[-1]: (t.outcome, t.message) for t in report.modules[1].tests}
    assert outcomes == {"test_mean": ("timeout", "took over 3 s"), "test_variance": ("passed", "")}
    assert scores(report) == {1: (4, 4, 60.0), 2: (1, 2, 20.0), 3: (1, 1, 50.0)}


def test_a_test_file_that_cannot_import_scores_zero_and_says_why(
    student_tree: Path, demo_tier: Path
):
    solve(student_tree, demo_tier, "vector.py")
    (student_tree / "tests/test_03_boost.py").write_text(
        "from tinytorch.demo import Missing\n", encoding="utf-8"
    )
    report = grade(student_tree, lower=[])
    boost = report.modules[2]
    assert (boost.points, boost.tests) == (0.0, [])
    assert boost.error.startswith(
        "test file does not import: ImportError: cannot import name 'Missing'"
    )
    assert scores(report)[1] == (3, 3, 60.0)  # its boost test skips: Module 03 cannot import


def test_grading_refuses_when_the_tests_would_run_other_code(student_tree: Path, demo_tier: Path):
    (student_tree / "tests/conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(demo_tier / 'src')!r})\n", encoding="utf-8"
    )
    with pytest.raises(
        GradingError, match=r"refusing to grade: tinytorch\.demo imports from .*tinytorch-demo"
    ):
        grade(student_tree, lower=[])


def test_the_command_line_prints_a_table_and_writes_json(
    student_tree: Path, demo_tier: Path, tmp_path: Path, capsys
):
    solve(student_tree, demo_tier, "vector.py")
    report_path = tmp_path / "reports" / "grade.json"
    assert grade_cli.main([str(student_tree), "--json", str(report_path)]) == 0
    table = capsys.readouterr().out
    assert "01 Vector                3/3      60.00 / 60" in table
    assert "total                            60.00 / 150" in table
    written = json.loads(report_path.read_text(encoding="utf-8"))
    assert (written["project"], written["points"], written["max_points"]) == (
        "tinytorch-demo",
        60.0,
        150,
    )
    assert [m["module"] for m in written["modules"]] == [1, 2, 3]
    assert written["modules"][1]["tests"][0] == {
        "nodeid": "tests/test_02_stats.py::test_mean",
        "outcome": "failed",
        "message": "NotImplementedError: Module 02 (Stats): implement mean",
    }


def test_the_command_line_exits_2_when_it_refuses(tmp_path: Path, capsys):
    assert grade_cli.main([str(tmp_path), "--json", str(tmp_path / "r.json")]) == 2
    assert "is not a tier" in capsys.readouterr().err
