"""The course tools' one way to write a file (``coursetools.files``): whole or not at all.

Reports, gradebooks, answer keys and bundles all go through it; a killed write leaves
one ``.partial`` file, which the next write of the same target takes over.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coursetools import bundle
from coursetools.files import atomic_write, write_atomic

REPO = Path(__file__).resolve().parents[2]
COURSES = REPO / "courses"


def test_text_and_bytes_replace_the_file_whole_and_leave_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    write_atomic(target, "old ✓")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_an_interrupted_write_keeps_the_old_file_and_removes_its_partial(tmp_path: Path) -> None:
    target = tmp_path / "gradebook.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as file:
        file.write("half of the ne")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.csv"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_killed_write_leaves_one_partial_until_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "grade.json"
    target.write_text("old", encoding="utf-8")
    writer = (
        "import os, signal, sys\n"
        "from coursetools.files import atomic_write\n"
        "with atomic_write(sys.argv[1]) as file:\n"
        "    file.write('half'); file.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(COURSES)}
    killed = subprocess.run([sys.executable, "-c", writer, str(target)], env=env, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".grade.json.partial", "grade.json"]
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grade.json"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_permissions_hold_even_over_a_leftover_partial(tmp_path: Path) -> None:
    target = tmp_path / "answers.json"
    leftover = tmp_path / ".answers.json.partial"
    leftover.write_text("someone else's", encoding="utf-8")
    leftover.chmod(0o644)
    write_atomic(target, "secret", permissions=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_no_other_module_renames_a_temporary_file_into_place() -> None:
    """One mechanism each side: coursetools.files here, tinytorch.files in the tiers."""
    helpers = {
        COURSES / "coursetools" / "files.py",
        *REPO.glob("packages/*/src/tinytorch/files.py"),
    }
    sources = [*COURSES.glob("coursetools/*.py"), *REPO.glob("packages/*/src/tinytorch/**/*.py")]
    for source in set(sources) - helpers:
        assert "os.replace(" not in source.read_text(encoding="utf-8"), source


def test_a_zip_is_written_through_the_helper(tmp_path: Path) -> None:
    target = tmp_path / "course.zip"
    bundle.write_zip({"README.md": b"hello"}, target, "course", 0)
    with zipfile.ZipFile(target) as archive:
        assert archive.read("course/README.md") == b"hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.zip"]
