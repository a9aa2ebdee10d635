"""Datasets · Readers — MNIST and CIFAR-10 from files already on your disk.

Connection map
    Prerequisites : NumPy only
    Teaches       : parsing binary formats (IDX headers, fixed-size records), checking
                    untrusted files before use, and why unpickling is running code
    Unlocks       : milestones M3 on full MNIST and M4 (1998 CNN) on CIFAR-10

Nothing here downloads. Fetch the files once, by hand, and pass their folder; a
missing file is a FileNotFoundError that says which files are expected and where to
get them, and a malformed file is a ValueError naming the file and the problem.
Neither reader ever substitutes other data.

Every size a file declares is checked before it costs memory. An IDX header promises a
shape: it must be MNIST's (28 × 28 images, at most ``MAX_IMAGES`` of them, as many
labels as images) before any pixel is read, and then exactly that many bytes are
read — a ``.gz`` is decompressed in 1 MiB steps straight into the array and never
past the promised size, so a 1.5 MB file that inflates to gigabytes costs nothing.
A CIFAR-10 batch is at most ``MAX_BATCH_BYTES`` on disk.

CIFAR-10's "python version" is pickled, and a pickle is not data but a program for a
small stack machine: ``pickle.load`` would import and call whatever the file names (a
file can say "call ``os.system`` with this command"). So batches are read by a
restricted ``pickle.Unpickler`` whose ``find_class`` — the one door through which a
pickle reaches any code — admits only the NumPy names an array is rebuilt from, each
replaced by a stand-in that accepts exactly what NumPy writes (see ``_BatchUnpickler``).
Before that, ``pickletools.genops`` decodes (never runs) every opcode to check the
sizes they declare, because the unpickler allocates a declared length before reading it.

Memory: both readers return float32, four bytes per pixel. MNIST's training split is
60,000 × 784 × 4 bytes = 188 MB; CIFAR-10's is 50,000 × 3,072 × 4 bytes = 614 MB.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from pickletools import genops  # decodes a pickle's opcodes; never runs them
from typing import BinaryIO

import numpy as np

_NUM_CLASSES = 10

# ---------------------------------------------------------------- MNIST (IDX files)

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_MNIST_HELP = (
    "download the four MNIST IDX files (from the MNIST database or a mirror of it; "
    "gzipped .gz copies are fine) and pass the folder that holds them"
)
# An IDX file opens with a 4-byte big-endian magic number: two zero bytes, a type
# code (0x08 = unsigned bytes) and the number of dimensions. So labels (1-D) have
# magic 0x00000801 and images (3-D) have 0x00000803. Then one big-endian uint32 per
# dimension, then the data itself, row-major.
_IDX_UBYTE = 0x08
_MNIST_SIDE = 28
# MNIST, and its drop-in twins Fashion-MNIST and KMNIST, hold 60,000 + 10,000 images; a
# header promising more is refused, which caps the float32 result at 100,000 x 784 x 4 B.
MAX_IMAGES = 100_000
_CHUNK = 1 << 20  # bytes decompressed per step


def load_mnist(
    path: str | os.PathLike[str], split: str = "train", flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST from the IDX files in the folder ``path``.

    The folder must hold ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (split ``"train"``, 60,000 images) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (split ``"test"``, 10,000 images), each either as is or
    gzipped with a ``.gz`` suffix. Both headers are checked (28 × 28 images, at most
    ``MAX_IMAGES``, as many labels as images) before any data is read, and each file
    must hold exactly the bytes its header promises.

    Returns:
        ``images`` float32 of shape (N, 28, 28), or (N, 784) when ``flatten``, with
        values in [0, 1] (bytes divided by 255); ``labels`` int64 of shape (N,) in 0..9.

    Raises:
        ValueError: unknown ``split``, or a file is malformed.
        FileNotFoundError: the folder or one of the two files is missing.
    """
    folder = _folder(path, "load_mnist", _MNIST_HELP)
    names = _split_value(MNIST_FILES, split, "load_mnist")
    files = [_mnist_file(folder, name) for name in names]
    missing = [f"{name} (or {name}.gz)" for name, file in zip(names, files) if file is None]
    if missing:
        raise FileNotFoundError(f"load_mnist: {folder} lacks {', '.join(missing)}; {_MNIST_HELP}")
    image_file, label_file = files
    n, rows, cols = _idx_header(image_file, ndim=3)
    (n_labels,) = _idx_header(label_file, ndim=1)
    if (rows, cols) != (_MNIST_SIDE, _MNIST_SIDE) or n > MAX_IMAGES:
        raise ValueError(
            f"load_mnist: {image_file} header promises {n:,} images of {rows} x {cols}; "
            f"MNIST images are {_MNIST_SIDE} x {_MNIST_SIDE}, at most {MAX_IMAGES:,} of them"
        )
    if n != n_labels:
        raise ValueError(
            f"load_mnist: {image_file} holds {n} images but {label_file} holds {n_labels} labels"
        )
    images = _idx_data(image_file, (n, rows, cols))
    labels = _idx_data(label_file, (n,))
    _check_labels(labels, label_file, "load_mnist")
    x = images.astype(np.float32)
    x /= 255  # in place: the only float32 copy is the one returned
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.astype(np.int64)


