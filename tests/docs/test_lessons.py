"""Lessons: every module has one, and each has the shape the course relies on.

``tools/lessons.py --check`` is what these tests run; executing the lessons is the
``lessons`` nox session's job (it needs a Jupyter kernel).
"""

from __future__ import annotations

from pathlib import Path

import lessons
import pytest
import tinytorch_docs
from docs_helpers import FOUNDATION, ROOT, write, write_manifest

ALL_LESSONS = lessons.lessons(ROOT)


def test_every_foundation_module_has_a_lesson() -> None:
    numbers = sorted(lesson.number for lesson in ALL_LESSONS if lesson.tier == "foundation")
    assert numbers == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("tier", lessons.tiers(ROOT), ids=lambda p: p.name)
def test_a_tier_with_lessons_has_one_for_every_module(tier: Path) -> None:
    have = {lesson.number for lesson in ALL_LESSONS if lesson.path.parents[1] == tier}
    if not have:
        pytest.skip(f"{tier.name} has no lessons yet")
    assert set(lessons.module_sources(tier)) <= have


@pytest.mark.parametrize("lesson", ALL_LESSONS, ids=lambda lesson: lesson.path.name)
def test_lesson_structure(lesson: lessons.Lesson) -> None:
    assert lessons.check_structure(lesson, ROOT) == []


def test_build_must_name_every_stubbed_function(tmp_path: Path) -> None:
    write_manifest(tmp_path, "demo", ["Vector"])
    tier = tmp_path / "packages" / "tinytorch-demo"
    write(
        tier / "src" / "tinytorch" / "demo" / "vector.py",
        '''
        """Module 01 · Vector — a demo."""


        class Vector:
            def norm(self):
                ### BEGIN SOLUTION
                return 0
                ### END SOLUTION


        def dot(a, b):
            ### BEGIN SOLUTION
            return 0
            ### END SOLUTION
        ''',
    )
    lesson = write(
        tier / "lessons" / "01_vector.py",
        """
        # %% [markdown]
        # # Module 01 · Vector — a demo
        #
        # - **Prerequisites**: none.
        # - **This module**: vectors.
        # - **Unlocks**: everything.
        #
        # ## Build
        #
        # Write `Vector.norm`.
        #
        # ## Use

        # %%
        print("no tests run here")

        # %% [markdown]
        # ## Reflect
        #
        # Why?
        """,
    )
    problems = lessons.check_structure(lessons.Lesson("demo", 1, lesson), tmp_path)
    assert any("Build does not name `dot`" in p for p in problems)
    assert not any("`Vector.norm`" in p for p in problems)
    assert any("Use does not run this module's tests" in p for p in problems)
    assert any("Reflect keeps no worked answer" in p for p in problems)
    assert all(p.startswith("packages/tinytorch-demo/lessons/01_vector.py:") for p in problems)


def test_stubbed_functions_are_named_like_the_student_stubs() -> None:
    names = lessons.stubbed_functions(FOUNDATION / "src" / "tinytorch" / "core" / "tensor.py")
    assert "Tensor.__matmul__" in names
    assert "Tensor.memory_footprint" in names
    assert "matmul_loops" in names


# ----------------------------------------------------------------------------- rendering


def test_lessons_render_to_myst_with_answers_folded() -> None:
    lesson = FOUNDATION / "lessons" / "01_tensor.py"
    page, claimed = tinytorch_docs.lesson_to_myst(lesson)
    assert page.startswith("# Module 01 · Tensor — ")
    assert "BEGIN SOLUTION" not in page and "END SOLUTION" not in page
    assert ":::{dropdown} Worked answer" in page
    assert "::::{dropdown} Worked answer (code)" in page
    assert "# competency:" not in page
    assert "tensors/measures" in claimed
    assert page.count("```python") == page.count("```\n") - page.count("```text\n")


def test_docstrings_are_made_valid_restructuredtext() -> None:
    lines = [
        "Module 05 · Autograd — reverse mode.",
        "",
        "Connection map",
        "    Prerequisites : 01 Tensor",
        "    This module   : graphs,",
        "                    and more",
        "",
        "p *= 1 - lr*wd and |x| and clip_grad_norm_ and ``a*b|c_`` and *real* emphasis.",
        "* a bullet stays a bullet",
        "",
        "With upstream gradient G:",
        "    dV = P^T G",
        "and that is all.",
    ]
    safe = tinytorch_docs.rst_safe(lines)
    assert safe[2:7] == [
        "Connection map::",
        "",
        "    Prerequisites : 01 Tensor",
        "    This module   : graphs,",
        "                    and more",
    ]
    assert safe[8] == (
        r"p \*= 1 - lr\*wd and \|x\| and clip_grad_norm\_ and ``a*b|c_`` and *real* emphasis."
    )
    assert safe[9] == "* a bullet stays a bullet"
    assert safe[11:] == ["With upstream gradient G::", "", "    dV = P^T G", "", "and that is all."]


def test_lessons_convert_to_notebooks(tmp_path: Path) -> None:
    pytest.importorskip("jupytext")
    notebook = lessons.write_ipynb(ALL_LESSONS[0], tmp_path)
    assert notebook.suffix == ".ipynb" and notebook.stat().st_size > 0
