"""Grading: graded checks run on the learner's code in a sandbox, compared with an answer key.

The attacks of the threat model are in ``test_course_grading_attacks.py``; batches and
submissions in ``test_course_gradebook.py``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from coursetools import answers, grading
from coursetools import grade as grade_cli
from coursetools.points import CURRICULUM
from coursetools.tiers import Tier


def scores(report: grading.GradeReport) -> dict[int, tuple[int, int, float]]:
    """Module -> (checks passed, checks, points)."""
    return {m.number: (m.passed, len(m.checks), m.points) for m in report.modules}


def test_the_points_table_covers_all_twenty_modules_with_the_papers_anchors():
    assert sorted(CURRICULUM) == list(range(1, 21))
    assert CURRICULUM[1].points == 60 and CURRICULUM[5].points == 100
    tiers = {"foundation": range(1, 8), "arch": range(8, 14), "opt": range(14, 21)}
    assert {
        tier: sum(CURRICULUM[n].points for n in numbers) for tier, numbers in tiers.items()
    } == {"foundation": 400, "arch": 360, "opt": 390}


def test_the_solution_earns_full_marks(graded_demo):
    report = grading.grade(graded_demo.tier, graded_demo.key, [])
    assert scores(report) == {1: (2, 2, 60.0), 2: (2, 2, 40.0), 3: (1, 1, 50.0)}
    assert (report.points, report.max_points) == (150.0, 150)


def test_an_untouched_student_tree_scores_exactly_zero(graded_demo):
    report = grading.grade(graded_demo.student, graded_demo.key, [])
    assert report.points == 0.0 and report.max_points == 150
    vector = report.modules[0]
    assert vector.first_failure == (
        "check_norm [raised] NotImplementedError: Module 01 (Vector): implement Vector.norm"
        " — see lessons/01_vector.py"
    )


def test_only_solved_modules_earn_their_points(graded_demo, tmp_path: Path):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "boost.py")
    assert scores(grading.grade(tree, graded_demo.key, [])) == {
        1: (2, 2, 60.0),
        2: (0, 2, 0.0),
        3: (1, 1, 50.0),
    }


def test_a_wrong_value_earns_nothing_and_the_report_does_not_tell_the_answer(
    graded_demo, tmp_path: Path
):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "stats.py", "boost.py")
    stats = tree / "src/tinytorch/demo/stats.py"
    stats.write_text(stats.read_text().replace("/ len(x.values)\n", "/ (len(x.values) - 1)\n", 1))
    report = grading.grade(tree, graded_demo.key, [])
    (mean, variance) = report.modules[1].checks
    assert (mean.status, mean.message) == ("wrong", "the value is wrong")
    assert variance.status == "passed"
    assert "4.0" not in json.dumps(report.to_json())  # the answer of check_mean


def test_a_hanging_function_costs_only_the_checks_that_call_it(graded_demo, tmp_path: Path):
    tree = graded_demo.learner(tmp_path / "tree", "vector.py", "stats.py", "boost.py")
    stats = tree / "src/tinytorch/demo/stats.py"
    stats.write_text(
        stats.read_text().replace(
            "    return sum(x.values) / len(x.values)\n",
            "    while True:\n        try:\n            pass\n        except BaseException:\n"
            "            pass\n",
            1,
        )
    )
    report = grading.grade(tree, graded_demo.key, [])
    statuses = {c.check: c.status for m in report.modules for c in m.checks}
    assert statuses.pop("check_02_stats:check_mean") == "timeout"
    assert set(statuses.values()) == {"passed"}
    assert report.points == 130.0


@pytest.mark.parametrize(
    ("answer", "value", "problem"),
    [
        (1.0, 1.00001, ""),
        (1.0, 1.01, "the value is wrong"),
        ([[1.0, 2.0]], [[1.0, 2.0]], ""),
        ([[1.0, 2.0]], [1.0, 2.0], "the value has shape (2,), expected (1, 2)"),
        ([1, 2, 3], [1, 2, 4], "the value is wrong"),
        (12345, 12346, "the value is wrong"),  # integers match exactly
        ([float("nan")], [float("nan")], ""),
        ("abc", "abd", "the value is wrong"),
        (True, 1, "the value is wrong"),
        ({"a": [1.0]}, {"a": [1.0], "b": 2}, "the value should be a dict with the keys ['a']"),
        ({"a": [1.0]}, {"a": "x"}, "the value['a'] should be numbers"),
        (["x", [1.0]], ["x", [2.0]], "the value[1] is wrong"),
        (None, None, ""),
    ],
)
def test_values_are_compared_with_a_tolerance_for_floats_only(answer, value, problem):
    assert grading.mismatch(answer, value) == problem


def test_the_key_refuses_a_check_that_passes_on_the_stubs(graded_demo, tmp_path: Path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "check_01_vector.py").write_text(
        "from tinytorch.demo import Vector\n\n\n"
        "def check_length():\n    return len(Vector([1, 2]).values)\n"
    )
    with pytest.raises(answers.AnswerKeyError, match="check_01_vector:check_length"):
        answers.record(Tier.load(graded_demo.tier), [], checks)


def test_the_key_refuses_a_check_that_fails_on_the_solution(graded_demo, tmp_path: Path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "check_01_vector.py").write_text(
        "from tinytorch.demo import Vector\n\n\ndef check_nothing():\n    return Vector\n"
    )
    with pytest.raises(answers.AnswerKeyError, match="check_nothing: raised: TypeError"):
        answers.record(Tier.load(graded_demo.tier), [], checks)


def test_keys_are_private_files_and_are_reused_until_the_solution_changes(
    graded_demo, tmp_path: Path
):
    tier = Tier.load(graded_demo.tier)
    first = answers.for_tier(tier, [], graded_demo.checks, tmp_path / "answers")
    path = tmp_path / "answers" / "tinytorch-demo.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert answers.load(path)["tinytorch-demo"] == first
    again = answers.for_tier(tier, [], graded_demo.checks, tmp_path / "answers")
    assert again.fingerprint == first.fingerprint


def test_the_command_line_prints_a_table_and_writes_json(graded_demo, tmp_path: Path, capsys):
    key_file = answers.save([graded_demo.key], tmp_path / "keys" / "demo.answers.json")
    tree = graded_demo.learner(tmp_path / "tree", "vector.py")
    report_path = tmp_path / "reports" / "grade.json"
    assert grade_cli.main([str(tree), "--key", str(key_file), "--json", str(report_path)]) == 0
    table = capsys.readouterr().out
    assert "01 Vector                2/2      60.00 / 60" in table
    assert "total                            60.00 / 150" in table
    written = json.loads(report_path.read_text(encoding="utf-8"))
    assert (written["project"], written["points"], written["max_points"]) == (
        "tinytorch-demo",
        60.0,
        150,
    )
    assert written["modules"][1]["results"][0]["check"] == "check_02_stats:check_mean"


def test_the_command_line_exits_2_when_it_cannot_grade(tmp_path: Path, capsys):
    assert grade_cli.main([str(tmp_path), "--json", str(tmp_path / "r.json")]) == 2
    assert "no student tree" in capsys.readouterr().err
