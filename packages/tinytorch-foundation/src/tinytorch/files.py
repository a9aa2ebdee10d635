"""Files — saving atomically and reading untrusted ``.npz`` files within bounds.

Connection map
    Prerequisites : NumPy only (no framework module), so every tier and the datasets can use it
    Teaches       : why a save goes to a temporary file that is then renamed, and why a
                    reader checks every size a file declares before it allocates anything
    Unlocks       : 07 checkpoints · TinyDigits · 10 tokenizer files · 20 capstone submissions

Systems insight: a file's claims cost memory before they can be checked. A 2 MB ``.npz``
can declare an entry that decompresses to 2 GiB, so the only safe order is: read the
small headers, compare every declared size with what the caller expects and with a
bound, and only then read the data, stopping at the declared size. Writing has the
mirror problem: a crash halfway through ``open(path, "w")`` destroys the previous file,
so data goes to a temporary file that replaces ``path`` in one rename.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# ------------------------------------------------------------------------- writing


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; when the block ends it replaces ``path``.

    ``with atomic_write(path, "w", encoding="utf-8") as file: file.write(text)`` (``mode``
    is ``"w"`` or ``"wb"``). The data goes to ``.<name>.<pid>.<random>.tmp`` in the same
    folder (a rename never crosses file systems), is flushed and fsync'ed, then renamed
    over ``path`` with ``os.replace``, which is atomic on POSIX and Windows: a reader
    sees the old file or the new one, never half of one. Any exception in the block,
    KeyboardInterrupt included, removes the temporary file and leaves ``path`` untouched.

    A process killed outright (SIGKILL, SIGTERM, power loss) runs no clean-up code, so
    each write first removes the temporary files of the same target whose writing
    process is no longer running.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temporaries(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # "x": create, never reuse; permissions follow the umask as for any new file.
        with open(temporary, mode.replace("w", "x"), encoding=encoding) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _remove_abandoned_temporaries(path: Path) -> None:
    """Delete ``.<name>.<pid>.<8 hex>.tmp`` files beside ``path`` whose process has ended."""
    ours = re.compile(re.escape(f".{path.name}.") + r"([0-9]+)\.[0-9a-f]{8}\.tmp")
    for candidate in path.parent.iterdir():
        match = ours.fullmatch(candidate.name)
        if match and not _running(int(match[1])):
            candidate.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 asks without sending anything)."""
    if os.name == "nt":  # there os.kill(pid, 0) would send Ctrl-C: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


# ------------------------------------------------------------------------- reading

NpzCheck = Callable[[str, tuple[int, ...], np.dtype], bool]
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what np.savez(_compressed) writes
_NPY_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npz(
    file: str | os.PathLike[str] | Traversable, check: NpzCheck, max_bytes: int
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` whose entries ``check`` accepts, after checking every size.

    An ``.npz`` is a zip archive of ``.npy`` files, and both layers declare sizes that a
    hostile file can inflate. Nothing is decompressed until every entry has passed:

    * the file, and the total of the uncompressed sizes its zip directory declares, are
      at most ``max_bytes``;
    * each entry is a ``.npy`` file, named once, stored or deflated, not encrypted;
    * its ``.npy`` header (at most 10 KB, read first) declares a shape and a dtype
      without Python objects (those need pickle), whose bytes fill the entry exactly;
    * ``check(name, shape, dtype)`` — the caller's expectations, such as a parameter's
      shape — returns True to read the entry, False to skip it, or raises ValueError.

    Then the accepted entries are read; zipfile stops at each declared size and checks
    the CRC. Peak memory is the accepted arrays themselves, which are read-only views
    of the bytes read.

    Raises:
        FileNotFoundError: ``file`` does not exist.
        ValueError: ``"<file>: <problem>"`` for anything else, naming the entry when
            one is at fault (including the problems ``check`` raises).
    """
    opened = Path(file).open("rb") if isinstance(file, (str, os.PathLike)) else file.open("rb")
    with opened as stream:
        size = stream.seek(0, os.SEEK_END)
        if size > max_bytes:
            raise ValueError(f"{file}: {size:,} bytes, more than the {max_bytes:,} it may hold")
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                accepted = _checked_entries(archive, check, max_bytes, file)
                return {name: _read_entry(archive, *entry) for name, entry in accepted.items()}
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise ValueError(f"{file}: corrupted, or not an .npz archive ({error})") from None


def _checked_entries(
    archive: zipfile.ZipFile, check: NpzCheck, max_bytes: int, file: object
) -> dict[str, tuple]:
    """name -> (zip entry, shape, dtype, Fortran order, header bytes) of accepted entries."""
    infos = archive.infolist()
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise ValueError(
            f"{file}: its entries declare {declared:,} bytes uncompressed, more than the "
            f"{max_bytes:,} it may hold"
        )
    accepted: dict[str, tuple] = {}
    seen: set[str] = set()
    for info in infos:
        name = info.filename.removesuffix(".npy")
        where = f"{file}: entry {name!r}"
        if not info.filename.endswith(".npy") or name in seen:
            raise ValueError(f"{where} is not a .npy array, or appears twice")
        if info.flag_bits & 0x1 or info.compress_type not in _COMPRESSIONS:
            raise ValueError(
                f"{where} is encrypted or compressed with something other than deflate"
            )
        seen.add(name)
        with archive.open(info) as entry:
            try:
                version = np.lib.format.read_magic(entry)
                if version not in _NPY_READERS:
                    raise ValueError(f".npy format version {version} is not supported")
                shape, fortran, dtype = _NPY_READERS[version](entry)
            except ValueError as error:
                raise ValueError(f"{where} has no valid .npy header ({error})") from None
            header = entry.tell()
        if dtype.hasobject:
            raise ValueError(f"{where} holds Python objects, which only pickle could read")
        data = math.prod(shape) * dtype.itemsize
        if header + data != info.file_size:
            raise ValueError(
                f"{where} declares a {dtype} array of shape {shape} ({data:,} bytes) but "
                f"holds {info.file_size - header:,} bytes"
            )
        try:
            wanted = check(name, shape, dtype)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        if wanted:
            accepted[name] = (info, shape, dtype, fortran, header)
    return accepted


def _read_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    shape: tuple[int, ...],
    dtype: np.dtype,
    fortran: bool,
    header: int,
) -> np.ndarray:
    """One entry's array, reading exactly the bytes its checked header declared."""
    size = math.prod(shape) * dtype.itemsize
    with archive.open(info) as entry:
        entry.read(header)
        data = entry.read(size)
        if len(data) != size or entry.read(1):
            raise zipfile.BadZipFile(f"entry {info.filename!r} does not match its header")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
