"""Specification of tinytorch.datasets: toy problems, TinyDigits, and the MNIST/CIFAR-10 readers.

The readers are tested on small files that each test writes into ``tmp_path``, in the
exact on-disk formats of the real downloads; nothing is downloaded.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import pickle
import pickletools
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from tinytorch.datasets import (
    TINYDIGITS_INFO,
    linearly_separable,
    load_cifar10,
    load_mnist,
    load_tinydigits,
    logic_gate,
    readers,
    tinydigits,
    xor_clouds,
)
from tinytorch.datasets.readers import MAX_BATCH_BYTES

BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_tinydigits.py"


def perceptron_mistakes(x: np.ndarray, y: np.ndarray, epochs: int = 100) -> int:
    """Train Rosenblatt's perceptron; return the mistakes of its last epoch (0 = separated)."""
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(x.astype(np.float64), y[:, 0]):
            sign = 1.0 if yi == 1 else -1.0
            if sign * (xi @ w + b) <= 0:
                w, b, mistakes = w + sign * xi, b + sign, mistakes + 1
        if mistakes == 0:
            return 0
    return mistakes


# ------------------------------------------------------------------- toy problems


@pytest.mark.parametrize(
    ("name", "outputs"),
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0])],
)
def test_logic_gate_is_the_truth_table(name: str, outputs: list[int]) -> None:
    x, y = logic_gate(name)
    assert x.shape == (4, 2) and y.shape == (4, 1)
    assert x.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y[:, 0], outputs)


def test_logic_gate_uses_the_requested_dtype() -> None:
    x, y = logic_gate("and", dtype=np.float64)
    assert x.dtype == y.dtype == np.float64


def test_unknown_gate_is_an_error_listing_the_valid_names() -> None:
    with pytest.raises(ValueError, match="'and', 'or', 'xor', 'nand'"):
        logic_gate("xnor")


@pytest.mark.parametrize("name", ["and", "or", "nand"])
def test_a_perceptron_learns_the_separable_gates(name: str) -> None:
    assert perceptron_mistakes(*logic_gate(name)) == 0


def test_a_perceptron_cannot_learn_xor() -> None:
    assert perceptron_mistakes(*logic_gate("xor")) > 0


def test_linearly_separable_shapes_dtypes_and_balance() -> None:
    x, y = linearly_separable(n_per_class=30)
    assert x.shape == (60, 2) and y.shape == (60, 1)
    assert x.dtype == y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0}
    assert y.sum() == 30


def test_linearly_separable_is_deterministic_per_seed() -> None:
    first, again = linearly_separable(seed=3), linearly_separable(seed=3)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], linearly_separable(seed=4)[0])


