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

No pickle module, even for CIFAR-10's pickled batches. A pickle is not data but a
program for a small stack machine, and ``pickle.load`` runs it: its opcodes may import
and call any function (a file can say "call ``os.system`` with this command"), and even
a restricted ``Unpickler`` still runs the standard machine and trusts it to ask before
each call. So the "python version" batches are read by an interpreter written here,
over ``pickletools.genops`` — which only *decodes* the opcode stream into (opcode,
argument) pairs and never executes anything. The interpreter knows the two dozen
opcodes a CIFAR-10 batch uses (dicts, lists, tuples, strings, bytes, ints, booleans,
None, the memo) and treats the few globals that NumPy writes to rebuild an array as
*names*: it never looks up, imports or calls what a file names, but builds the array
itself with ``np.frombuffer(...).reshape(...)`` from the shape, dtype and raw bytes the
file stores. Any other opcode or global makes the file a ValueError ("refusing to load
…: unsupported pickle opcode …"), before anything from it has been used.

Memory: both readers return float32, four bytes per pixel. MNIST's training split is
60,000 × 784 × 4 bytes = 188 MB; CIFAR-10's is 50,000 × 3,072 × 4 bytes = 614 MB.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import struct
import zlib
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

    Why the pickles are read without the pickle module: a pickle is a small program
    that ``pickle.load`` runs, and it may call any importable function — a file that
    says ``os.system("...")`` runs that command the moment it is loaded. A CIFAR-10
    batch only needs dicts, lists, strings, ints and NumPy arrays, so it is read by
    the small opcode interpreter below (see ``_unpickle_batch``), which builds those
    values itself and refuses every other opcode or global, so a tampered file fails
    with a ValueError instead of running code. The binary version needs no pickle at all.

    Returns:
        ``images`` float32 of shape (N, 3, 32, 32) — channels first, as ``Conv2d``
        expects — with values in [0, 1]; ``labels`` int64 of shape (N,) in 0..9.
        N is 50,000 for ``"train"`` and 10,000 for ``"test"`` with the real files.

    Raises:
        ValueError: unknown ``split``, or a batch is malformed or uses a pickle opcode
            or global that a CIFAR-10 batch does not need.
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


# -------------------------------------- reading a pickled batch without pickle
#
# A pickle is a program for a stack machine. Most opcodes push plain values (a string,
# an int, an empty dict) or combine what is on the stack (TUPLE2, APPENDS, SETITEMS);
# MARK remembers a stack height so that TUPLE, APPENDS and SETITEMS know how many items
# are theirs; PUT/MEMOIZE keep the top item in the "memo" and GET pushes it again.
# What makes unpickling dangerous are the opcodes that reach out to code — GLOBAL
# (import a name), REDUCE (call it), BUILD (call its __setstate__), and others such as
# NEWOBJ and INST. NumPy needs the first three to rebuild an array:
#
#     _reconstruct(ndarray, (0,), b"b")           an empty array, then BUILD with
#     (1, shape, dtype, is_fortran, raw_bytes)    its state (version 1)
#     dtype("u1", False, True)                    a dtype, then BUILD with
#     (3, "|", None, None, None, -1, -1, 0)       its state (byte order second)
#
# Here a GLOBAL pushes only a _Name, REDUCE and BUILD accept nothing but those
# patterns, and the array is made by np.frombuffer from the bytes in the file.

# The only globals a CIFAR-10 batch may name: (module, name) -> what it stands for.
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "_reconstruct",  # NumPy 1.x, the real files
    ("numpy._core.multiarray", "_reconstruct"): "_reconstruct",  # NumPy 2.x
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.numeric", "_frombuffer"): "_frombuffer",  # protocol 5, NumPy 1.x
    ("numpy._core.numeric", "_frombuffer"): "_frombuffer",  # protocol 5, NumPy 2.x
    ("_codecs", "encode"): "encode",  # how Python 3 writes bytes at protocol 2
}
# Plain numeric dtypes only (bool, int, uint, float, complex): never "O", Python objects.
_DTYPE_CODE = re.compile(r"[biufc][0-9]{1,2}")
_BYTE_ORDERS = ("|", "<", ">", "=")

_PUSH_AS_IS = {
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",  # str
    "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8",  # bytes (bytearray)
    "BININT1", "BININT2", "BININT", "LONG1",  # int
}  # fmt: skip
_PY2_STRINGS = {"SHORT_BINSTRING", "BINSTRING"}  # Python 2 str: kept as bytes
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


