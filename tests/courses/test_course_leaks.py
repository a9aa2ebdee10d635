"""The leak check: solution lines must not appear in any student artefact."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from coursetools import leaks
from coursetools.student import generate_student_tree
from coursetools.tiers import Tier

NORM_LINE = "total = sum(v * v for v in self.values)"


@pytest.fixture
def secrets(demo_tier: Path) -> list[leaks.Secret]:
    return leaks.tier_secrets(Tier.load(demo_tier))


@pytest.fixture
def student_tree(demo_tier: Path, tmp_path: Path) -> Path:
    return generate_student_tree(demo_tier, tmp_path / "student", lower=[])


def test_secrets_are_the_nontrivial_lines_of_solution_blocks(secrets):
    assert sorted(s.text for s in secrets) == sorted(
        [
            NORM_LINE,
            "return total ** 0.5",
            "return Vector(a + b for a, b in zip(self.values, other.values))",
            "return sum(x.values) / len(x.values)",
            "return [(value - centre) ** 2 for value in values]",
            "Vector.boosted = lambda self: Vector(2 * value for value in self.values)",
            "# Squares are never negative, so opposite components cannot cancel each other out.",
            "dot_product = sum(x * y for x, y in zip(a.values, b.values))",
            "return dot_product / (a.norm() * b.norm())",
        ]
    )


@pytest.mark.parametrize("line", ["return x", "pass", ")", "]),", "x = a + b", "return self.data"])
def test_trivial_lines_are_not_secrets(line):
    assert leaks.is_trivial(line)


def test_a_line_that_also_appears_outside_the_blocks_is_not_secret(demo_tier: Path):
    helper = demo_tier / "src/tinytorch/demo/vector.py"
    helper.write_text(
        helper.read_text(encoding="utf-8") + f"\n\ndef _reference(self):\n    {NORM_LINE}\n"
    )
    assert NORM_LINE not in {s.text for s in leaks.tier_secrets(Tier.load(demo_tier))}


def test_a_line_that_is_part_of_a_longer_public_line_is_not_secret(demo_tier: Path):
    test_file = demo_tier / "tests/test_01_vector.py"
    test_file.write_text(
        test_file.read_text(encoding="utf-8") + "\n# return total ** 0.5 (the norm)\n"
    )
    assert "return total ** 0.5" not in {s.text for s in leaks.tier_secrets(Tier.load(demo_tier))}


def test_an_answer_line_is_not_searched_for_in_a_form_the_tier_shows_openly(demo_tier: Path):
    lesson = demo_tier / "lessons/01_vector.py"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(
        text.replace("# ### END SOLUTION", "# the Pythagorean theorem\n# ### END SOLUTION", 1)
        + "\n# %% [markdown]\n# Hint: the Pythagorean theorem\n",
        encoding="utf-8",
    )
    (secret,) = [s for s in leaks.tier_secrets(Tier.load(demo_tier)) if "Pythagorean" in s.text]
    assert secret.forms == ("# the Pythagorean theorem",)


def test_a_clean_student_tree_has_no_leak(student_tree: Path, secrets):
    assert leaks.find_leaks(student_tree, secrets) == []


def test_a_planted_leak_names_the_artefact_file_and_the_solution_block(
    student_tree: Path, secrets, demo_tier: Path
):
    planted = student_tree / "src/tinytorch/demo/stats.py"
    planted.write_text(planted.read_text(encoding="utf-8") + f"# {NORM_LINE}\n", encoding="utf-8")
    (leak,) = leaks.find_leaks(student_tree, secrets)
    assert leak.artefact_file == f"{student_tree}/src/tinytorch/demo/stats.py"
    assert leak.secret.block.location == f"{demo_tier / 'src/tinytorch/demo/vector.py'}:26"
    assert str(leak).endswith(
        f"(line 27 of the solution block at {demo_tier / 'src/tinytorch/demo/vector.py'}:26)"
    )


@pytest.mark.parametrize(
    "marker", ["### BEGIN SOLUTION", "### begin solution", "###  END  SOLUTION"]
)
def test_a_marker_or_near_miss_in_an_artefact_is_a_leak(student_tree: Path, secrets, marker: str):
    planted = student_tree / "src/tinytorch/demo/stats.py"
    text = planted.read_text(encoding="utf-8")
    planted.write_text(f"{text}{marker}\n", encoding="utf-8")
    (leak,) = leaks.find_leaks(student_tree, secrets)
    line = len(text.splitlines()) + 1
    assert str(leak) == f"{planted}:{line}: looks like a solution marker: {marker!r}"


def test_leaks_are_found_in_notebook_json_including_markdown_answers(tmp_path: Path, secrets):
    notebook = {
        "cells": [
            {
                "cell_type": "markdown",
                "source": [
                    "Squares are never negative, so opposite components cannot cancel"
                    " each other out."
                ],
            },
            {
                "cell_type": "code",
                "source": ["    dot_product = sum(x * y for x, y in zip(a.values, b.values))\n"],
            },
        ]
    }
    path = tmp_path / "01_vector.ipynb"
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    found = {leak.secret.text for leak in leaks.find_leaks(path, secrets)}
    assert found == {
        "# Squares are never negative, so opposite components cannot cancel each other out.",
        "dot_product = sum(x * y for x, y in zip(a.values, b.values))",
    }


def test_leaks_are_found_inside_archives_inside_archives(tmp_path: Path, secrets):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as wheel:
        wheel.writestr(
            "tinytorch/demo/stats.py", "def mean(x):\n    return sum(x.values) / len(x.values)\n"
        )
    bundle = tmp_path / "bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as archive:
        data = inner.getvalue()
        info = tarfile.TarInfo("wheels/tinytorch_demo-0.3.1-py3-none-any.whl")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (leak,) = leaks.find_leaks(bundle, secrets)
    assert (
        leak.artefact_file
        == f"{bundle}!wheels/tinytorch_demo-0.3.1-py3-none-any.whl!tinytorch/demo/stats.py"
    )


def test_a_zipped_clean_tree_passes(student_tree: Path, tmp_path: Path, secrets):
    archive = tmp_path / "student.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(student_tree.rglob("*")):
            if path.is_file() and ".git" not in path.parts:
                zipped.write(path, path.relative_to(student_tree).as_posix())
    assert leaks.find_leaks(archive, secrets) == []


def test_the_command_line_fails_on_a_leak_and_passes_a_clean_tree(
    demo_tier: Path, student_tree: Path, capsys
):
    assert leaks.main([str(demo_tier), str(student_tree)]) == 0
    assert leaks.main([str(demo_tier), str(demo_tier)]) == 1
    assert "LEAK " in capsys.readouterr().out
