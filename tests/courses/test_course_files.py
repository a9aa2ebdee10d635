"""Course files: every shipped course validates, and each kind of mistake is named clearly."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from coursetools import courses
from coursetools.courses import CourseError, NotInTreeError, load
from coursetools.tiers import COURSES_DIR

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SHIPPED = ["bootcamp-foundation", "semester", "workshop-opt", "debug-autograd"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def tier(name: str, version: str, mode: str, bugs: str = "") -> str:
    """A ``[tiers.NAME]`` table of a course file (``bugs`` as TOML, e.g. '["a-bug"]')."""
    return f'[tiers.{name}]\nversion = "{version}"\nmode = "{mode}"\n' + (
        f"bugs = {bugs}\n" if bugs else ""
    )


def course(folder: Path, tiers: str, milestones: str = "[]") -> Path:
    """Course file ``c.toml`` in ``folder``: the required keys, ``milestones``, then ``tiers``."""
    return write(folder, "c", COURSE.format(name="c").replace("[]", milestones) + tiers)


def problems(path: Path, **kwargs) -> str:
    with pytest.raises(CourseError) as caught:
        load(path, **kwargs)
    return str(caught.value)


def fake_tier(packages: Path, name: str, version: str, dependencies: list[str]) -> None:
    root = packages / f"tinytorch-{name}"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "tinytorch-{name}"\nversion = "{version}"\n'
        f"dependencies = {json.dumps(dependencies)}\n",
        encoding="utf-8",
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small tree: foundation 0.3.0, and arch 0.1.0 that still requires foundation <0.3."""
    packages = tmp_path / "packages"
    fake_tier(packages, "foundation", "0.3.0", ["numpy>=1.24"])
    fake_tier(packages, "arch", "0.1.0", ["tinytorch-foundation>=0.2,<0.3", "numpy>=1.24"])
    return packages


COURSE = """
    name = "{name}"
    title = "A course"
    audience = "Testers"
    milestones = []
    """


# ----------------------------------------------------------------------------- the shipped ones


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_course_validates_against_the_tree(name: str):
    try:
        course = load(COURSES_DIR / f"{name}.toml")
    except NotInTreeError as waiting:  # e.g. a milestone whose script has not landed yet
        pytest.skip(f"{name} waits for the tree: {waiting}")
    assert course.name == name
    assert course.bundle_name.startswith(f"{name}-foundation")
    assert course.tiers[0].name == "foundation"


def test_four_courses_ship_one_per_audience():
    assert sorted(p.stem for p in courses.course_files()) == sorted(SHIPPED)
    modes = {name: {t: v["mode"] for t, v in _raw(name)["tiers"].items()} for name in SHIPPED}
    assert modes == {
        "bootcamp-foundation": {"foundation": "student"},
        "semester": {"foundation": "student", "arch": "student"},
        "workshop-opt": {"foundation": "solution", "arch": "solution", "opt": "student"},
        "debug-autograd": {"foundation": "debug"},
    }
    assert _raw("bootcamp-foundation")["milestones"] == [1, 2, 3]
    assert _raw("semester")["milestones"] == [1, 2, 3, 4, 5]
    assert _raw("workshop-opt")["milestones"] == [6]