@pytest.mark.parametrize("margin", [0.1, 1.0, 3.0])
def test_linearly_separable_leaves_an_empty_band_around_the_line(margin: float) -> None:
    x, y = linearly_separable(n_per_class=200, seed=1, margin=margin)
    signed_distance = (x[:, 0] + x[:, 1]) / np.sqrt(2)  # from the line x0 + x1 = 0
    side = np.where(y[:, 0] == 1, 1.0, -1.0)
    assert np.all(side * signed_distance >= margin / 2 - 1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_perceptron_separates_linearly_separable(seed: int) -> None:
    assert perceptron_mistakes(*linearly_separable(seed=seed, margin=0.5)) == 0


def test_xor_clouds_without_noise_is_the_xor_truth_table_repeated() -> None:
    x, y = xor_clouds(n_per_quadrant=5, noise=0.0)
    assert x.shape == (20, 2) and y.shape == (20, 1)
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]))
    assert sorted(map(tuple, np.unique(x, axis=0))) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_xor_clouds_is_noisy_balanced_and_deterministic() -> None:
    x, y = xor_clouds(n_per_quadrant=40, noise=0.1, seed=7)
    assert x.shape == (160, 2) and x.dtype == y.dtype == np.float32
    assert y.sum() == 80
    corner = np.round(x).clip(0, 1)  # small noise: every point is nearest its own corner
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(corner[:, 0], corner[:, 1]))
    np.testing.assert_array_equal(x, xor_clouds(n_per_quadrant=40, noise=0.1, seed=7)[0])
    assert perceptron_mistakes(x, y) > 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: linearly_separable(n_per_class=0),
        lambda: linearly_separable(margin=0.0),
        lambda: xor_clouds(n_per_quadrant=0),
        lambda: xor_clouds(noise=-0.1),
    ],
)
def test_toy_problems_reject_bad_arguments(call) -> None:
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    ("call", "error", "problem"),
    [
        (lambda: linearly_separable("5"), TypeError, "n_per_class must be an int, got str '5'"),
        (lambda: linearly_separable(2.5), TypeError, "n_per_class must be an int, got float"),
        (lambda: linearly_separable(seed=-1), ValueError, "seed must be >= 0, got -1"),
        (lambda: xor_clouds(noise=float("nan")), ValueError, "noise must be a finite number >= 0"),
        (lambda: xor_clouds(noise="0.1"), TypeError, "noise must be a number, got str"),
        (lambda: xor_clouds(seed=None), TypeError, "seed must be an int, got NoneType"),
        (lambda: logic_gate(["and"]), ValueError, r"unknown gate \['and'\]"),
    ],
)
def test_toy_problems_name_the_function_and_the_bad_value(call, error, problem) -> None:
    with pytest.raises(error, match=problem) as info:
        call()
    assert str(info.value).startswith(("linearly_separable: ", "xor_clouds: ", "logic_gate: "))


# --------------------------------------------------------------------- TinyDigits


@pytest.mark.parametrize("split", ["train", "test"])
def test_tinydigits_shapes_dtypes_and_ranges(split: str) -> None:
    images, labels = load_tinydigits(split)
    n = TINYDIGITS_INFO["num_images"][split]
    assert images.shape == (n, 8, 8) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    assert np.all(np.isin(images * 16, np.arange(17)))  # stored counts 0..16, divided by 16


def test_tinydigits_flatten_gives_rows_of_64_pixels() -> None:
    square, _ = load_tinydigits("test")
    flat, _ = load_tinydigits("test", flatten=True)
    assert flat.shape == (len(square), 64)
    np.testing.assert_array_equal(flat, square.reshape(len(square), 64))


def test_tinydigits_splits_are_1438_and_359_of_1797_images() -> None:
    assert TINYDIGITS_INFO["num_images"] == {"train": 1438, "test": 359}


def test_tinydigits_split_is_stratified() -> None:
    train_counts = np.bincount(load_tinydigits("train")[1], minlength=10)
    test_counts = np.bincount(load_tinydigits("test")[1], minlength=10)
    test_share = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(test_share - 0.2) < 0.01)


def test_tinydigits_loads_identically_every_time() -> None:
    first, again = load_tinydigits("train"), load_tinydigits("train")
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


def test_tinydigits_rejects_an_unknown_split() -> None:
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_tinydigits("validation")


