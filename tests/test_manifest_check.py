"""The manifest against the tree (``tools/manifest.py``, run by ``nox -s lint``).

Each planted disagreement between a copy of the tree and its curriculum.toml fails the
check with one line naming the manifest entry and the file; the real tree passes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import manifest  # noqa: E402


def _python_only(folder: str, names: list[str]) -> list[str]:
    """copytree's ignore: caches and every file but Python sources (no data is needed)."""
    return [
        n
        for n in names
        if n == "__pycache__" or (Path(folder, n).is_file() and not n.endswith(".py"))
    ]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree's manifest, tier sources, tests, lessons and milestone scripts, and the
    files that restate the curriculum for other tools."""
    root = tmp_path_factory.mktemp("pristine")
    shutil.copy(ROOT / "curriculum.toml", root)
    shutil.copy(ROOT / "pyproject.toml", root)
    (root / "courses").mkdir()
    shutil.copy(ROOT / "courses" / "schema.json", root / "courses")
    for part in ("packages", "milestones"):
        shutil.copytree(ROOT / part, root / part, ignore=_python_only)
    return root


@pytest.fixture
def tree(pristine: Path, tmp_path: Path) -> Path:
    shutil.copytree(pristine, tmp_path / "tree")
    return tmp_path / "tree"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


FOUNDATION = Path("packages/tinytorch-foundation")


def test_the_real_tree_agrees_with_its_manifest() -> None:
    assert manifest.check(ROOT) == []


def test_a_copy_of_the_tree_agrees_before_anything_is_planted(pristine: Path) -> None:
    assert manifest.check(pristine) == []


def test_a_missing_source_lesson_or_test_file_is_named(tree: Path) -> None:
    (tree / FOUNDATION / "src/tinytorch/nn/layers.py").unlink()
    (tree / FOUNDATION / "lessons/04_losses.py").unlink()
    (tree / FOUNDATION / "tests/test_checks.py").unlink()
    assert manifest.check(tree) == [
        "curriculum.toml: tier foundation: module 04 names lessons/04_losses.py, which is missing",
        "curriculum.toml: tier foundation: module 03 names src/tinytorch/nn/layers.py, "
        "which is missing",
        "curriculum.toml: tier foundation: tier foundation names tests/test_checks.py, "
        "which is missing",
    ]


def test_a_test_file_no_module_owns_is_named(tree: Path) -> None:
    (tree / FOUNDATION / "tests/test_03_more_layers.py").write_text("", encoding="utf-8")
    assert manifest.check(tree) == [
        "curriculum.toml: tier foundation: test file tests/test_03_more_layers.py belongs to "
        "no module; add it to a module's tests (or the tier's shared tests)"
    ]


def test_a_test_file_listed_under_another_module_than_its_number_is_named(tree: Path) -> None:
    replace(tree / "curriculum.toml", '    "tests/test_05_gradients.py",\n', "")
    replace(
        tree / "curriculum.toml",
        'tests = ["tests/test_04_losses.py"]',
        'tests = ["tests/test_04_losses.py", "tests/test_05_gradients.py"]',
    )
    assert manifest.check(tree) == [
        "curriculum.toml: tier foundation: tests/test_05_gradients.py is named for module 05 "
        "but listed under module 04"
    ]


def test_a_source_whose_header_names_another_module_is_named(tree: Path) -> None:
    replace(
        tree / "curriculum.toml",
        '"src/tinytorch/core/autograd.py", "src/tinytorch/core/graph_tools.py"',
        '"src/tinytorch/core/autograd.py"',
    )
    assert manifest.check(tree) == [
        "curriculum.toml: tier foundation: src/tinytorch/core/graph_tools.py opens with "
        "'Module 05 ·' but is listed under no module; add it to module 05's sources",
        "pyproject.toml: the curriculum-order contract: layer tinytorch.core.graph_tools is "
        "no module's source",
    ]


def test_a_milestone_needing_a_module_above_its_tier_fails_in_one_line(tree: Path) -> None:
    replace(
        tree / "curriculum.toml",
        'modules = [1, 2, 3, 4, 5, 6, 7]\ntier = "foundation"',
        'modules = [1, 2, 3, 4, 5, 6, 7, 9]\ntier = "foundation"',
    )
    assert manifest.check(tree) == [
        "curriculum.toml: milestone 1 (1958 Perceptron) needs module 09 Spatial of tier 'arch', "
        "above its tier 'foundation'; declare tier = 'arch' or drop the module"
    ]


def test_a_duplicate_module_number_fails_in_one_line(tree: Path) -> None:
    replace(tree / "curriculum.toml", "number = 12\n", "number = 11\n")
    assert manifest.check(tree) == [
        "curriculum.toml: duplicate module number 11; each must be unique"
    ]


def test_a_missing_milestone_script_and_an_unknown_tier_folder_are_named(tree: Path) -> None:
    (tree / "milestones/m02_1969_xor.py").unlink()
    (tree / "packages/tinytorch-extra").mkdir()
    assert manifest.check(tree) == [
        "curriculum.toml: milestone 2 (1969 XOR): script milestones/m02_1969_xor.py is missing",
        "curriculum.toml: packages/tinytorch-extra is no tier of the manifest",
    ]


def test_the_command_prints_each_problem_and_exits_1(tree: Path, capsys) -> None:
    (tree / FOUNDATION / "tests/test_07_more.py").write_text("", encoding="utf-8")
    assert manifest.main(["--root", str(tree)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "manifest: FAILED — 1 problem(s)"
    assert out[0].startswith("curriculum.toml: tier foundation: test file tests/test_07_more.py")


def test_the_import_contract_must_keep_later_modules_above_earlier_ones(tree: Path) -> None:
    replace(
        tree / "pyproject.toml",
        '"tinytorch.nn.layers",         # 03\n    "tinytorch.nn.activations",    # 02',
        '"tinytorch.nn.activations",    # 02\n    "tinytorch.nn.layers",         # 03',
    )
    assert manifest.check(tree) == [
        "pyproject.toml: the curriculum-order contract: layer 'tinytorch.nn.layers' "
        "(module 03) is below module 02; later modules go above earlier ones"
    ]


def test_the_import_contract_must_hold_every_source(tree: Path) -> None:
    replace(
        tree / "pyproject.toml", '    "tinytorch.perf.roofline",         # 14 (the roofline)\n', ""
    )
    assert manifest.check(tree) == [
        "pyproject.toml: the curriculum-order contract: module 14's source "
        "tinytorch.perf.roofline is in no layer"
    ]


def test_the_course_schema_must_name_the_manifests_tiers_and_ranges(tree: Path) -> None:
    replace(tree / "courses/schema.json", '"maximum": 6', '"maximum": 7')
    replace(tree / "courses/schema.json", ',\n        "opt": {"$ref": "#/$defs/tier"}', "")
    assert manifest.check(tree) == [
        "courses/schema.json: tiers are foundation, arch; the manifest's are foundation, arch, opt",
        "courses/schema.json: milestones items must have maximum 6, as the manifest",
    ]
