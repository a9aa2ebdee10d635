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

Memory: both readers return float32, four bytes per pixel. MNIST's training split is
60,000 × 784 × 4 bytes = 188 MB; CIFAR-10's is 50,000 × 3,072 × 4 bytes = 614 MB.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import zlib
from pathlib import Path

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


def load_mnist(
    path: str | os.PathLike[str], split: str = "train", flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST from the IDX files in the folder ``path``.

    The folder must hold ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (split ``"train"``, 60,000 images) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (split ``"test"``, 10,000 images), each either as is or
    gzipped with a ``.gz`` suffix. Headers are checked against the file sizes, and the
    image and label counts against each other.

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
    images = _read_idx(image_file, ndim=3)
    labels = _read_idx(label_file, ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: {image_file} holds {len(images)} images but {label_file} "
            f"holds {len(labels)} labels"
        )
    _check_labels(labels, label_file, "load_mnist")
    x = images.astype(np.float32) / 255
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.astype(np.int64)


def _mnist_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it exists, else ``folder/name.gz`` if that does, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(file: Path, ndim: int) -> np.ndarray:
    """The uint8 array of shape ``dims`` stored in the IDX ``file``, after checking its header."""
    raw = _read_bytes(file)
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"load_mnist: {file} has {len(raw)} bytes, too few for an IDX header")
    magic = struct.unpack(">I", raw[:4])[0]
    expected_magic = (_IDX_UBYTE << 8) | ndim
    if magic != expected_magic:
        raise ValueError(
            f"load_mnist: {file} has magic number 0x{magic:08x}, expected "
            f"0x{expected_magic:08x} (unsigned bytes, {ndim} dimension(s))"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected_size = header_size + int(np.prod(dims))
    if len(raw) != expected_size:
        raise ValueError(
            f"load_mnist: {file} header promises shape {dims}, i.e. {expected_size} bytes, "
            f"but the file has {len(raw)}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _read_bytes(file: Path) -> bytes:
    """The bytes of the MNIST ``file``, decompressed first if its name ends in ``.gz``."""
    if file.suffix != ".gz":
        return file.read_bytes()
    try:
        with gzip.open(file, "rb") as stream:
            return stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"load_mnist: {file} is not a valid gzip file: {error}") from error


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
    that the unpickler runs, and it may call any importable function — a file that
    says ``os.system("...")`` runs that command the moment ``pickle.load`` reads it.
    A CIFAR-10 batch only needs dicts, lists, strings, ints and NumPy arrays, so the
    unpickler here resolves exactly the three globals that rebuild a NumPy array and
    refuses every other one, so a tampered file fails with a ValueError instead
    of running code. The binary version needs no pickle at all.

    Returns:
        ``images`` float32 of shape (N, 3, 32, 32) — channels first, as ``Conv2d``
        expects — with values in [0, 1]; ``labels`` int64 of shape (N,) in 0..9.
        N is 50,000 for ``"train"`` and 10,000 for ``"test"`` with the real files.

    Raises:
        ValueError: unknown ``split``, or a batch is malformed or asks for a global
            other than the NumPy array rebuilders.
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


def _read_cifar_binary(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels uint8 (n, 3072) and labels int64 (n,) of a binary-version batch."""
    raw = file.read_bytes()
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


# The function NumPy's pickles call to rebuild an array. Asking an array how it
# pickles itself finds it wherever this NumPy version keeps it.
_RECONSTRUCT = np.empty(0).__reduce__()[0]

# The only globals a CIFAR-10 batch may name: (module, name) -> object.
_ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # NumPy 1.x, the real files
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # NumPy 2.x
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else.

    Every other opcode of a pickle builds plain data (dicts, lists, strings, numbers);
    only a *global* reaches out to importable code, and ``find_class`` is where the
    unpickler looks globals up. Answering from a fixed table, without importing
    anything, means a malicious global is never even imported, let alone called.
    """

    def find_class(self, module: str, name: str) -> object:
        try:
            return _ARRAY_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ARRAY_GLOBALS)
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: a CIFAR-10 batch may only use {allowed}"
            ) from None


def _read_cifar_pickle(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels uint8 (n, 3072) and labels int64 (n,) of a python-version batch."""
    try:
        with file.open("rb") as stream:
            # The real batches were pickled by Python 2; "bytes" keeps its strings as bytes.
            batch = _ArrayOnlyUnpickler(stream, encoding="bytes").load()
    except Exception as error:  # a corrupt pickle can fail with almost any exception type
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
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{function}: folder {folder} does not exist; {help_text}")
    return folder


def _split_value(table: dict[str, tuple[str, ...]], split: str, function: str) -> tuple[str, ...]:
    """``table[split]``, or a ValueError that lists the valid splits."""
    if split not in table:
        raise ValueError(f"{function}: split must be one of {list(table)}, got {split!r}")
    return table[split]


def _check_labels(labels: np.ndarray, file: Path, function: str) -> None:
    """Raise a ValueError naming ``file`` if any label lies outside 0..9."""
    bad = labels[(labels < 0) | (labels >= _NUM_CLASSES)]
    if bad.size:
        raise ValueError(f"{function}: {file} has label {bad[0]}, outside 0..{_NUM_CLASSES - 1}")