def test_shipped_tinydigits_file_is_small_pickle_free_and_documented() -> None:
    data = tinydigits.DATA_FILE.read_bytes()
    assert len(data) < 200_000
    with tinydigits.DATA_FILE.open("rb") as stream, np.load(stream, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["meta", "x_test", "x_train", "y_test", "y_train"]
        assert all(npz[key].dtype != object for key in npz.files)
        meta = json.loads(str(npz["meta"]))
    assert "UCI" in meta["source"] and "load_digits" in meta["source"]


@pytest.fixture
def build_script():
    """The build script as a module; needs scikit-learn, so skip without it."""
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("build_tinydigits", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_tinydigits_matches_what_the_build_script_produces(build_script) -> None:
    built = build_script.build_arrays()
    with tinydigits.DATA_FILE.open("rb") as stream, np.load(stream, allow_pickle=False) as shipped:
        assert sorted(shipped.files) == sorted(built)
        for key, array in built.items():
            assert shipped[key].dtype == array.dtype, key
            np.testing.assert_array_equal(shipped[key], array, err_msg=key)


def test_build_script_is_byte_reproducible(build_script, tmp_path: Path, capsys) -> None:
    build_script.main(["--out", str(tmp_path / "a.npz")])
    build_script.main(["--out", str(tmp_path / "b.npz")])
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]  # no temp files left
    assert "train   142" in capsys.readouterr().out


def write_npz(path: Path, **overrides: np.ndarray) -> Path:
    """A TinyDigits-shaped .npz with two images per split, with some arrays replaced."""
    arrays = {
        "x_train": np.zeros((2, 8, 8), np.uint8),
        "y_train": np.array([0, 1], np.uint8),
        "x_test": np.full((2, 8, 8), 16, np.uint8),
        "y_test": np.array([8, 9], np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_tinydigits_loads_a_valid_replacement_file(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tinydigits, "DATA_FILE", write_npz(tmp_path / "ok.npz"))
    images, labels = load_tinydigits("test")
    np.testing.assert_array_equal(images, np.ones((2, 8, 8), np.float32))
    np.testing.assert_array_equal(labels, [8, 9])


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"y_test": None}, "missing arrays \\['y_test'\\]"),
        ({"x_train": np.zeros((2, 8, 8), np.float32)}, "x_train should be uint8 \\(N, 8, 8\\)"),
        ({"x_train": np.zeros((2, 64), np.uint8)}, "x_train should be uint8 \\(N, 8, 8\\)"),
        ({"y_train": np.array([0, 1, 2], np.uint8)}, "y_train should be uint8 \\(2,\\)"),
        ({"x_train": np.full((2, 8, 8), 17, np.uint8)}, "pixel value 17"),
        ({"y_train": np.array([0, 10], np.uint8)}, "label 10"),
        ({"x_train": np.zeros((0, 8, 8), np.uint8), "y_train": np.zeros(0, np.uint8)}, "empty"),
    ],
)
def test_tinydigits_names_the_file_and_the_problem(
    monkeypatch, tmp_path, overrides, problem
) -> None:
    bad = write_npz(tmp_path / "bad.npz", **overrides)
    monkeypatch.setattr(tinydigits, "DATA_FILE", bad)
    with pytest.raises(ValueError, match=problem) as error:
        load_tinydigits("train")
    assert str(bad) in str(error.value)


def test_tinydigits_missing_file_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    missing = tmp_path / "tinydigits.npz"
    monkeypatch.setattr(tinydigits, "DATA_FILE", missing)
    with pytest.raises(FileNotFoundError, match="reinstall") as error:
        load_tinydigits()
    assert str(missing) in str(error.value)


@pytest.mark.parametrize("content", [b"not an npz at all", b"PK\x03\x04 truncated zip"])
def test_tinydigits_unreadable_file_is_a_clear_error(monkeypatch, tmp_path, content) -> None:
    garbage = tmp_path / "tinydigits.npz"
    garbage.write_bytes(content)
    monkeypatch.setattr(tinydigits, "DATA_FILE", garbage)
    with pytest.raises(ValueError, match=r"corrupted, or not an \.npz archive") as error:
        load_tinydigits()
    assert str(garbage) in str(error.value)


