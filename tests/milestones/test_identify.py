"""Dataset identification: a --data-dir folder is named by its files' checksums, never by
their names, and each dataset brings its own bar. Tested on small files written here: the
real checksums are those of the official files (tens of MB), which no test downloads."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import identify
from identify import CIFAR10_PYTHON, FILES, IDX, KNOWN, Known


def idx(array: np.ndarray) -> bytes:
    """An IDX file: magic (unsigned bytes, ndim), big-endian dimensions, then the bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, seed: int = 0, gz: bool = False) -> dict[str, bytes]:
    """Four small IDX files in MNIST's names; returns name -> content (uncompressed)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    contents = {}
    for name in FILES[IDX]:
        n = 6 if name.startswith("train") else 4
        shape = (n, 28, 28) if "images" in name else (n,)
        contents[name] = idx(rng.integers(0, 10 if "labels" in name else 256, shape))
        path = folder / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(contents[name]) if gz else contents[name])
    return contents


def write_cifar_folder(folder: Path) -> dict[str, bytes]:
    """Six small CIFAR-10 python batches (dicts of bytes keys, as the official files are)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    contents = {}
    for name in FILES[CIFAR10_PYTHON]:
        batch = {b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
                 b"labels": [0, 1, 2], b"batch_label": name.encode()}  # fmt: skip
        contents[name] = pickle.dumps(batch, protocol=2)
        (folder / name).write_bytes(contents[name])
    return contents


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def known_as(name: str, format: str, contents: dict[str, bytes]) -> Known:
    return Known(name, format, {file: frozenset([md5(data)]) for file, data in contents.items()})


@pytest.fixture
def table(monkeypatch):
    """Replace the table of official checksums with entries built by the test."""

    def use(*entries: Known) -> None:
        monkeypatch.setattr(identify, "KNOWN", entries)

    return use


def test_idx_files_matching_an_entry_are_named(tmp_path: Path, table) -> None:
    contents = write_idx_folder(tmp_path)
    table(known_as("Digits", IDX, write_idx_folder(tmp_path / "other", seed=1)),
          known_as("Letters", IDX, contents))  # fmt: skip
    found = identify.identify(tmp_path, IDX)
    assert found.name == "Letters"
    assert found.md5 == {name: md5(data) for name, data in contents.items()}
    assert "Letters" in found.describe()


def test_gzipped_files_match_by_their_decompressed_content(tmp_path: Path, table) -> None:
    contents = write_idx_folder(tmp_path, gz=True)
    table(known_as("Letters", IDX, contents))  # the table lists the uncompressed files
    assert identify.identify(tmp_path, IDX).name == "Letters"


def test_cifar_batches_matching_an_entry_are_named(tmp_path: Path, table) -> None:
    table(known_as("Tiny CIFAR", CIFAR10_PYTHON, write_cifar_folder(tmp_path)))
    assert identify.identify(tmp_path, CIFAR10_PYTHON).name == "Tiny CIFAR"


def test_one_changed_file_makes_the_data_unknown(tmp_path: Path, table) -> None:
    contents = write_idx_folder(tmp_path)
    table(known_as("Letters", IDX, contents))
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x09")
    found = identify.identify(tmp_path, IDX)
    assert found.name is None
    assert "unrecognised" in found.describe()


def test_files_of_two_datasets_mixed_are_unknown(tmp_path: Path, table) -> None:
    first, second = write_idx_folder(tmp_path / "a"), write_idx_folder(tmp_path / "b", seed=1)
    table(known_as("A", IDX, first), known_as("B", IDX, second))
    (tmp_path / "a" / "t10k-labels-idx1-ubyte").write_bytes(second["t10k-labels-idx1-ubyte"])
    assert identify.identify(tmp_path / "a", IDX).name is None


def test_a_missing_file_identifies_nothing(tmp_path: Path, table) -> None:
    contents = write_idx_folder(tmp_path)
    table(known_as("Letters", IDX, contents))
    (tmp_path / "train-images-idx3-ubyte").unlink()
    assert identify.identify(tmp_path, IDX).name is None


def test_the_format_must_match_too(tmp_path: Path, table) -> None:
    contents = write_idx_folder(tmp_path)
    table(replace(known_as("Letters", IDX, contents), format=CIFAR10_PYTHON))
    assert identify.identify(tmp_path, IDX).name is None


def test_the_real_table_covers_every_file_of_each_dataset() -> None:
    assert [k.name for k in KNOWN] == ["MNIST", "Fashion-MNIST", "KMNIST", "CIFAR-10"]
    for known in KNOWN:
        assert list(known.md5) == FILES[known.format]
        digests = [d for ds in known.md5.values() for d in ds]
        assert all(len(d) == 32 and int(d, 16) >= 0 for d in digests)
    every = [d for k in KNOWN for ds in k.md5.values() for d in ds]
    assert len(every) == len(set(every))  # no file is claimed by two datasets


def test_m3_applies_the_bar_of_the_dataset_it_recognised(tmp_path: Path, table) -> None:
    import m03_1986_mlp as m03

    contents = write_idx_folder(tmp_path)
    table(known_as("Fashion-MNIST", IDX, contents))
    setup, about, (x_train, _, x_test, _) = m03.load(str(tmp_path))
    assert setup.bar == m03.BARS["Fashion-MNIST"] and setup.label.startswith("Fashion-MNIST")
    assert about["name"] == "Fashion-MNIST" and about["md5"] == {
        name: md5(data) for name, data in contents.items()
    }
    assert x_train.shape == (6, 784) and x_test.shape == (4, 784)


def test_m3_on_unknown_idx_data_has_no_bar_unless_given(tmp_path: Path, table) -> None:
    import m03_1986_mlp as m03

    write_idx_folder(tmp_path)
    table()
    setup, about, _ = m03.load(str(tmp_path))
    assert setup.bar is None and about["name"] is None
    assert m03.load(str(tmp_path), bar=0.5)[0].bar == 0.5


def test_m4_gives_cifar10_its_bar_and_unknown_batches_none(tmp_path: Path, table) -> None:
    import m04_1998_cnn as m04

    contents = write_cifar_folder(tmp_path)
    table()
    assert m04.load(str(tmp_path), seed=0)[0].bar is None
    table(known_as("CIFAR-10", CIFAR10_PYTHON, contents))
    setup, about, (x_train, *_) = m04.load(str(tmp_path), seed=0)
    assert setup.bar == m04.BARS["CIFAR-10"] and about["name"] == "CIFAR-10"
    assert x_train.shape == (15, 3, 32, 32)