def _raw(name: str) -> dict:
    return tomllib.loads((COURSES_DIR / f"{name}.toml").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- mistakes


def test_a_version_that_is_not_exact_is_refused(tmp_path: Path):
    for bad in ('"0.2"', '">=0.2,<0.3"', '"latest"', "2"):
        path = course(tmp_path, f'[tiers.foundation]\nversion = {bad}\nmode = "student"\n')
        message = problems(path)
        assert "tiers.foundation.version" in message and "not an exact version" in message


def test_an_unknown_tier_is_named_with_a_suggestion(tmp_path: Path):
    path = course(tmp_path, tier("optim", "0.1.0", "student"))
    message = problems(path)
    assert (
        "tiers.optim: unknown tier (tiers: foundation, arch, opt); did you mean 'opt'?" in message
    )


def test_a_mode_typo_is_named_with_a_suggestion(tmp_path: Path):
    path = course(tmp_path, tier("foundation", "0.2.0", "studnet"))
    assert (
        "tiers.foundation.mode: 'studnet' is not a mode (student, solution, debug); "
        "did you mean 'student'?" in problems(path)
    )


def test_unknown_keys_are_refused_with_a_suggestion(tmp_path: Path):
    path = write(
        tmp_path,
        "c",
        COURSE.format(name="c").replace("milestones", "milestone")
        + '[tiers.foundation]\nversion = "0.2.0"\nmode = "student"\npinned = true\n',
    )
    message = problems(path)
    assert "milestone: unknown key" in message and "did you mean 'milestones'?" in message
    assert "tiers.foundation.pinned: unknown key" in message


def test_a_student_tier_above_a_missing_lower_tier_is_refused(tmp_path: Path):
    path = course(tmp_path, tier("arch", "0.1.0", "student"))
    message = problems(path)
    assert "tiers.arch: tinytorch-arch (student) stands on tinytorch-foundation" in message
    assert "which the course leaves out" in message and "[tiers.foundation]" in message


def test_a_pin_that_differs_from_the_tree_says_what_the_tree_holds(tmp_path: Path):
    path = course(tmp_path, tier("foundation", "0.1.0", "student"))
    message = problems(path)
    assert (
        "tiers.foundation.version: pins 0.1.0, but the tree holds tinytorch-foundation 0.2.0"
        in message
    )
    assert "tinytorch-foundation-v0.1.0" in message  # where to build it from instead


def test_a_pin_outside_a_dependants_declared_range_is_refused_with_the_range(
    tmp_path: Path, tree: Path
):
    path = course(
        tmp_path,
        tier("foundation", "0.3.0", "solution") + tier("arch", "0.1.0", "student"),
    )
    message = problems(path, packages_dir=tree)
    assert (
        "tiers.foundation.version: 0.3.0 is outside the range tinytorch-arch declares on it "
        "(tinytorch-foundation>=0.2,<0.3" in message
    )


def test_a_tier_not_in_the_tree_yet_is_a_not_in_tree_error(tmp_path: Path, tree: Path):
    path = course(tmp_path, tier("opt", "0.1.0", "student"))
    with pytest.raises(NotInTreeError, match="tinytorch-opt is not in this tree yet"):
        load(path, packages_dir=tree)


def test_a_milestone_not_in_the_tree_yet_is_a_not_in_tree_error(tmp_path: Path):
    milestones = tmp_path / "milestones"
    milestones.mkdir()
    runner = (courses.MILESTONES_DIR / "run.py").read_text(encoding="utf-8")
    (milestones / "run.py").write_text(runner, encoding="utf-8")
    path = course(tmp_path, tier("foundation", "0.2.0", "student"), milestones="[1]")
    with pytest.raises(
        NotInTreeError, match=r"milestone 1 \(1958 Perceptron\) is not in this tree yet"
    ):
        load(path, milestones_dir=milestones)


def test_a_milestone_whose_tier_the_course_leaves_out_is_refused(tmp_path: Path):
    path = course(tmp_path, tier("foundation", "0.2.0", "student"), milestones="[4, 9]")
    message = problems(path)
    assert "milestone 4 (1998 CNN) trains on tinytorch-arch" in message
    assert "no milestone 9" in message


def test_debug_mode_needs_known_bugs_and_only_debug_mode_has_bugs(tmp_path: Path):
    path = course(tmp_path, tier("foundation", "0.2.0", "debug"))
    assert "tiers.foundation.bugs: a debug tier names the bugs to plant" in problems(path)
    path = course(
        tmp_path,
        tier("foundation", "0.2.0", "debug", bugs='["softmax-no-maxshift"]'),
    )
    assert "did you mean 'softmax-no-max-shift'?" in problems(path)
    path = course(
        tmp_path,
        tier("foundation", "0.2.0", "student", bugs='["softmax-no-max-shift"]'),
    )
    assert "only a tier in debug mode has bugs" in problems(path)


def test_the_name_must_match_the_file_and_required_keys_are_named(tmp_path: Path):
    path = write(
        tmp_path,
        "mine",
        'name = "yours"\n[tiers.foundation]\nversion = "0.2.0"\nmode = "student"\n',
    )
    message = problems(path)
    assert "name: 'yours' differs from the file name 'mine.toml'" in message
    assert "title: missing" in message and "audience: missing" in message


def test_every_problem_is_reported_at_once(tmp_path: Path):
    path = course(
        tmp_path,
        tier("foundation", "0.2", "studnet") + tier("optim", "0.1.0", "student"),
    )
    with pytest.raises(CourseError) as caught:
        load(path)
    assert len(caught.value.problems) == 3
    assert all(p.startswith(f"{path}: ") for p in caught.value.problems)


def test_a_file_that_is_not_toml_says_where(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('name = "c"\ntitle = \n', encoding="utf-8")
    assert "not valid TOML" in problems(path) and "line 2" in problems(path)


def test_the_command_line_reports_and_exits_non_zero(tmp_path: Path, capsys):
    good = COURSES_DIR / "bootcamp-foundation.toml"
    bad = course(tmp_path, "[tiers.optim]\n")
    assert courses.main([str(good)]) == 0
    assert "ok  bootcamp-foundation: foundation 0.2.0 (student)" in capsys.readouterr().out
    assert courses.main([str(bad)]) == 1
    assert "unknown tier" in capsys.readouterr().err


def test_the_json_schema_agrees_with_the_validator(tmp_path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((COURSES_DIR / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in SHIPPED:
        assert not list(validator.iter_errors(_raw(name))), name
    for bad in (
        {"tiers": {"optim": {"version": "0.1.0", "mode": "student"}}},
        {"tiers": {"foundation": {"version": "0.2", "mode": "student"}}},
        {"tiers": {"foundation": {"version": "0.2.0", "mode": "studnet"}}},
        {"tiers": {"foundation": {"version": "0.2.0", "mode": "student"}}, "milestone": [1]},
    ):
        course = {"name": "c", "title": "t", "audience": "a", **bad}
        assert list(validator.iter_errors(course)), bad