class _Refused(Exception):
    """The pickle uses an opcode or global that a CIFAR-10 batch never needs."""


class _Name:
    """What GLOBAL pushes: the name of an allowed global, never the object it names."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Unbuilt:
    """What REDUCE of ``_reconstruct`` (kind "array") or ``dtype`` (kind "dtype", with its
    type code) pushes; BUILD turns it into the real thing, kept in ``built`` for GETs."""

    def __init__(self, kind: str, code: str = "") -> None:
        self.kind, self.code, self.built = kind, code, None


def _unpickle_batch(stream: BinaryIO) -> object:
    """The value the pickle in ``stream`` describes, computed without running it.

    Raises _Refused for an opcode or global outside the CIFAR-10 subset, ValueError or
    TypeError for a pickle that is truncated or does not add up.
    """
    stack: list[object] = []
    marks: list[int] = []  # the stack height at each MARK still open
    memo: dict[int, object] = {}

    def pop(n: int) -> list[object]:
        if len(stack) - n < (marks[-1] if marks else 0):
            raise ValueError(f"{name} at byte {pos} finds too few items on the stack")
        items = stack[len(stack) - n :]
        del stack[len(stack) - n :]
        return items

    def pop_mark() -> list[object]:
        if not marks:
            raise ValueError(f"{name} at byte {pos} has no MARK to go back to")
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    def top(kind: type) -> object:
        if len(stack) <= (marks[-1] if marks else 0) or type(stack[-1]) is not kind:
            raise ValueError(f"{name} at byte {pos} needs a {kind.__name__} on the stack")
        return stack[-1]

    for opcode, arg, pos in genops(stream):  # decodes, never executes
        name = opcode.name
        if name in _PUSH_AS_IS:
            stack.append(arg)
        elif name in _PY2_STRINGS:  # pickletools decodes these as latin-1: undo that
            stack.append(arg.encode("latin-1"))
        elif name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name == "PROTO":
            if not 2 <= arg <= 5:
                raise _Refused(f"unsupported pickle protocol {arg}")
        elif name == "FRAME":
            pass  # a length prefix that only helps readers buffer; nothing to do
        elif name == "MARK":
            marks.append(len(stack))
        elif name == "EMPTY_DICT":
            stack.append({})
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            stack.append(tuple(pop(int(name[-1]))))
        elif name == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif name == "APPEND":
            (value,) = pop(1)
            top(list).append(value)
        elif name == "APPENDS":
            values = pop_mark()
            top(list).extend(values)
        elif name == "SETITEM":
            key, value = pop(2)
            top(dict)[key] = value
        elif name == "SETITEMS":
            items = pop_mark()
            if len(items) % 2:
                raise ValueError(f"SETITEMS at byte {pos} has a key without a value")
            top(dict).update(zip(items[::2], items[1::2]))
        elif name in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
            (value,) = pop(1)
            stack.append(value)
            memo[len(memo) if name == "MEMOIZE" else arg] = value
        elif name in ("BINGET", "LONG_BINGET"):
            if arg not in memo:
                raise ValueError(f"{name} at byte {pos} asks for memo entry {arg}, never stored")
            value = memo[arg]
            if isinstance(value, _Unbuilt) and value.built is not None:
                value = value.built  # stored before its BUILD: hand out what BUILD made
            stack.append(value)
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            module, attribute = arg.split(" ", 1) if name == "GLOBAL" else pop(2)
            if type(module) is not str or type(attribute) is not str:
                raise ValueError(f"STACK_GLOBAL at byte {pos} needs two strings")
            if (module, attribute) not in _PICKLE_GLOBALS:
                raise _Refused(f"unsupported pickle global {module}.{attribute}")
            stack.append(_Name(_PICKLE_GLOBALS[module, attribute]))
        elif name == "REDUCE":
            stack.append(_reduce(*pop(2)))
        elif name == "BUILD":
            unbuilt, state = pop(2)
            stack.append(_build(unbuilt, state))
        elif name == "STOP":
            if marks or len(stack) != 1:
                raise ValueError(f"STOP at byte {pos} leaves {len(stack)} items on the stack")
            return stack[0]
        else:
            raise _Refused(f"unsupported pickle opcode {name} at byte {pos}")
    raise ValueError("pickle ends without STOP")  # genops raises first; kept for clarity


def _reduce(function: object, args: object) -> object:
    """What REDUCE makes of ``function(*args)`` — only NumPy's rebuilders, emulated."""
    if not isinstance(function, _Name) or type(args) is not tuple:
        raise _Refused(f"REDUCE may only call the NumPy array rebuilders, not a {_kind(function)}")
    call = function.name
    if call == "_reconstruct" and len(args) == 3:  # (ndarray, (0,), b"b"): an empty array
        subtype, shape, _typecode = args
        if isinstance(subtype, _Name) and subtype.name == "ndarray" and shape == (0,):
            return _Unbuilt("array")
    elif call == "dtype" and len(args) == 3:  # ("u1", False, True): a dtype awaiting BUILD
        code = _as_text(args[0])
        if code is not None and _DTYPE_CODE.fullmatch(code):
            return _Unbuilt("dtype", code)
        raise _Refused(f"unsupported dtype {args[0]!r:.40} (only plain numbers)")
    elif call == "_frombuffer" and len(args) == 4:  # protocol 5: (raw, dtype, shape, order)
        raw, dtype, shape, order = args
        if order in ("C", "F"):
            return _array(raw, dtype, shape, fortran=order == "F")
    elif call == "encode" and len(args) == 2 and args[1] in ("latin1", "latin-1"):
        if type(args[0]) is str:  # Python 3 bytes at protocol 2: text.encode("latin1")
            return args[0].encode("latin-1")
    raise _Refused(f"unsupported call of {call} with arguments {_kinds(args)}")


