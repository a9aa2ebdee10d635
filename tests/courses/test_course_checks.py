"""The graded checks of the three tiers (``courses/checks/<tier>/``) against their solution.

Recording a key already refuses a check that fails on the solution or passes on the
untouched student tree; here each tier's solution then scores full marks and its
untouched student tree exactly 0, and every module of the tier is graded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursetools import answers, grading, student
from coursetools.points import CURRICULUM
from coursetools.tiers import all_tiers, lower_tiers

TIERS = {tier.name: tier for tier in all_tiers()}


@pytest.fixture(scope="module", params=sorted(TIERS))
def keyed(request, graded_demo):  # graded_demo: skip where the sandbox cannot run
    tier = TIERS[request.param]
    below = lower_tiers(tier)
    return tier, below, answers.record(tier, below)


def test_every_module_of_the_tier_is_graded_by_checks(keyed):
    tier, _, key = keyed
    assert sorted(key.modules) == sorted(tier.module_tests())
    assert all(any(c.module == n for c in key.checks()) for n in key.modules)


def test_the_solution_scores_full_marks(keyed):
    tier, below, key = keyed
    report = grading.grade(tier.root, key, [t.src for t in below])
    assert report.points == report.max_points == sum(CURRICULUM[n].points for n in key.modules)


def test_the_untouched_student_tree_scores_zero(keyed, tmp_path: Path):
    tier, below, key = keyed
    for relative, content in student.student_files(tier).items():
        if relative.startswith("src/"):
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_bytes(content)
    report = grading.grade(tmp_path, key, [t.src for t in below])
    assert report.points == 0.0 and report.max_points > 0
    assert all(c.status == "raised" for m in report.modules for c in m.checks)