# -------------------------------------------------------------------- MNIST (IDX)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file: magic 0x0000 08 <ndim>, big-endian uint32 dims, then the bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, data: bytes, gz: bool = False) -> None:
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def write_mnist(folder: Path, split: str = "train", n: int = 5, gz: bool = False) -> tuple:
    """Write n random 28x28 images and labels under the real MNIST file names."""
    prefix = "train" if split == "train" else "t10k"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_reads_idx_files_plain_or_gzipped(tmp_path: Path, split: str, gz: bool) -> None:
    images, labels = write_mnist(tmp_path, split, n=5, gz=gz)
    x, y = load_mnist(tmp_path, split)
    assert x.shape == (5, 28, 28) and x.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    np.testing.assert_allclose(x, images / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_mnist_flatten_gives_rows_of_784_pixels(tmp_path: Path) -> None:
    images, _ = write_mnist(tmp_path, n=3)
    x, _ = load_mnist(str(tmp_path), flatten=True)
    assert x.shape == (3, 784)
    np.testing.assert_allclose(x, images.reshape(3, 784) / 255, rtol=1e-6)


def test_mnist_missing_folder_says_what_to_download(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="download the four MNIST IDX files"):
        load_mnist(tmp_path / "nowhere")


def test_mnist_missing_file_is_named(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    expected = "train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz)"
    with pytest.raises(FileNotFoundError, match=re.escape(expected)):
        load_mnist(tmp_path)


@pytest.mark.parametrize("reader", [load_mnist, load_cifar10])
def test_readers_name_themselves_when_the_path_is_not_a_path(reader) -> None:
    with pytest.raises(TypeError, match=rf"^{reader.__name__}: path must be a folder .*NoneType"):
        reader(None)


@pytest.mark.parametrize("reader", [load_mnist, load_cifar10])
def test_readers_reject_a_split_that_is_not_a_name(tmp_path, reader) -> None:
    with pytest.raises(ValueError, match=rf"^{reader.__name__}: split must be one of"):
        reader(tmp_path, split=["train"])


def test_mnist_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of \\['train', 'test'\\]"):
        load_mnist(tmp_path, split="val")


def test_mnist_rejects_a_bad_magic_number(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x0d\x03" + path.read_bytes()[4:])  # 0x0d = float, not ubyte
    with pytest.raises(ValueError, match="train-images-idx3-ubyte has magic number 0x00000d03"):
        load_mnist(tmp_path)


def test_mnist_rejects_a_truncated_file(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="header promises shape \\(5, 28, 28\\)"):
        load_mnist(tmp_path)


def test_mnist_rejects_a_file_too_short_for_its_header(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too few for an IDX header"):
        load_mnist(tmp_path)


def test_mnist_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    write_mnist(tmp_path, n=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"holds 5 images but .* holds 4 labels"):
        load_mnist(tmp_path)


def test_mnist_labels_must_be_digits(tmp_path: Path) -> None:
    write_mnist(tmp_path, n=2)
    write_idx(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.array([3, 12])))
    with pytest.raises(ValueError, match=r"label 12, outside 0\.\.9"):
        load_mnist(tmp_path)


def test_mnist_rejects_a_corrupt_gzip(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is not a valid gzip file"):
        load_mnist(tmp_path)


MiB = 1 << 20


def gzip_of_zeros(header: bytes, size: int) -> bytes:
    """A .gz that inflates to ``header`` and then ``size`` zero bytes.

    One gzip member per MiB of zeros (about 1 KB each, and gzip reads members one after
    another), so 1.5 GB of content costs 1.5 MB of file and no time to build.
    """
    member = gzip.compress(bytes(MiB), mtime=0)
    whole, rest = divmod(size, MiB)
    return gzip.compress(header, mtime=0) + member * whole + gzip.compress(bytes(rest), mtime=0)


@pytest.mark.parametrize(
    ("images", "inflates_to", "problem"),
    [
        (2_000_000, 2_000_000 * 784, "header promises 2,000,000 images of 28 x 28"),
        (10_000, 1536 * MiB, r"header promises shape \(10000, 28, 28\).*has more than that"),
    ],
    ids=["header-claims-2M-images", "honest-header-then-1.5GB"],
)
def test_mnist_gzip_bombs_are_refused_in_bounded_memory(
    tmp_path, refused_in_bounded_memory, images, inflates_to, problem
) -> None:
    header = struct.pack(">IIII", 0x803, images, 28, 28)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip_of_zeros(header, inflates_to))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(10_000, np.uint8)))
    message = refused_in_bounded_memory(
        "from tinytorch.datasets import load_mnist", "load_mnist('.', 'test')", tmp_path
    )
    assert re.search(problem, message), message


def test_mnist_rejects_images_that_are_not_28_by_28(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match="2 images of 32 x 32; MNIST images are 28 x 28"):
        load_mnist(tmp_path)


def test_mnist_rejects_data_beyond_what_the_header_promises(tmp_path: Path) -> None:
    write_mnist(tmp_path, n=2)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match=r"promises shape \(2,\).*has more than that"):
        load_mnist(tmp_path)


