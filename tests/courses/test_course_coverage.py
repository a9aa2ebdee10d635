"""Solution coverage: a stub in place of any one solution block must fail a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursetools import coverage
from coursetools.coverage import CoverageError, check_coverage

UNTESTED_METHOD = '''
    def dot(self, other: "Vector") -> float:
        """Sum of element-wise products (no test checks this)."""
        ### BEGIN SOLUTION
        return sum(a * b for a, b in zip(self.values, other.values))
        ### END SOLUTION
'''


VARIANCE_TESTED_BY_MODULE_01 = """

def test_variance_of_a_vector():
    from tinytorch.demo import variance

    assert variance(Vector([1, 3])) == 1.0
"""


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_every_block_of_the_demo_tier_is_noticed_and_the_source_is_left_as_it_was(demo_tier: Path):
    before = {p: p.read_bytes() for p in demo_tier.rglob("*") if p.is_file()}
    results = check_coverage(demo_tier, lower=[])
    assert {p: p.read_bytes() for p in demo_tier.rglob("*") if p.is_file()} == before
    assert [(r.block.qualname, r.module, r.noticed) for r in results] == [
        ("enable_boost", 3, True),
        ("mean", 2, True),
        ("variance.squared_deviations", 2, True),
        ("Vector.norm", 1, True),
        ("Vector.add", 1, True),
    ]
    assert (
        "test_01_vector.py::test_norm_of_3_4_is_5: NotImplementedError: Module 01 (Vector)"
        in results[3].detail
    )


def test_untested_blocks_are_reported_and_fail_the_command(demo_tier: Path, capsys):
    vector = demo_tier / "src/tinytorch/demo/vector.py"
    append(vector, UNTESTED_METHOD)
    stats_tests = demo_tier / "tests/test_02_stats.py"
    stats_tests.write_text(stats_tests.read_text(encoding="utf-8").split("def test_variance")[0])
    append(demo_tier / "tests/test_01_vector.py", VARIANCE_TESTED_BY_MODULE_01)
    assert coverage.main([str(demo_tier)]) == 1
    report = capsys.readouterr().out
    assert "MISSED  src/tinytorch/demo/vector.py:41" in report
    assert "4 of 6 solution blocks noticed by their module's tests" in report
    stats = demo_tier / "src/tinytorch/demo/stats.py"
    assert (
        f"not noticed: {stats}:22 (variance.squared_deviations): "
        "test_02_stats.py passes without it; test_01_vector.py notices it"
    ) in report
    assert f"not noticed: {vector}:41 (Vector.dot): test_01_vector.py passes without it\n" in report


def test_a_block_whose_module_has_no_test_file_is_not_noticed(demo_tier: Path):
    (demo_tier / "tests/test_03_boost.py").unlink()
    (result,) = [r for r in check_coverage(demo_tier, lower=[]) if r.module == 3]
    assert (result.noticed, result.detail) == (False, "no tests/test_03_*.py")


def test_tests_that_fail_on_the_solution_make_the_check_refuse(demo_tier: Path):
    append(demo_tier / "tests/test_02_stats.py", "\n\ndef test_broken():\n    assert False\n")
    with pytest.raises(CoverageError, match=r"test_02_stats\.py fails on the solution itself"):
        check_coverage(demo_tier, lower=[])


def test_the_command_line_exits_zero_when_every_block_is_noticed(demo_tier: Path, capsys):
    assert coverage.main([str(demo_tier), "--workers", "1"]) == 0
    assert "5 of 5 solution blocks noticed" in capsys.readouterr().out


def test_every_block_of_the_demo_tier_changes_a_graded_check(graded_demo):
    results = coverage.checks_coverage(graded_demo.tier, lower=[], checks_dir=graded_demo.checks)
    assert [(r.block.qualname, r.noticed) for r in results] == [
        ("enable_boost", True),
        ("mean", True),
        ("variance.squared_deviations", True),
        ("Vector.norm", True),
        ("Vector.add", True),
    ]
    assert results[3].detail.startswith("check_01_vector:check_norm: raised")


def test_a_block_no_check_notices_is_reported(graded_demo, tmp_path: Path):
    checks = tmp_path / "checks"
    checks.mkdir()
    for name in ("check_01_vector.py", "check_02_stats.py", "check_03_boost.py"):
        (checks / name).write_text((graded_demo.checks / name).read_text())
    stats = checks / "check_02_stats.py"
    stats.write_text(stats.read_text().split("def check_variance")[0])
    results = coverage.checks_coverage(graded_demo.tier, lower=[], checks_dir=checks)
    missed = [(r.block.qualname, r.detail) for r in results if not r.noticed]
    assert missed == [("variance.squared_deviations", "no check notices it")]
