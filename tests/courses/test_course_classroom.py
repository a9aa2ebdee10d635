"""Formative feedback in CI: every student tree carries a workflow and a test runner.

The runner runs the tree's own tests (an estimate for the learner, not the instructor's
grade); it works without the monorepo and never carries the instructor's grader or keys.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from coursetools import classroom, shipping, student
from coursetools.tiers import Tier, python_env


def test_the_classroom_result_has_one_test_per_module_with_its_score(demo_tier: Path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", python_env([demo_tier / "src"])["PYTHONPATH"])
    report = classroom.tree_report(demo_tier, timeout=120)
    assert [(m["module"], m["passed"], m["graded"]) for m in report["modules"]] == [
        (1, 4, 4),
        (2, 3, 3),
        (3, 1, 1),
    ]
    result = classroom.classroom_result([report])
    assert (result["version"], result["status"], result["max_score"]) == (1, "pass", 150)
    assert [(t["name"], t["status"], t["score"]) for t in result["tests"]] == [
        ("tinytorch-demo · Module 01 Vector", "pass", 60.0),
        ("tinytorch-demo · Module 02 Stats", "pass", 40.0),
        ("tinytorch-demo · Module 03 Boost", "pass", 50.0),
    ]


def test_a_student_tree_from_the_command_line_carries_the_workflow_and_grader(
    demo_tier: Path, tmp_path: Path
):
    assert student.main([str(demo_tier), "--out", str(tmp_path / "out")]) == 0
    tree = tmp_path / "out" / "demo"
    tracked = subprocess.run(
        ["git", "-C", str(tree), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in (
        ".github/workflows/classroom.yml",
        ".gitignore",
        "grading/coursetools/classroom.py",
        "grading/coursetools/points.py",
        "grading/tinytorch_learn/curriculum.py",  # what points.py reads its points with
        "grading/curriculum.toml",
    ):
        assert name in tracked
    assert not [name for name in tracked if "answers" in name or name.endswith("grading.py")]
    workflow = (tree / ".github/workflows/classroom.yml").read_text(encoding="utf-8")
    assert '"on":\n  - push' in workflow
    assert "python -m coursetools.classroom . --out reports" in workflow
    assert 'cat reports/grade.md >> "$GITHUB_STEP_SUMMARY"' in workflow
    assert "actions/upload-artifact@v4" in workflow
    assert "education/autograding-grading-reporter@v1" in workflow

    # the tree grades itself with its own copy of the grader, as CI will
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "PYTHONPATH": "grading",
        "GITHUB_OUTPUT": str(output),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "coursetools.classroom", ".", "--out", "reports"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "feedback, not your course grade" in result.stdout
    summary = json.loads((tree / "reports/grade.json").read_text(encoding="utf-8"))
    assert summary["max_points"] == 150 and summary["points"] < 150
    assert Path(summary["trees"][0]["tree"]) == tree.resolve()
    assert (tree / "reports/demo.json").is_file()
    assert "# TinyTorch estimate:" in (tree / "reports/grade.md").read_text(encoding="utf-8")
    encoded = output.read_text(encoding="utf-8").strip().removeprefix("result=")
    assert json.loads(base64.b64decode(encoded))["status"] == "fail"


def test_the_shipped_grader_imports_nothing_else_from_the_course_tooling():
    for name, content in shipping.grader_files().items():
        imported = [
            line.split()[1]
            for line in content.decode("utf-8").splitlines()
            if line.startswith("from coursetools") or line.startswith("import coursetools")
        ]
        shipped = {f"coursetools.{Path(n).stem}" for n in shipping.GRADER_MODULES}
        assert set(imported) <= shipped, name


def test_tree_extras_include_the_files_the_tiers_tests_read(demo_tier: Path):
    (demo_tier / "scripts").mkdir()
    (demo_tier / "scripts/make_data.py").write_text("print('data')\n", encoding="utf-8")
    extras = shipping.tree_extras(Tier.load(demo_tier))
    assert extras["scripts/make_data.py"] == b"print('data')\n"
    assert ".github/workflows/classroom.yml" in extras