def _build(unbuilt: object, state: object) -> object:
    """What BUILD makes of an object from ``_reconstruct`` or ``dtype`` and its state."""
    if not isinstance(unbuilt, _Unbuilt) or unbuilt.built is not None:
        raise _Refused(f"BUILD may only complete a NumPy array or dtype, not a {_kind(unbuilt)}")
    if type(state) is not tuple:
        raise ValueError(f"BUILD of a {unbuilt.kind} needs a tuple state, got {_kind(state)}")
    if unbuilt.kind == "dtype":
        # (version 3 or 4, byte order, subarray, names, fields, size, alignment, flags[, meta])
        if not (
            len(state) in (8, 9)
            and state[0] in (3, 4)
            and _as_text(state[1]) in _BYTE_ORDERS
            and state[2:5] == (None, None, None)  # no sub-array, no fields: a plain number
        ):
            raise _Refused(f"unsupported dtype state {_kinds(state)}")
        order = _as_text(state[1])
        unbuilt.built = np.dtype(unbuilt.code if order in "|=" else order + unbuilt.code)
    else:
        # (version 1, shape, dtype, is_fortran, raw bytes); older NumPy left out the version
        if len(state) == 5 and state[0] == 1:
            state = state[1:]
        if len(state) != 4:
            raise ValueError(f"unsupported array state {_kinds(state)}")
        shape, dtype, fortran, raw = state
        if fortran not in (0, 1):
            raise ValueError(f"array state has is_fortran {_kind(fortran)}, not a boolean")
        unbuilt.built = _array(raw, dtype, shape, fortran=bool(fortran))
    return unbuilt.built


def _array(raw: object, dtype: object, shape: object, fortran: bool) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` whose elements are the bytes ``raw``."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
        raise _Refused(f"unsupported array dtype {dtype!r:.40} (only plain numbers)")
    if not (type(shape) is tuple and all(type(n) is int and n >= 0 for n in shape)):
        raise ValueError(f"array shape should be a tuple of sizes, got {shape!r:.60}")
    if type(raw) not in (bytes, bytearray):
        raise ValueError(f"array data should be bytes, got {_kind(raw)}")
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError(
            f"array of shape {shape} and dtype {dtype} needs "
            f"{math.prod(shape) * dtype.itemsize} bytes, the file gives {len(raw)}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _as_text(value: object) -> str | None:
    """``value`` as str if it is one, or ASCII bytes as Python 2 wrote strings; else None."""
    if type(value) is bytes and value.isascii():
        return value.decode("ascii")
    return value if type(value) is str else None


def _kind(value: object) -> str:
    """The type of a pickled value, named for an error message."""
    return value.name if isinstance(value, _Name) else type(value).__name__


def _kinds(values: tuple) -> str:
    """The types of a tuple's items, for an error message."""
    return "(" + ", ".join(_kind(value) for value in values) + ")"


def _read_cifar_pickle(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels uint8 (n, 3072) and labels int64 (n,) of a python-version batch."""
    try:
        with file.open("rb") as stream:
            batch = _unpickle_batch(stream)
    except _Refused as error:
        raise ValueError(f"load_cifar10: refusing to load {file}: {error}") from None
    except (ValueError, TypeError) as error:  # truncated, inconsistent or unhashable
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