# ---------------------------------------------------------------------- CIFAR-10

BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def random_batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """n random CIFAR-10 records: uint8 pixels (n, 3072) and a list of labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def write_python_batch(path: Path, pixels: np.ndarray, labels: list[int], protocol=4) -> None:
    """A batch as the 'python version' stores it, pickled by the standard pickle module.

    The tests only ever *write* pickles with it; the reader never uses the module. Up to
    protocol 4 NumPy arrays rebuild through ``_reconstruct`` like the real files;
    protocol 5 uses ``_frombuffer``, and protocol 2 from Python 3 spells bytes as
    ``_codecs.encode(text, "latin1")``.
    """
    batch = {
        "batch_label": "testing batch",
        "labels": labels,
        "data": pixels,
        "filenames": [f"img_{i}.png" for i in range(len(labels))],
    }
    path.write_bytes(pickle.dumps(batch, protocol=protocol))


def opcodes(content: bytes) -> set[str]:
    """The names of the opcodes in a pickle (decoded by pickletools, never run)."""
    return {opcode.name for opcode, _, _ in pickletools.genops(content)}


def python2_batch_bytes(pixels: np.ndarray, labels: list[int]) -> bytes:
    """The bytes Python 2's cPickle wrote for a real batch: protocol 2, byte-string
    keys, and NumPy 1.x's global ``numpy.core.multiarray._reconstruct``."""

    def short_string(text: bytes) -> bytes:  # SHORT_BINSTRING: a Python 2 str
        return b"U" + bytes([len(text)]) + text

    n, width = pixels.shape
    raw = pixels.tobytes()
    opcodes = [
        b"\x80\x02}(",  # protocol 2, an empty dict, MARK the start of its items
        short_string(b"data"),
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n",  # two GLOBALs
        b"K\x00\x85" + short_string(b"b") + b"\x87R",  # _reconstruct(ndarray, (0,), 'b')
        b"(K\x01",  # MARK the array state: (version 1,
        b"M" + struct.pack("<H", n) + b"M" + struct.pack("<H", width) + b"\x86",  # shape,
        b"cnumpy\ndtype\n" + short_string(b"u1") + b"K\x00K\x01\x87R",  # dtype('u1'),
        # MARK the dtype's own state: (3, '|' = byte order not applicable, ...)
        b"(K\x03" + short_string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb",
        b"\x89",  # not Fortran order,
        b"T" + struct.pack("<I", len(raw)) + raw,  # the pixel bytes)
        b"tb",  # TUPLE the state and BUILD the array from it
        short_string(b"labels"),
        b"](" + b"".join(b"K" + bytes([label]) for label in labels) + b"e",  # list of ints
        b"u.",  # SETITEMS into the dict, STOP
    ]
    return b"".join(opcodes)


def write_binary_batch(path: Path, pixels: np.ndarray, labels: list[int]) -> None:
    """A batch as the 'binary version' stores it: records of 1 label byte + 3072 pixel bytes."""
    path.write_bytes(np.column_stack([np.array(labels, np.uint8), pixels]).tobytes())


