"""Grading at scale: a folder of submissions, each one data until proven otherwise.

A batch mixes honest, solved, cheating and hostile submissions of the demo tier; each
bad one is one ``error`` row that says why, and nothing of the batch survives it.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import zipfile
from pathlib import Path

import pytest

from coursetools import gradebook
from coursetools.bundle import UnsafeArchiveError


def zip_folder(folder: Path, target: Path, top: str) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".git" not in path.relative_to(folder).parts:
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return target


def bundle_lock(root: Path, *trees: str) -> None:
    tiers = [{"tier": "demo", "tree": tree} for tree in trees]
    (root / "bundle.lock.json").write_text(json.dumps({"lock_version": 1, "tiers": tiers}))


@pytest.fixture
def submissions(graded_demo, tmp_path: Path) -> Path:
    """One of each kind of submission, named as learners name things."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    graded_demo.learner(folder / "alice")  # nothing written yet
    solved = graded_demo.learner(tmp_path / "bob", "vector.py", "stats.py", "boost.py")
    zip_folder(solved, folder / "bob.zip", "bob-final")  # solved, zipped
    graded_demo.learner(folder / "dup x", "vector.py")  # names that
    graded_demo.learner(folder / "dup_x", "stats.py")  # clean up alike
    exits = graded_demo.learner(folder / "erin", "vector.py", "stats.py", "boost.py")
    init = exits / "src/tinytorch/demo/__init__.py"
    init.write_text("import os\nos._exit(0)\n" + init.read_text())
    thief = folder / "mallory"  # a bundle whose lock points at bob's tree
    thief.mkdir()
    bundle_lock(thief, "../bob")
    broken = folder / "oscar"  # a bundle whose lock is not one
    graded_demo.learner(broken / "demo")
    (broken / "bundle.lock.json").write_text('{"tiers": "demo"')
    with zipfile.ZipFile(folder / "zed.zip", "w") as archive:  # escapes its folder
        archive.writestr("zed/pyproject.toml", "[project]\n")
        archive.writestr("zed/../../escape.txt", "gotcha")
    (folder / "empty").mkdir()
    (folder / "notes.txt").write_text("not a submission")
    return folder


def test_a_folder_of_mixed_submissions_becomes_one_gradebook(
    graded_demo, submissions: Path, tmp_path: Path
):
    out = tmp_path / "grades"
    keys = {"tinytorch-demo": graded_demo.key}
    rows = gradebook.grade_batch(submissions, out, jobs=2, keys=keys)
    by_name = {row.submission: row for row in rows}
    assert list(by_name) == [
        "alice",
        "bob",
        "dup x",
        "dup_x",
        "empty",
        "erin",
        "mallory",
        "oscar",
        "zed",
    ]

    assert (by_name["alice"].status, by_name["alice"].points) == ("graded", 0.0)
    bob = by_name["bob"]
    assert (bob.status, bob.points, bob.max_points) == ("graded", 150.0, 150)
    assert bob.modules == {"01": 60.0, "02": 40.0, "03": 50.0}
    assert (by_name["dup x"].points, by_name["dup_x"].points) == (60.0, 40.0)
    erin = by_name["erin"]
    assert (erin.status, erin.points) == ("graded", 0.0)
    assert "exit code 0" in erin.detail
    assert by_name["mallory"].status == "error"
    assert "names a tree outside the submission: '../bob'" in by_name["mallory"].detail
    assert by_name["oscar"].status == "error" and "not a bundle lock" in by_name["oscar"].detail
    assert by_name["zed"].status == "error" and "'..' component" in by_name["zed"].detail
    assert not (tmp_path / "escape.txt").exists()
    assert by_name["empty"].status == "error"

    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["submission"] for r in table] == list(by_name)
    assert list(table[0])[:6] == ["submission", "tier", "version", "status", "points", "max_points"]
    assert table[1]["points"] == "150.00" and table[1]["m02"] == "40.00"
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert book[1]["report"]["isolation"] in ("bwrap", "process")
    reports = sorted(p.name for p in (out / "reports").iterdir())
    assert len(reports) == 5 and len({r.split("-")[0] for r in reports}) == 4  # dup x, dup_x apart
    dups = {
        json.loads((out / "reports" / r).read_text())["points"]
        for r in reports
        if r.startswith("dup")
    }
    assert dups == {60.0, 40.0}


