"""Releases: a tier's version and changelog move together; dependants and courses are checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from coursetools import release
from coursetools.tiers import COURSES_DIR, PACKAGES_DIR, Tier


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the tree's tier metadata and course files (the real tree is never touched)."""
    for tier in sorted(PACKAGES_DIR.glob("tinytorch-*")):
        (tmp_path / "packages" / tier.name).mkdir(parents=True)
        for name in ("pyproject.toml", "CHANGELOG.md"):
            shutil.copyfile(tier / name, tmp_path / "packages" / tier.name / name)
    (tmp_path / "courses").mkdir()
    for course in COURSES_DIR.glob("*.toml"):
        shutil.copyfile(course, tmp_path / "courses" / course.name)
    return tmp_path


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("0.2.0", "patch", "0.2.1"),
        ("0.2.0", "minor", "0.3.0"),
        ("0.2.7", "major", "1.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("0.3.0rc1", "patch", "0.3.1"),
    ],
)
def test_bump(version: str, part: str, expected: str):
    assert release.bump(version, part) == expected


def test_a_dry_run_shows_the_release_and_writes_nothing(root: Path, capsys):
    foundation = root / "packages" / "tinytorch-foundation"
    before = {p: p.read_bytes() for p in foundation.iterdir()}
    assert release.main(["foundation", "patch", "--root", str(root), "--date", "2025-06-01"]) == 0
    out = capsys.readouterr().out
    assert "tinytorch-foundation: 0.2.0 -> 0.2.1" in out
    assert '+version = "0.2.1"' in out and "+## 0.2.1 — 2025-06-01" in out
    assert "git tag -a tinytorch-foundation-v0.2.1" in out and "dry run" in out
    assert {p: p.read_bytes() for p in foundation.iterdir()} == before


def test_apply_bumps_the_version_and_opens_a_changelog_section(root: Path):
    assert (
        release.main(["arch", "minor", "--root", str(root), "--apply", "--date", "2025-06-01"]) == 0
    )
    arch = Tier.load(root / "packages" / "tinytorch-arch")
    assert arch.version == "0.2.0"
    changelog = (arch.root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 0.2.0 — 2025-06-01") < changelog.index("## 0.1.0")
    assert "(describe what changed in 0.2.0)" in changelog


def test_unreleased_entries_become_the_new_section(root: Path):
    changelog = root / "packages" / "tinytorch-foundation" / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    first = text.index("\n## ")
    changelog.write_text(
        text[:first] + "\n## Unreleased\n\n- Faster matmul.\n" + text[first:], encoding="utf-8"
    )
    plan = release.plan("foundation", "patch", root, "2025-06-01")
    after = plan.edits[changelog][1]
    assert "## Unreleased" not in after
    assert "## 0.2.1 — 2025-06-01\n\n- Faster matmul.\n" in after
    assert not any("placeholder" in action for action in plan.actions)


def test_a_release_that_dependants_exclude_says_which_range_to_update(root: Path):
    plan = release.plan("foundation", "minor", root, "2025-06-01")
    (arch_action,) = [a for a in plan.actions if a.startswith("tinytorch-arch requires")]
    assert "tinytorch-foundation>=0.2,<0.3, which excludes 0.3.0" in arch_action
    assert "tinytorch-foundation>=0.3,<0.4" in arch_action
    assert any("courses/semester.toml pins foundation 0.2.0" in a for a in plan.actions)
    patch = release.plan("foundation", "patch", root, "2025-06-01")
    assert any("tinytorch-arch requires" in n and "admits 0.2.1" in n for n in patch.notes)
    assert not any(a.startswith("tinytorch-arch requires") for a in patch.actions)


def test_an_existing_tag_is_refused(root: Path):
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
        check=True,
    )
    subprocess.run(["git", "-C", str(root), "tag", "tinytorch-opt-v0.1.1"], check=True)
    with pytest.raises(release.ReleaseError, match=r"tag tinytorch-opt-v0\.1\.1 exists already"):
        release.plan("opt", "patch", root)


def test_an_unknown_tier_or_part_is_refused(root: Path, capsys):
    assert release.main(["optim", "patch", "--root", str(root)]) == 2
    assert "no tier 'optim'" in capsys.readouterr().err
    with pytest.raises(release.ReleaseError, match="unknown part"):
        release.bump("0.1.0", "micro")
