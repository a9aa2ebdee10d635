"""The student tree: what it contains, that it is reproducible, and that it works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import markers, student
from coursetools.student import GenerationError, generate_student_tree


def git(tree: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def tracked_files(tree: Path) -> dict[str, bytes]:
    return {
        p.relative_to(tree).as_posix(): p.read_bytes()
        for p in sorted(tree.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(tree).parts
    }


@pytest.fixture
def student_tree(demo_tier: Path, tmp_path: Path) -> Path:
    return generate_student_tree(demo_tier, tmp_path / "build" / "student", lower=[])


def test_the_tree_has_the_tiers_layout_under_build_student_tier(student_tree: Path, tmp_path: Path):
    assert student_tree == tmp_path / "build" / "student" / "demo"
    assert sorted(tracked_files(student_tree)) == [
        "CHANGELOG.md",
        "README.md",
        "lessons/01_vector.py",
        "pyproject.toml",
        "src/tinytorch/demo/__init__.py",
        "src/tinytorch/demo/boost.py",
        "src/tinytorch/demo/stats.py",
        "src/tinytorch/demo/vector.py",
        "tests/test_01_vector.py",
        "tests/test_02_stats.py",
        "tests/test_03_boost.py",
    ]


def test_pyproject_is_the_tiers_own(student_tree: Path, demo_tier: Path):
    assert (student_tree / "pyproject.toml").read_bytes() == (
        demo_tier / "pyproject.toml"
    ).read_bytes()


def test_the_readme_tells_learners_how_to_install_test_and_find_lessons(student_tree: Path):
    readme = (student_tree / "README.md").read_text(encoding="utf-8")
    assert "# tinytorch-demo 0.3.1 — student edition" in readme
    assert "pip install -e ." in readme
    assert "python -m pytest tests/test_01_vector.py -q" in readme
    assert "| 01 Vector | `lessons/01_vector.py` | `tests/test_01_vector.py` | 60 |" in readme
    assert "an untouched tree scores exactly 0" in readme


def test_solutions_are_stubbed_and_signatures_docstrings_and_checks_stay(student_tree: Path):
    vector = (student_tree / "src/tinytorch/demo/vector.py").read_text(encoding="utf-8")
    assert 'def add(self, other: "Vector") -> "Vector":' in vector
    assert '"""Element-wise sum of two vectors of the same length."""' in vector
    assert 'raise ValueError("add: lengths differ")' in vector
    message = "Module 01 (Vector): implement Vector.add — see lessons/01_vector.py"
    assert f'        raise NotImplementedError("{message}")\n' in vector
    assert "zip(self.values" not in vector


def test_hidden_tests_are_removed_and_visible_ones_kept(student_tree: Path):
    tests = (student_tree / "tests/test_02_stats.py").read_text(encoding="utf-8")
    assert "def test_mean():" in tests and "def test_variance():" in tests
    assert "constant" not in tests and "HIDDEN" not in tests


def test_lessons_lose_their_worked_answers_and_code_solutions(student_tree: Path):
    lesson = (student_tree / "lessons/01_vector.py").read_text(encoding="utf-8")
    assert "# YOUR ANSWER HERE" in lesson
    assert "cannot cancel" not in lesson
    message = "Module 01 (Vector): implement cosine"  # no pointer from a lesson to itself
    assert f'    raise NotImplementedError("{message}")\n' in lesson


def test_the_tree_is_one_commit_by_the_fixed_identity_and_date(student_tree: Path):
    assert git(student_tree, "log", "--format=%an <%ae> %aI | %cn <%ce> %cI | %s") == (
        "TinyTorch course tools <coursetools@tinytorch.invalid> 2025-01-01T00:00:00+00:00 | "
        "TinyTorch course tools <coursetools@tinytorch.invalid> 2025-01-01T00:00:00+00:00 | "
        "tinytorch-demo 0.3.1: student edition"
    )
    assert git(student_tree, "status", "--porcelain") == ""


def test_two_generations_are_byte_identical_down_to_the_commit_hash(
    demo_tier: Path, tmp_path: Path
):
    first = generate_student_tree(demo_tier, tmp_path / "one", lower=[])
    second = generate_student_tree(demo_tier, tmp_path / "two", lower=[])
    assert tracked_files(first) == tracked_files(second)
    assert git(first, "rev-parse", "HEAD") == git(second, "rev-parse", "HEAD")


def test_regenerating_replaces_an_untouched_tree_and_refuses_a_changed_one(
    demo_tier: Path, tmp_path: Path
):
    out = tmp_path / "out"
    tree = generate_student_tree(demo_tier, out, lower=[])
    assert generate_student_tree(demo_tier, out, lower=[]) == tree
    assert sorted(p.name for p in out.iterdir()) == ["demo"]

    (tree / "stray.txt").write_text("left over", encoding="utf-8")
    with pytest.raises(GenerationError, match=r"1 changed or new file\(s\): stray.txt"):
        generate_student_tree(demo_tier, out, lower=[])
    assert (tree / "stray.txt").read_text(encoding="utf-8") == "left over"
    assert generate_student_tree(demo_tier, out, lower=[], existing="force") == tree
    assert not (tree / "stray.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["demo"]


def test_the_stubbed_tree_imports_and_its_tests_fail_naming_the_module(student_tree: Path):
    env = {**os.environ, "PYTHONPATH": str(student_tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    imported = subprocess.run(
        [sys.executable, "-c", "import tinytorch.demo as d; print(d.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=student_tree,
    )
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(student_tree / "src")

    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--rootdir={student_tree}",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=student_tree,
    )
    assert tests.returncode == 1
    assert (
        "NotImplementedError: Module 01 (Vector): implement Vector.norm — see lessons/01_vector.py"
        in tests.stdout
    )
    assert "NotImplementedError: Module 02 (Stats): implement mean" in tests.stdout


# --- refusals: nothing is written ----------------------------------------------------


def test_malformed_markers_anywhere_stop_generation_and_list_every_problem(
    demo_tier: Path, tmp_path: Path
):
    stats = demo_tier / "src/tinytorch/demo/stats.py"
    stats.write_text(
        stats.read_text(encoding="utf-8").replace("        ### END SOLUTION\n", "", 1),
        encoding="utf-8",
    )
    test_file = demo_tier / "tests/test_01_vector.py"
    test_file.write_text(
        test_file.read_text(encoding="utf-8") + "### END HIDDEN TESTS\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    with pytest.raises(markers.MarkerError) as caught:
        generate_student_tree(demo_tier, out, lower=[])
    last_line = len(test_file.read_text(encoding="utf-8").splitlines())
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [
        f"{stats}:22",
        f"{test_file}:{last_line}",
    ]
    assert not out.exists()


def test_a_misspelt_marker_is_refused_instead_of_shipping_its_solution(
    demo_tier: Path, tmp_path: Path
):
    vector = demo_tier / "src/tinytorch/demo/vector.py"
    text = vector.read_text(encoding="utf-8")
    vector.write_text(
        text.replace(
            "        ### BEGIN SOLUTION\n        total", "        ### begin solution\n        total"
        ).replace(
            "        ### END SOLUTION\n\n    def add", "        ### end solution\n\n    def add"
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with pytest.raises(markers.MarkerError) as caught:
        generate_student_tree(demo_tier, out, lower=[])
    assert caught.value.problems == [f"{vector}:26: malformed marker '### begin solution'"]
    assert not out.exists()


def test_a_failed_generation_leaves_the_previous_tree_alone(demo_tier: Path, tmp_path: Path):
    out = tmp_path / "out"
    tree = generate_student_tree(demo_tier, out, lower=[])
    before = tracked_files(tree)
    init = demo_tier / "src/tinytorch/demo/__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8").replace(
            "except NotImplementedError:", "except ValueError:"
        )
    )
    with pytest.raises(GenerationError):
        generate_student_tree(demo_tier, out, lower=[])
    assert tracked_files(tree) == before
    assert sorted(p.name for p in out.iterdir()) == ["demo"]


def test_a_stub_that_does_not_compile_is_refused(demo_tier: Path, tmp_path: Path):
    scale = demo_tier / "src/tinytorch/demo/scale.py"
    scale.write_text(
        '"""Module 01 · Vector — scaling."""\n\n\n'
        "def scale(values, k):\n"
        "    return [\n"
        "        ### BEGIN SOLUTION\n"
        "        k * v for v in values\n"
        "        ### END SOLUTION\n"
        "    ]\n",
        encoding="utf-8",
    )
    with pytest.raises(GenerationError, match=r"src/tinytorch/demo/scale\.py:6 does not compile"):
        generate_student_tree(demo_tier, tmp_path / "out", lower=[])
    assert list((tmp_path / "out").iterdir()) == []


def test_a_tree_that_does_not_import_is_refused(demo_tier: Path, tmp_path: Path):
    init = demo_tier / "src/tinytorch/demo/__init__.py"
    text = init.read_text(encoding="utf-8")
    init.write_text(text.replace("except NotImplementedError:", "except ValueError:"))
    with pytest.raises(
        GenerationError, match=r"(?s)does not import.*NotImplementedError: Module 03"
    ):
        generate_student_tree(demo_tier, tmp_path / "out", lower=[])


def test_the_command_line_generates_a_named_tier(demo_tier: Path, tmp_path: Path, capsys):
    assert student.main([str(demo_tier), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "demo" / ".git").is_dir()
    assert "tinytorch-demo 0.3.1:" in capsys.readouterr().out
