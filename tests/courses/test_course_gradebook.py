"""Grading at scale: a folder of submissions into one gradebook, each in its own process."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from coursetools import gradebook
from coursetools.student import generate_student_tree


def zip_folder(folder: Path, target: Path, top: str) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".git" not in path.relative_to(folder).parts:
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return target


@pytest.fixture
def submissions(demo_tier: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    fresh = generate_student_tree(demo_tier, tmp_path / "generated", lower=[])
    shutil.copytree(fresh, folder / "alice")  # nothing written yet

    solved = tmp_path / "bob"
    shutil.copytree(fresh, solved)
    for name in ("vector.py", "stats.py", "boost.py"):
        shutil.copyfile(
            demo_tier / "src/tinytorch/demo" / name, solved / "src/tinytorch/demo" / name
        )
    zip_folder(solved, folder / "bob.zip", "bob-final")

    stuck = folder / "carol"
    shutil.copytree(fresh, stuck)
    init = stuck / "src/tinytorch/demo/__init__.py"
    init.write_text("while True:\n    pass\n" + init.read_text(encoding="utf-8"))

    with zipfile.ZipFile(folder / "mallory.zip", "w") as archive:
        archive.writestr("mallory/pyproject.toml", "[project]\n")
        archive.writestr("mallory/../../escape.txt", "gotcha")
    (folder / "empty").mkdir()
    (folder / "notes.txt").write_text("not a submission", encoding="utf-8")
    return folder


def test_a_folder_of_submissions_becomes_one_gradebook(
    submissions: Path, demo_tier: Path, tmp_path: Path
):
    out = tmp_path / "grades"
    rows = gradebook.grade_batch(
        submissions, out, jobs=2, time_limit=15, packages_dir=demo_tier.parent
    )
    by_name = {row.submission: row for row in rows}
    assert sorted(by_name) == ["alice", "bob", "carol", "empty", "mallory"]

    bob = by_name["bob"]  # graded with the course's tests: the hidden one counts too
    assert (bob.status, bob.points, bob.max_points) == ("graded", 150.0, 150)
    assert bob.modules == {"01": 60.0, "02": 40.0, "03": 50.0}
    assert len(bob.report["modules"][1]["tests"]) == 3

    alice = by_name["alice"]
    assert alice.status == "graded" and alice.points < 50
    assert "NotImplementedError" in alice.detail

    carol = by_name["carol"]  # hangs at import: stopped at the limit, the batch goes on
    assert carol.status == "timeout" and "15 s" in carol.detail
    assert carol.seconds < 40

    assert by_name["mallory"].status == "refused"
    assert "'..' component" in by_name["mallory"].detail
    assert not (tmp_path / "escape.txt").exists()
    assert by_name["empty"].status == "refused"

    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["submission"] for r in table] == ["alice", "bob", "carol", "empty", "mallory"]
    assert list(table[0])[:6] == ["submission", "tier", "version", "status", "points", "max_points"]
    assert {"m01", "m02", "m03"} <= set(table[0])
    assert table[1]["points"] == "150.00" and table[1]["m02"] == "40.00"
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in book] == ["graded", "graded", "timeout", "refused", "refused"]
    assert book[1]["report"]["project"] == "tinytorch-demo"


def test_no_process_of_a_stopped_submission_survives(
    submissions: Path, demo_tier: Path, tmp_path: Path
):
    stuck = submissions / "carol"
    job = gradebook.Job("carol", stuck)
    (tmp_path / "out" / "reports").mkdir(parents=True)
    row = gradebook.grade_job(job, tmp_path / "out", 5, False, None, demo_tier.parent)
    assert row.status == "timeout"
    leftovers = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(stuck) in cmdline.read_bytes().decode(errors="replace"):
                leftovers.append(cmdline.parent.name)
        except OSError:  # the process ended meanwhile
            continue
    assert leftovers == []


def test_learner_tests_can_be_chosen_instead_of_the_courses(
    submissions: Path, demo_tier: Path, tmp_path: Path
):
    (submissions / "carol").rename(tmp_path / "carol-aside")
    rows = gradebook.grade_batch(
        submissions,
        tmp_path / "grades",
        jobs=2,
        time_limit=60,
        learner_tests=True,
        packages_dir=demo_tier.parent,
    )
    bob = next(r for r in rows if r.submission == "bob")
    assert len(bob.report["modules"][1]["tests"]) == 2  # the learner's copy has no hidden test
    assert bob.points == 150.0


def test_a_bundle_folder_is_graded_tree_by_tree(tmp_path: Path):
    root = tmp_path / "course"
    for tier in ("foundation", "arch"):
        (root / tier).mkdir(parents=True)
    (root / "bundle.lock.json").write_text(
        json.dumps(
            {
                "tiers": [
                    {"tier": "foundation", "tree": "foundation"},
                    {"tier": "arch", "tree": "arch"},
                ]
            }
        ),
        encoding="utf-8",
    )
    assert gradebook.find_trees(root) == [root / "foundation", root / "arch"]
    assert gradebook.find_trees(tmp_path) == [root / "foundation", root / "arch"]  # one top folder