def test_relative_paths_work_from_where_the_command_runs(
    graded_demo, submissions: Path, tmp_path: Path, monkeypatch
):
    key_file = tmp_path / "demo.answers.json"
    from coursetools import answers

    answers.save([graded_demo.key], key_file)
    for name in ("bob.zip", "dup x", "dup_x", "erin", "mallory", "oscar", "zed.zip", "empty"):
        target = submissions / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    monkeypatch.chdir(tmp_path)
    assert gradebook.main(["submissions", "--out", "grades", "--key", "demo.answers.json"]) == 0
    book = json.loads((tmp_path / "grades" / "gradebook.json").read_text())
    assert [(r["submission"], r["status"]) for r in book] == [("alice", "graded")]
    assert not list((submissions / "alice").rglob("*.json"))  # nothing written into a tree
    assert gradebook.main(["submissions", "--out", "submissions/grades"]) == 2


def test_a_bundle_submission_is_graded_tree_by_tree_on_its_own_trees(graded_demo, tmp_path: Path):
    root = tmp_path / "course"
    graded_demo.learner(root / "demo", "vector.py")
    bundle_lock(root, "demo")
    (tree,) = gradebook.find_trees(root, "course")
    assert (tree.path, tree.project) == (root / "demo", "tinytorch-demo")
    assert gradebook.find_trees(tmp_path, "course") == [tree]  # one top folder


@pytest.mark.parametrize(
    ("lock", "reason"),
    [
        ({"tiers": [{"tree": "/etc"}]}, "outside the submission"),
        ({"tiers": [{"tree": "demo/../../x"}]}, "outside the submission"),
        ({"tiers": [{"tree": "missing"}]}, "not there"),
        ({"tiers": [{"tree": 7}]}, "outside the submission"),
        ({"tiers": []}, "names no learner tree"),
        (["not", "a", "lock"], "not a bundle lock"),
    ],
)
def test_a_lock_is_checked_before_any_tree_it_names_is_used(tmp_path: Path, lock, reason):
    (tmp_path / "demo").mkdir()
    (tmp_path / "bundle.lock.json").write_text(json.dumps(lock))
    with pytest.raises(gradebook.SubmissionError, match=reason):
        gradebook.find_trees(tmp_path, "x")


def test_a_symbolic_link_or_a_fifo_in_a_folder_submission_is_refused(tmp_path: Path):
    for kind in ("link", "fifo"):
        folder = tmp_path / kind
        folder.mkdir()
        if kind == "link":
            (folder / "peek").symlink_to("/etc/passwd")
        else:
            os.mkfifo(folder / "peek")
        with pytest.raises(gradebook.SubmissionError, match="peek is not a regular file"):
            gradebook.open_submission(folder, tmp_path / "x", gradebook.SubmissionLimits())


def test_a_zip_bomb_is_refused_before_anything_is_extracted(tmp_path: Path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb/data.bin", "w", force_zip64=True) as entry:
            chunk = bytes(1 << 24)
            for _ in range(64):  # 1 GiB of zeros, about 1 MB zipped
                entry.write(chunk)
    assert bomb.stat().st_size < 2 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(gradebook.SubmissionError, match="unpacks to 1073741824 bytes"):
        gradebook.open_submission(bomb, tmp_path / "out", gradebook.SubmissionLimits())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 << 10  # KiB
    assert not (tmp_path / "out").exists()


def test_a_zip_that_lies_about_its_sizes_stops_at_the_declared_bytes(tmp_path: Path):
    honest = tmp_path / "honest.zip"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar/data.bin", bytes(64 << 20))
    data = bytearray(honest.read_bytes())
    declared = (64 << 20).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    data[:] = data.replace(declared, small)  # local header and central directory both lie
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    with pytest.raises(gradebook.SubmissionError):
        gradebook.open_submission(liar, tmp_path / "out", gradebook.SubmissionLimits())
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written <= 1000


def test_too_many_entries_are_refused(tmp_path: Path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(30):
            archive.writestr(f"many/{n}.txt", "x")
    with pytest.raises(UnsafeArchiveError, match="30 entries, more than 20"):
        from coursetools.bundle import ZipLimits, safe_extract

        safe_extract(many, tmp_path / "out", ZipLimits(entries=20))


def test_nothing_from_a_batch_is_running_after_it(
    graded_demo, tmp_path: Path, bwrap, sandbox_strays
):
    folder = tmp_path / "submissions"
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(3600)\n"
        "    os._exit(0)\n"
    )
    for name in ("ann", "ben", "cat"):
        tree = graded_demo.learner(folder / name, "vector.py")
        init = tree / "src/tinytorch/demo/__init__.py"
        init.write_text(daemon + init.read_text())
    rows = gradebook.grade_batch(
        folder, tmp_path / "grades", jobs=2, keys={"tinytorch-demo": graded_demo.key}
    )
    assert [(r.status, r.points) for r in rows] == [("graded", 60.0)] * 3
    assert sandbox_strays() == []