def _mnist_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it exists, else ``folder/name.gz`` if that does, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


@contextmanager
def _idx_stream(file: Path) -> Iterator[BinaryIO]:
    """``file`` opened for reading, decompressed on the fly if its name ends in ``.gz``;
    a gzip stream that is not valid becomes a ValueError naming the file."""
    if file.suffix != ".gz":
        with file.open("rb") as stream:
            yield stream
        return
    try:
        with gzip.open(file, "rb") as stream:
            yield stream
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"load_mnist: {file} is not a valid gzip file: {error}") from error


def _idx_header(file: Path, ndim: int) -> tuple[int, ...]:
    """The dimensions in the IDX header of ``file``, after checking its magic number."""
    with _idx_stream(file) as stream:
        header = stream.read(4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim:
        raise ValueError(f"load_mnist: {file} has {len(header)} bytes, too few for an IDX header")
    magic = struct.unpack(">I", header[:4])[0]
    expected_magic = (_IDX_UBYTE << 8) | ndim
    if magic != expected_magic:
        raise ValueError(
            f"load_mnist: {file} has magic number 0x{magic:08x}, expected "
            f"0x{expected_magic:08x} (unsigned bytes, {ndim} dimension(s))"
        )
    return struct.unpack(f">{ndim}I", header[4:])


def _idx_data(file: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The uint8 array of ``shape`` after the (checked) header, read straight into place.

    Reads exactly the promised bytes, 1 MiB at a time, then one more to prove the file
    ends there: a ``.gz`` that inflates beyond its header is never decompressed further.
    """
    data = np.empty(shape, dtype=np.uint8)
    view = memoryview(data).cast("B")
    filled = 0
    with _idx_stream(file) as stream:
        stream.read(4 + 4 * len(shape))
        while filled < data.size:
            count = stream.readinto(view[filled : filled + _CHUNK])
            if not count:
                break
            filled += count
        extra = stream.read(1)
    if filled < data.size or extra:
        found = f"only {filled:,}" if filled < data.size else "more than that"
        raise ValueError(
            f"load_mnist: {file} header promises shape {shape}, i.e. {data.size:,} bytes "
            f"after the header, but the file has {found}"
        )
    return data


# ------------------------------------------------------------ CIFAR-10 (batch files)

CIFAR10_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
_CIFAR10_HELP = (
    "download CIFAR-10's 'python version' (cifar-10-python.tar.gz) or 'binary version' "
    "(cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, extract "
    "it, and pass the folder holding the batches (cifar-10-batches-py or cifar-10-batches-bin)"
)
_CIFAR10_PIXELS = 3 * 32 * 32  # one image: 1,024 red, then 1,024 green, then 1,024 blue bytes
# A batch holds 10,000 images, 30,720,000 pixel bytes plus labels and names (31 MB).
MAX_BATCH_BYTES = 64 << 20
_MAX_OPCODES = 1_000_000  # a real batch has about 40,000
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError, ValueError, TypeError, AttributeError, KeyError, IndexError,
    EOFError, OverflowError,
)  # fmt: skip


def load_cifar10(
    path: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10 from the batch files in the folder ``path``.

    Both official downloads work. The "python version" holds pickled batches named
    ``data_batch_1`` … ``data_batch_5`` (train, 10,000 images each) and ``test_batch``;
    the "binary version" holds the same batches as ``data_batch_1.bin`` … and
    ``test_batch.bin``, each a run of 3,073-byte records: one label byte, then 3,072
    pixel bytes. All batches of the split must be present.

    Why the pickles are read with a restricted unpickler: a pickle is a small program
    that ``pickle.load`` runs, and it may call any importable function — a file that
    says ``os.system("...")`` runs that command the moment it is loaded. A CIFAR-10
    batch only needs dicts, lists, strings, ints and NumPy arrays, so the unpickler
    (``_BatchUnpickler``) hands out nothing but stand-ins for NumPy's array rebuilders,
    and a tampered file fails with a ValueError instead of running code. The binary
    version needs no pickle at all.

    Returns:
        ``images`` float32 of shape (N, 3, 32, 32) — channels first, as ``Conv2d``
        expects — with values in [0, 1]; ``labels`` int64 of shape (N,) in 0..9.
        N is 50,000 for ``"train"`` and 10,000 for ``"test"`` with the real files.

    Raises:
        ValueError: unknown ``split``, or a batch is malformed, larger than
            ``MAX_BATCH_BYTES``, or names a global that a CIFAR-10 batch does not need.
        FileNotFoundError: the folder or a batch of the split is missing.
    """
    folder = _folder(path, "load_cifar10", _CIFAR10_HELP)
    names = _split_value(CIFAR10_BATCHES, split, "load_cifar10")
    pickled = [folder / name for name in names]
    binary = [folder / f"{name}.bin" for name in names]
    if all(file.is_file() for file in pickled):
        batches = [_read_cifar_pickle(file) for file in pickled]
    elif all(file.is_file() for file in binary):
        batches = [_read_cifar_binary(file) for file in binary]
    else:
        expected = ", ".join(names)
        raise FileNotFoundError(
            f"load_cifar10: {folder} lacks the {split} batches ({expected}, each with or "
            f"without .bin); {_CIFAR10_HELP}"
        )
    pixels = np.concatenate([batch_pixels for batch_pixels, _ in batches])
    labels = np.concatenate([batch_labels for _, batch_labels in batches])
    images = pixels.reshape(-1, 3, 32, 32).astype(np.float32) / 255
    return images, labels


def _read_batch_bytes(file: Path) -> bytes:
    """The bytes of a batch file, after checking that it is no larger than a batch can be."""
    size = file.stat().st_size
    if size > MAX_BATCH_BYTES:
        raise ValueError(
            f"load_cifar10: {file} has {size:,} bytes; a CIFAR-10 batch has about 31 MB "
            f"(at most {MAX_BATCH_BYTES:,} are read)"
        )
    return file.read_bytes()


def _read_cifar_binary(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels uint8 (n, 3072) and labels int64 (n,) of a binary-version batch."""
    raw = _read_batch_bytes(file)
    record_size = 1 + _CIFAR10_PIXELS
    if len(raw) == 0 or len(raw) % record_size:
        raise ValueError(
            f"load_cifar10: {file} has {len(raw)} bytes, not a positive multiple of the "
            f"{record_size}-byte record (1 label byte + {_CIFAR10_PIXELS} pixel bytes)"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record_size)
    labels = records[:, 0].astype(np.int64)
    _check_labels(labels, file, "load_cifar10")
    return records[:, 1:], labels


# ------------------------------------------------ reading a pickled batch, restricted
#
# A pickle is a program for a stack machine. Most opcodes push plain values (a string,
# an int, an empty dict) or combine what is on the stack; the dangerous ones reach out
# to code: GLOBAL names an importable object, REDUCE calls it, BUILD calls the
# ``__setstate__`` of what it made. Every name goes through ``find_class`` first. NumPy
# rebuilds an array (protocols 2-4) as
#
#     _reconstruct(ndarray, (0,), b"b")           an empty array, then BUILD with
#     (1, shape, dtype, is_fortran, raw_bytes)    its state, checked by NumPy against
#                                                 the bytes actually present;
#     dtype("u1", False, True)                    a dtype, then BUILD with its state
#
# and at protocol 5 as ``_frombuffer(raw_bytes, dtype, shape, order)``. Python 3 writes
# bytes at protocol 2 as ``_codecs.encode(text, "latin1")``.


class _Refused(pickle.UnpicklingError):
    """The pickle asks for something a CIFAR-10 batch never needs."""


class _ArrayType:
    """What the name ``numpy.ndarray`` stands for: an argument of ``_reconstruct`` only.

    The real class would let a pickle call ``ndarray(shape)`` and allocate any size.
    """

    def __call__(self, *args: object) -> None:
        raise _Refused("numpy.ndarray may only be passed to _reconstruct, not called")


def _reconstruct(subtype: object, shape: object, typecode: object) -> np.ndarray:
    """NumPy's first step: an empty array that BUILD then fills from the file's bytes."""
    if not (isinstance(subtype, _ArrayType) and shape == (0,) and typecode in (b"b", "b")):
        raise _Refused(f"unsupported call of _reconstruct with {_kinds(subtype, shape, typecode)}")
    return np.empty(0, dtype=np.int8)


def _dtype(code: object, align: object = False, copy: object = True) -> np.dtype:
    """A plain number dtype (bool, int, uint, float, complex): never "O", Python objects."""
    if not (isinstance(code, str) and _DTYPE_CODE.fullmatch(code)):
        raise _Refused(f"unsupported dtype {code!r:.40} (only plain numbers)")
    return np.dtype(code)


def _frombuffer(raw: object, dtype: object, shape: object, order: object) -> np.ndarray:
    """Protocol 5's array: ``shape`` elements of ``dtype`` in the bytes ``raw``."""
    if not (isinstance(raw, (bytes, bytearray)) and isinstance(dtype, np.dtype)):
        raise _Refused(f"unsupported call of _frombuffer with {_kinds(raw, dtype, shape, order)}")
    if order not in ("C", "F") or dtype.kind not in "biufc":
        raise _Refused(f"unsupported array of {dtype} in order {order!r:.10}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order=order)


def _latin1(text: object, encoding: object) -> bytes:
    """How Python 3 spells bytes at protocol 2: ``"\xff..".encode("latin1")``."""
    if not (isinstance(text, str) and encoding in ("latin1", "latin-1")):
        raise _Refused(f"unsupported call of encode with {_kinds(text, encoding)}")
    return text.encode("latin-1")


# (module, name) -> what a batch gets instead: stand-ins, never the objects themselves.
_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 1.x, the real files
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 2.x
    ("numpy", "ndarray"): _ArrayType(),
    ("numpy", "dtype"): _dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, NumPy 1.x
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, NumPy 2.x
    ("_codecs", "encode"): _latin1,
}
_DTYPE_CODE = re.compile(r"[biufc][0-9]{1,2}")


class _BatchUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that loads what a CIFAR-10 batch holds and nothing more.

    The pickle documentation's way to restrict unpickling ("Restricting Globals"):
    ``find_class`` is asked for every global before anything can be called, and this
    one answers only for the names in ``_GLOBALS``, with stand-ins that accept exactly
    the arguments NumPy writes. Strings from Python 2 are decoded as latin-1, which
    keeps every byte of the original files' pixel data.
    """

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _GLOBALS:
            raise _Refused(f"unsupported pickle global {module}.{name}")
        return _GLOBALS[module, name]


def _unpickle_batch(raw: bytes) -> object:
    """The value the pickle ``raw`` describes, loaded only after its sizes are checked.

    ``genops`` decodes every opcode without running it; reading from memory, it fails
    on a length longer than what remains instead of allocating it (the unpickler would
    allocate first). Memo slots must be numbered in order, as picklers write them (the
    unpickler's memo is an array as long as the largest slot number), and a batch needs
    a few tens of thousands of opcodes, so more than ``_MAX_OPCODES`` is refused.
    """
    stored = 0
    for count, (opcode, arg, pos) in enumerate(genops(raw)):
        if count > _MAX_OPCODES:
            raise _Refused(f"more than {_MAX_OPCODES:,} pickle opcodes")
        if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            if opcode.name != "MEMOIZE" and int(arg) > stored + 1:  # Python 2 counts from 1
                raise _Refused(f"{opcode.name} at byte {pos} uses memo slot {arg} out of order")
            stored += 1
    return _BatchUnpickler(io.BytesIO(raw), encoding="latin1").load()


def _kinds(*values: object) -> str:
    """The types of a call's arguments, for an error message."""
    return "(" + ", ".join(type(value).__name__ for value in values) + ")"


def _read_cifar_pickle(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels uint8 (n, 3072) and labels int64 (n,) of a python-version batch."""
    try:
        batch = _unpickle_batch(_read_batch_bytes(file))
    except _Refused as error:
        raise ValueError(f"load_cifar10: refusing to load {file}: {error}") from None
    except _UNPICKLING_ERRORS as error:  # truncated, inconsistent or unhashable
        raise ValueError(f"load_cifar10: cannot unpickle {file}: {error}") from error
    if not isinstance(batch, dict):
        raise ValueError(f"load_cifar10: {file} holds a {type(batch).__name__}, not a dict")
    batch = {_text(key): value for key, value in batch.items()}
    pixels, labels = batch.get("data"), batch.get("labels")
    if not (
        isinstance(pixels, np.ndarray)
        and pixels.dtype == np.uint8
        and pixels.ndim == 2
        and pixels.shape[1] == _CIFAR10_PIXELS
    ):
        raise ValueError(
            f"load_cifar10: {file} 'data' should be a uint8 array of shape (N, {_CIFAR10_PIXELS}), "
            f"got {_describe(pixels)}"
        )
    if not (isinstance(labels, list) and all(type(label) is int for label in labels)):
        raise ValueError(
            f"load_cifar10: {file} 'labels' should be a list of ints, got {_describe(labels)}"
        )
    if len(labels) != len(pixels):
        raise ValueError(f"load_cifar10: {file} has {len(pixels)} images but {len(labels)} labels")
    labels = np.array(labels, dtype=np.int64)
    _check_labels(labels, file, "load_cifar10")
    return pixels, labels


def _text(key: object) -> object:
    """A dict key as ``str``: Python 2 strings arrive as bytes."""
    return key.decode("latin-1") if isinstance(key, bytes) else key


def _describe(value: object) -> str:
    """A short description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return "nothing" if value is None else type(value).__name__


# ------------------------------------------------------------------------- shared


def _folder(path: str | os.PathLike[str], function: str, help_text: str) -> Path:
    """``path`` as a Path, after checking that it is an existing folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{function}: path must be a folder (str or Path), got {type(path).__name__}"
        )
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{function}: folder {folder} does not exist; {help_text}")
    return folder


def _split_value(table: dict[str, tuple[str, ...]], split: str, function: str) -> tuple[str, ...]:
    """``table[split]``, or a ValueError that lists the valid splits."""
    if not isinstance(split, str) or split not in table:
        raise ValueError(f"{function}: split must be one of {list(table)}, got {split!r}")
    return table[split]


def _check_labels(labels: np.ndarray, file: Path, function: str) -> None:
    """Raise a ValueError naming ``file`` if any label lies outside 0..9."""
    bad = labels[(labels < 0) | (labels >= _NUM_CLASSES)]
    if bad.size:
        raise ValueError(f"{function}: {file} has label {bad[0]}, outside 0..{_NUM_CLASSES - 1}")