def write_cifar(folder: Path, split: str, writer, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Write every batch of ``split`` with ``writer``; return all pixels and labels in order."""
    suffix = ".bin" if writer is write_binary_batch else ""
    all_pixels, all_labels = [], []
    for seed, name in enumerate(BATCHES[split]):
        pixels, labels = random_batch(n, seed)
        writer(folder / f"{name}{suffix}", pixels, labels)
        all_pixels.append(pixels)
        all_labels += labels
    return np.concatenate(all_pixels), np.array(all_labels)


@pytest.mark.parametrize("writer", [write_python_batch, write_binary_batch])
@pytest.mark.parametrize(("split", "n_images"), [("train", 15), ("test", 3)])
def test_cifar10_reads_python_and_binary_batches(tmp_path: Path, writer, split, n_images) -> None:
    pixels, labels = write_cifar(tmp_path, split, writer, n=3)
    x, y = load_cifar10(tmp_path, split)
    assert x.shape == (n_images, 3, 32, 32) and x.dtype == np.float32
    assert y.shape == (n_images,) and y.dtype == np.int64
    np.testing.assert_allclose(x, pixels.reshape(-1, 3, 32, 32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_cifar10_channels_are_red_green_blue_planes(tmp_path: Path) -> None:
    # Every pixel is (10, 20, 30): a plane of 1024 red bytes, then green, then blue.
    pixels = np.repeat(np.array([[10, 20, 30]], np.uint8), 1024, axis=1)
    write_binary_batch(tmp_path / "test_batch.bin", pixels, [4])
    x, _ = load_cifar10(tmp_path, "test")
    np.testing.assert_allclose(x[0, :, 5, 7], np.array([10, 20, 30]) / 255, rtol=1e-6)


def test_cifar10_reads_a_batch_as_python2_wrote_it(tmp_path: Path) -> None:
    pixels, labels = random_batch(4, seed=9)
    (tmp_path / "test_batch").write_bytes(python2_batch_bytes(pixels, labels))
    x, y = load_cifar10(tmp_path, "test")
    np.testing.assert_allclose(x, pixels.reshape(-1, 3, 32, 32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_cifar10_reads_python_batches_of_every_binary_protocol(tmp_path, protocol) -> None:
    pixels, labels = random_batch(6, seed=protocol)
    write_python_batch(tmp_path / "test_batch", pixels, labels, protocol=protocol)
    x, y = load_cifar10(tmp_path, "test")
    np.testing.assert_array_equal(np.rint(x * 255).astype(np.uint8).reshape(6, -1), pixels)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_python_batch_with_memo_references_and_fortran_order(tmp_path, protocol) -> None:
    # 300 shared names: memo entries past 255 need LONG_BINPUT / LONG_BINGET; the array
    # is stored twice (the second time as a memo GET) and in Fortran (column) order.
    pixels, labels = random_batch(3, seed=1)
    data = np.asfortranarray(pixels)
    names = [f"img_{i}.png" for i in range(300)]
    batch = {b"data": data, b"labels": labels, b"same data": data, b"names": names + names}
    content = pickle.dumps(batch, protocol=protocol)
    assert "LONG_BINGET" in opcodes(content)
    (tmp_path / "test_batch").write_bytes(content)
    x, y = load_cifar10(tmp_path, "test")
    np.testing.assert_array_equal(np.rint(x * 255).astype(np.uint8).reshape(3, -1), pixels)
    np.testing.assert_array_equal(y, labels)


def test_cifar10_never_calls_pickle_load_or_loads(tmp_path, monkeypatch) -> None:
    # Only the restricted unpickler, whose find_class admits NumPy's rebuilders, may run.
    def forbidden(*args, **kwargs):
        raise AssertionError("the reader used an unrestricted unpickler")

    write_cifar(tmp_path, "test", write_python_batch)
    for name in ("load", "loads", "_load", "_loads"):
        monkeypatch.setattr(pickle, name, forbidden)
    x, _ = load_cifar10(tmp_path, "test")
    assert x.shape == (3, 3, 32, 32)


class RunsACommand:
    """Pickles as a call to os.system: unpickling it with plain pickle.load runs the command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("where", ["whole file", "inside the batch dict"])
def test_cifar10_refuses_a_malicious_pickle_without_running_it(tmp_path, where, protocol) -> None:
    marker = tmp_path / "pwned"
    payload = RunsACommand(f"touch {marker}")
    pixels, labels = random_batch(2, seed=0)
    content = payload if where == "whole file" else {"data": pixels, "labels": labels, "x": payload}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(content, protocol=protocol))
    expected = (
        f"refusing to load .*test_batch: unsupported pickle global {os.system.__module__}.system"
    )
    with pytest.raises(ValueError, match=expected):
        load_cifar10(tmp_path, "test")
    assert not marker.exists()


