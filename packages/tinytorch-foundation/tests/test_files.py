"""Files — atomic writes that survive crashes, and .npz reading that checks sizes first.

Every tier saves its files through ``atomic_write`` and reads ``.npz`` files through
``read_npz`` (checkpoints, TinyDigits).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinytorch.files import atomic_write, read_npz

# ------------------------------------------------------------------------- writing


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_write_replaces_the_file_whole_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "notes.txt"
    for text in ("first", "second"):
        with atomic_write(target, "w", encoding="utf-8") as file:
            file.write(text)
    assert target.read_text("utf-8") == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_write_keeps_the_old_file_and_removes_its_temporary(
    tmp_path: Path, interruption: BaseException
) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(type(interruption)):
        with atomic_write(target) as file:
            file.write(b"half of the new")
            raise interruption
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


WRITER = """
import sys
from tinytorch.files import atomic_write
with atomic_write(sys.argv[1]) as file:
    file.write(b"half of the new")
    file.flush()
    print("writing", flush=True)
    sys.stdin.read()  # until killed
"""


def start_writer(target: Path) -> subprocess.Popen:
    """A process that is in the middle of an atomic write to ``target``."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline() == "writing\n"
    return writer


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_a_killed_write_leaves_the_old_file_and_the_next_write_clears_its_temporary(
    tmp_path: Path, sig: str
) -> None:
    target = tmp_path / "run.npz"
    target.write_bytes(b"old")
    writer = start_writer(target)
    writer.send_signal(getattr(signal, sig))  # no clean-up code can run
    writer.wait()
    assert target.read_bytes() == b"old"
    assert len(leftovers(tmp_path)) == 1
    with atomic_write(target) as file:
        file.write(b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_running_writers_temporary_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "run.npz"
    writer = start_writer(target)
    try:
        with atomic_write(target) as file:
            file.write(b"mine")
        assert len(leftovers(tmp_path)) == 1  # the other writer's, still in use
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.skipif(os.name == "nt", reason="abandoned temporaries are found by process id")
def test_only_the_targets_own_abandoned_temporaries_are_removed(tmp_path: Path) -> None:
    gone = 99_999_999  # above any pid_max: no such process
    abandoned = tmp_path / f".run.npz.{gone}.0123abcd.tmp"
    neighbours = [f".run.npz.1.{gone}.0123abcd.tmp", f".run.npz.{gone}.tmp", "notes.tmp"]
    for name in [abandoned.name, *neighbours]:
        (tmp_path / name).write_bytes(b"")
    with atomic_write(tmp_path / "run.npz") as file:
        file.write(b"new")
    assert not abandoned.exists()
    assert leftovers(tmp_path) == sorted(neighbours)


# ------------------------------------------------------------------------- reading


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def accept_all(name: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    return True


def test_reads_what_savez_wrote(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    arrays = {"x": np.arange(6.0).reshape(2, 3), "y": np.asfortranarray(np.eye(3, dtype=np.int8))}
    path.write_bytes(npz_bytes(**arrays))
    loaded = read_npz(path, accept_all, max_bytes=1 << 16)
    assert sorted(loaded) == ["x", "y"]
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype


def test_entries_the_check_declines_are_not_read(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    path.write_bytes(npz_bytes(keep=np.ones(2), skip=np.zeros(3)))
    seen = []

    def keep_only(name: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
        seen.append((name, shape, str(dtype)))
        return name == "keep"

    assert list(read_npz(path, keep_only, max_bytes=1 << 16)) == ["keep"]
    assert sorted(seen) == [("keep", (2,), "float64"), ("skip", (3,), "float64")]


def test_a_check_that_raises_is_reported_with_the_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    path.write_bytes(npz_bytes(w=np.ones(2)))

    def refuse(name: str, shape: tuple[int, ...], dtype: np.dtype) -> bool:
        raise ValueError("is not wanted here")

    with pytest.raises(ValueError, match=r"a\.npz: entry 'w': is not wanted here"):
        read_npz(path, refuse, max_bytes=1 << 16)


def zip_with(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def npy(array: np.ndarray) -> bytes:
    """One .npy file; an object array is written as NumPy does it, with a pickle inside."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=array.dtype.hasobject)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"x.npy": npy(np.zeros(100))}, "declare 928 bytes uncompressed, more than the 900"),
        ({"x.npy": npy(np.zeros(4))[:-8]}, r"declares a float64 array of shape \(4,\)"),
        ({"x.npy": npy(np.array([None], dtype=object))}, "Python objects"),
        ({"x.npy": b"not an array"}, "entry 'x' has no valid .npy header"),
        ({"x.txt": b"hello"}, "entry 'x.txt' is not a .npy array"),
        ({"x.npy": npy(np.zeros(1)), "y.npy": npy(np.zeros(1))}, None),
    ],
    ids=["too-big", "header-vs-size", "objects", "no-header", "not-npy", "fine"],
)
def test_sizes_and_headers_are_checked_before_any_data(tmp_path, entries, problem) -> None:
    path = zip_with(tmp_path / "a.npz", entries)
    if problem is None:
        assert sorted(read_npz(path, accept_all, max_bytes=900)) == ["x", "y"]
        return
    with pytest.raises(ValueError, match=problem) as error:
        read_npz(path, accept_all, max_bytes=900)
    assert str(path) in str(error.value)


def test_an_entry_named_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        zip_with(path, {"x.npy": npy(np.zeros(1))})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("x.npy", npy(np.ones(1)))
    with pytest.raises(ValueError, match=r"entry 'x' .*appears twice"):
        read_npz(path, accept_all, max_bytes=1 << 16)


def test_a_file_larger_than_the_bound_is_refused_unopened(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    with path.open("wb") as file:
        file.truncate(10_000)  # sparse
    with pytest.raises(ValueError, match="10,000 bytes, more than the 9,999 it may hold"):
        read_npz(path, accept_all, max_bytes=9_999)


def test_a_flipped_byte_fails_the_crc(tmp_path: Path) -> None:
    data = bytearray(npz_bytes(x=np.arange(64.0)))
    data[data.find(np.arange(64.0).tobytes()) + 100] ^= 0xFF
    path = tmp_path / "a.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"corrupted, or not an \.npz archive"):
        read_npz(path, accept_all, max_bytes=1 << 16)


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "nothing.npz", accept_all, max_bytes=1 << 16)
