"""The tier model shared by the tools: what a tier holds and how its code is run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import tiers

UPPER_PYPROJECT = """[project]
name = "tinytorch-upper"
version = "1.0.0"
dependencies = ["numpy>=1.24", "tinytorch-demo>=0.3,<0.4"]
"""


def test_a_tier_knows_its_name_parts_modules_and_lessons(demo_tier: Path):
    tier = tiers.Tier.load(demo_tier)
    assert (tier.name, tier.project, tier.version) == ("demo", "tinytorch-demo", "0.3.1")
    assert tier.subpackages() == ["tinytorch.demo"]
    assert {n: [p.name for p in ps] for n, ps in tier.module_tests().items()} == {
        1: ["test_01_vector.py"],
        2: ["test_02_stats.py"],
        3: ["test_03_boost.py"],
    }
    assert tier.module_names() == {1: "Vector", 2: "Stats", 3: "Boost"}
    assert tier.lesson_for(1) == demo_tier / "lessons/01_vector.py"
    assert tier.lesson_for(2) is None


def test_tiers_resolve_by_name_or_directory(demo_tier: Path):
    packages = demo_tier.parent
    assert tiers.resolve_tier("demo", packages).root == demo_tier
    assert tiers.resolve_tier("tinytorch-demo", packages).root == demo_tier
    assert tiers.resolve_tier(str(demo_tier), packages).root == demo_tier
    with pytest.raises(FileNotFoundError, match=r"no tier 'nope'.*has tinytorch-demo"):
        tiers.resolve_tier("nope", packages)


def test_lower_tiers_come_from_the_dependencies_found_in_packages(demo_tier: Path):
    upper_dir = demo_tier.parent / "tinytorch-upper"
    upper_dir.mkdir()
    (upper_dir / "pyproject.toml").write_text(UPPER_PYPROJECT, encoding="utf-8")
    upper = tiers.Tier.load(upper_dir)
    assert upper.tier_dependencies() == ["tinytorch-demo"]
    assert [t.project for t in tiers.lower_tiers(upper, demo_tier.parent)] == ["tinytorch-demo"]
    assert tiers.lower_tiers(upper, demo_tier.parent / "elsewhere") == []


def test_the_metadata_shim_makes_entry_points_resolve_to_the_code_on_the_path(
    demo_tier: Path, tmp_path: Path
):
    shim = tiers.write_metadata_shim([tiers.Tier.load(demo_tier)], tmp_path / "metadata")
    script = (
        "from importlib.metadata import entry_points, version\n"
        "(vector,) = entry_points(group='tinytorch.nn', name='Vector')\n"
        "cls = vector.load()\n"
        "print(version('tinytorch-demo'), cls.__module__, cls.norm.__code__.co_filename)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=tiers.python_env([demo_tier / "src", shim]),
        capture_output=True,
        text=True,
        check=True,
    )
    version, module, filename = result.stdout.split()
    assert (version, module) == ("0.3.1", "tinytorch.demo.vector")
    assert Path(filename).is_relative_to(demo_tier / "src")


def test_code_that_imports_from_anywhere_else_is_refused(demo_tier: Path, tmp_path: Path):
    other = tmp_path / "other-src"
    (other / "tinytorch/demo").mkdir(parents=True)
    (other / "tinytorch/demo/__init__.py").write_text("", encoding="utf-8")
    tiers.require_own_code(demo_tier / "src", ["tinytorch.demo"], [demo_tier / "src"], cwd=tmp_path)
    with pytest.raises(
        tiers.WrongCodeError, match=re.escape(f"tinytorch.demo imports from {other}")
    ):
        tiers.require_own_code(
            demo_tier / "src", ["tinytorch.demo"], [other, demo_tier / "src"], cwd=tmp_path
        )