def ok_batch() -> dict:
    return {"data": np.zeros((1, 3072), np.uint8), "labels": [1]}


def pickled_call(module: str, name: str, *args: bytes) -> bytes:
    """A protocol-2 pickle that calls ``module.name(*args)``; each arg is one pickled value."""
    tuple_opcode = {1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(args)]  # TUPLE1..TUPLE3
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"".join(args) + tuple_opcode + b"R."


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # globals a CIFAR-10 batch never names
        (
            pickled_call("builtins", "eval", b"X\x01\x00\x00\x001"),
            "unsupported pickle global builtins.eval",
        ),
        (
            pickled_call("numpy", "load", b"X\x01\x00\x00\x00x"),
            "unsupported pickle global numpy.load",
        ),
        # the allowed names, used for something other than rebuilding a numeric array
        (
            pickle.dumps({**ok_batch(), "o": np.array([None, 1], dtype=object)}, protocol=4),
            "unsupported dtype 'O",
        ),
        (
            pickle.dumps({**ok_batch(), "r": np.zeros(1, dtype=[("a", "u1")])}, protocol=4),
            "unsupported dtype 'V1'",
        ),
        (  # ndarray((2**40,)): would allocate a terabyte
            pickled_call("numpy", "ndarray", b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85"),
            "numpy.ndarray may only be passed to _reconstruct, not called",
        ),
        (  # _reconstruct(ndarray, (2**40,), b"b"): the same, one step removed
            pickled_call(
                "numpy.core.multiarray",
                "_reconstruct",
                b"cnumpy\nndarray\n",
                b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85",
                b"C\x01b",
            ),
            "unsupported call of _reconstruct",
        ),
        (
            pickled_call("_codecs", "encode", b"X\x01\x00\x00\x00a", b"X\x05\x00\x00\x00utf_8"),
            "unsupported call of encode",
        ),
        # sizes the unpickler would allocate before reading: refused while decoding
        (  # a memo slot number sizes the unpickler's memo array: 2**29 slots, 4 GiB
            b"\x80\x02}r\x00\x00\x00\x20.",
            "LONG_BINPUT at byte 3 uses memo slot 536870912 out of order",
        ),
    ],
)
def test_cifar10_refuses_what_a_batch_never_needs(tmp_path, content, problem) -> None:
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(ValueError, match=f"refusing to load .*test_batch: {problem}"):
        load_cifar10(tmp_path, "test")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (  # 'data' as bytes claiming 2**50 bytes: a bare MemoryError for a trusting reader
            b"\x80\x04}(\x8c\x04data\x8e" + struct.pack("<Q", 1 << 50) + b"abc",
            "cannot unpickle .*expected 1125899906842624 bytes in a bytes8, but only 3 remain",
        ),
        (  # memo slot 2**28: nine bytes that make pickle.loads touch 4 GiB
            b"\x80\x02}r\x00\x00\x00\x10.",
            "refusing to load .*memo slot 268435456 out of order",
        ),
    ],
    ids=["bytes-claiming-2**50", "memo-slot-2**28"],
)
def test_cifar10_size_claims_are_refused_in_bounded_memory(
    tmp_path, refused_in_bounded_memory, content, problem
) -> None:
    (tmp_path / "test_batch").write_bytes(content)
    message = refused_in_bounded_memory(
        "from tinytorch.datasets import load_cifar10", "load_cifar10('.', 'test')", tmp_path
    )
    assert re.search(problem, message), message


