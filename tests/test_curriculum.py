"""The curriculum manifest (curriculum.toml) and its loader, tinytorch_learn.curriculum.

The loader refuses a manifest that contradicts itself with one line naming what is
wrong and the valid choices; keys name modules and milestones the ways a learner would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinytorch_learn.curriculum import MANIFEST, CurriculumError, load

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / MANIFEST).read_text(encoding="utf-8")


def planted(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the manifest with ``old`` replaced by ``new`` (which must occur)."""
    assert old in TEXT, old
    (tmp_path / MANIFEST).write_text(TEXT.replace(old, new, count), encoding="utf-8")
    return tmp_path


def test_the_manifest_holds_twenty_modules_in_three_tiers_and_six_milestones() -> None:
    curriculum = load(ROOT)
    assert [t.name for t in curriculum.tiers] == ["foundation", "arch", "opt"]
    assert [m.number for m in curriculum.modules] == list(range(1, 21))
    assert [m.number for m in curriculum.milestones] == list(range(1, 7))
    assert [len(curriculum.modules_of(t.name)) for t in curriculum.tiers] == [7, 6, 7]
    assert [sum(m.points for m in curriculum.modules_of(t.name)) for t in curriculum.tiers] == [
        400,
        360,
        390,
    ]


def test_load_finds_the_manifest_from_a_folder_below_it() -> None:
    assert load(ROOT / "packages" / "tinytorch-arch" / "src").path == ROOT / MANIFEST


def test_outside_any_tree_the_error_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(CurriculumError, match=r"no curriculum\.toml in .* inside a TinyTorch tree"):
        load(tmp_path)


@pytest.mark.parametrize("key", [3, "3", "03", "03_layers", "layers", "Layers", " 03 "])
def test_a_module_is_found_by_number_slug_or_name(key) -> None:
    assert load(ROOT).module(key).slug == "03_layers"


@pytest.mark.parametrize("key", [3, "3", "03", "m03_1986_mlp", "1986 MLP"])
def test_a_milestone_is_found_by_number_script_or_name(key) -> None:
    assert load(ROOT).milestone(key).slug == "m03_1986_mlp"


def test_an_unknown_module_names_every_valid_choice_on_one_line() -> None:
    with pytest.raises(CurriculumError) as info:
        load(ROOT).module(99)
    message = str(info.value)
    assert message.startswith("unknown module '99'; choose from 01_tensor, 02_activations")
    assert message.endswith("20_capstone") and "\n" not in message


def test_an_unknown_milestone_names_every_valid_choice() -> None:
    with pytest.raises(CurriculumError, match=r"unknown milestone '7'; choose from 1 \(1958"):
        load(ROOT).milestone(7)


def test_tiers_up_to_a_tier_are_it_and_the_tiers_below() -> None:
    assert [t.name for t in load(ROOT).tiers_up_to("tinytorch-arch")] == ["foundation", "arch"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("number = 4\n", "number = 3\n", "duplicate module number 3"),
        ('slug = "04_losses"', 'slug = "03_layers"', "duplicate module slug '03_layers'"),
        ('slug = "04_losses"', 'slug = "4_losses"', "slug '4_losses' must start with '04_'"),
        (
            'tier = "arch"\nsources = ["src/tinytorch/data',
            'tier = "archh"\nsources = ["src/tinytorch/data',
            "module 08 DataLoader: unknown tier 'archh'; choose from foundation, arch, opt",
        ),
        (
            "prerequisites = [1, 2]\n",
            "prerequisites = [1, 5]\n",
            "module 03 Layers: prerequisite 5 is not an earlier module; choose from 1, 2",
        ),
        ("prerequisites = [1]\n", "prerequisites = [42]\n", "prerequisite 42 is not an earlier"),
        (
            "modules = [1, 2, 3, 4, 5, 6, 7, 8, 9]\n",
            "modules = [1, 2, 3, 4, 5, 6, 7, 8, 9, 14]\n",
            "milestone 4 (1998 CNN) needs module 14 Profiling of tier 'opt', above its tier 'arch'",
        ),
        ("modules = [1, 2, 3, 4, 5, 6, 7]\n", "modules = [1, 77]\n", "unknown module 77"),
        ("points = 40\n", 'points = "40"\n', "points = '40' has the wrong type"),
        ("points = 40\n", "", "missing field 'points'"),
        ("points = 40\n", "points = 40\npoint = 4\n", "unknown field 'point'"),
    ],
)
def test_a_manifest_that_contradicts_itself_is_refused_in_one_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(CurriculumError, match=re.escape(message)) as info:
        load(planted(tmp_path, old, new))
    assert "\n" not in str(info.value)


def test_a_manifest_with_broken_toml_says_so(tmp_path: Path) -> None:
    with pytest.raises(CurriculumError, match=r"cannot read the manifest"):
        load(planted(tmp_path, "number = 1\nslug", "number = = 1\nslug"))