@pytest.mark.parametrize("name", ["test_batch", "test_batch.bin"])
def test_cifar10_refuses_a_batch_larger_than_a_batch_can_be_unread(tmp_path, name) -> None:
    with (tmp_path / name).open("wb") as file:
        file.truncate(MAX_BATCH_BYTES + 1)  # sparse: no disk space, no time
    with pytest.raises(ValueError, match=rf"{name} has 67,108,865 bytes; a CIFAR-10 batch"):
        load_cifar10(tmp_path, "test")


def test_cifar10_opcode_count_is_bounded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(readers, "_MAX_OPCODES", 100)
    write_python_batch(tmp_path / "test_batch", *random_batch(200, seed=0))
    with pytest.raises(ValueError, match=r"refusing to load .*more than 100 pickle opcodes"):
        load_cifar10(tmp_path, "test")


def test_cifar10_missing_folder_says_where_to_get_the_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"cifar-10-python\.tar\.gz"):
        load_cifar10(tmp_path / "nowhere")


def test_cifar10_missing_batch_names_the_expected_files(tmp_path: Path) -> None:
    write_cifar(tmp_path, "train", write_python_batch)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_1, .*data_batch_5.*cifar\.html"):
        load_cifar10(tmp_path)


def test_cifar10_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_cifar10(tmp_path, split="valid")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x80\x04 truncated", "cannot unpickle"),
        (b"\x80\x02}(K\x01u.", "cannot unpickle .*odd number of items for SETITEMS"),
        (b"\x80\x02h\x07.", "cannot unpickle .*Memo value not found at index 7"),
        (b"\x80\x02}K\x01\x85R.", "cannot unpickle .*'dict' object is not callable"),
        (b"\x80\x06}.", "cannot unpickle .*unsupported pickle protocol: 6"),
        (b"\x80\x02}]K\x01s.", "cannot unpickle .*unhashable type: 'list'"),
        (  # protocol 5 with the array's bytes out of band, outside the file
            pickle.dumps(ok_batch(), protocol=5, buffer_callback=lambda buffer: False),
            "cannot unpickle .*out-of-band data",
        ),
        (pickle.dumps([1, 2, 3], protocol=4), "holds a list, not a dict"),
        (
            pickle.dumps({"labels": [1]}, protocol=4),
            "'data' should be a uint8 array .* got nothing",
        ),
        (
            pickle.dumps({"data": np.zeros((1, 3072), np.float32), "labels": [1]}, protocol=4),
            "got float32 array of shape \\(1, 3072\\)",
        ),
        (
            pickle.dumps({"data": np.zeros((1, 100), np.uint8), "labels": [1]}, protocol=4),
            "'data' should be a uint8 array of shape \\(N, 3072\\)",
        ),
        (
            pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": ["cat"]}, protocol=4),
            "'labels' should be a list of ints",
        ),
        (
            pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [1]}, protocol=4),
            "2 images but 1 labels",
        ),
        (
            pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [10]}, protocol=4),
            "label 10, outside 0..9",
        ),
    ],
)
def test_cifar10_malformed_python_batch_names_file_and_problem(tmp_path, content, problem) -> None:
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(ValueError, match=problem) as error:
        load_cifar10(tmp_path, "test")
    assert str(tmp_path / "test_batch") in str(error.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "0 bytes, not a positive multiple of the 3073-byte record"),
        (bytes(3074), "3074 bytes"),
        (bytes([11]) + bytes(3072), "label 11, outside 0..9"),
    ],
)
def test_cifar10_malformed_binary_batch_names_file_and_problem(tmp_path, content, problem) -> None:
    (tmp_path / "test_batch.bin").write_bytes(content)
    with pytest.raises(ValueError, match=problem) as error:
        load_cifar10(tmp_path, "test")
    assert "test_batch.bin" in str(error.value)
