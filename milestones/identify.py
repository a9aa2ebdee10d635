"""Which dataset is in a ``--data-dir`` folder? Recognised by content, never by its name.

A folder of MNIST-format IDX files may hold MNIST, Fashion-MNIST, KMNIST or anything
else written in that format, and each has its own bar: 97% is easy on MNIST and out of
reach for a small MLP on Fashion-MNIST. So the milestones compare every file the reader
will use with the checksums of the official files, and name the dataset only when all
of them match one entry of the table below.

Checksums are MD5 because MD5 is what the datasets' authors publish; this is
identification, not security. A file matches if the MD5 of its bytes, or (for a ``.gz``
file) of its decompressed bytes, is listed: the published checksums are those of the
official ``.gz`` downloads, and the decompressed ones were computed from copies checked
against them (KMNIST lists only its ``.gz`` files, so a gunzipped KMNIST is "unknown").
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from common import shown
from tinytorch.datasets.readers import CIFAR10_BATCHES, MNIST_FILES

IDX, CIFAR10_PYTHON = "IDX files (MNIST format)", "CIFAR-10 python batches"
FILES = {
    IDX: [name for split in ("train", "test") for name in MNIST_FILES[split]],
    CIFAR10_PYTHON: [name for split in ("train", "test") for name in CIFAR10_BATCHES[split]],
}


@dataclass(frozen=True)
class Known:
    """One official dataset: its format and, per file, the MD5s that identify it."""

    name: str
    format: str
    md5: dict[str, frozenset[str]]


def _md5s(**digests: str) -> dict[str, frozenset[str]]:
    """``train_images="a b"`` -> {"train-images-idx3-ubyte": {"a", "b"}} (IDX names)."""
    names = dict(zip(("train_images", "train_labels", "test_images", "test_labels"), FILES[IDX]))
    return {names[key]: frozenset(value.split()) for key, value in digests.items()}


KNOWN = (
    Known(  # yann.lecun.com/exdb/mnist: .gz as published, then decompressed
        "MNIST",
        IDX,
        _md5s(
            train_images="f68b3c2dcbeaaa9fbdd348bbdeb94873 6bbc9ace898e44ae57da46a324031adb",
            train_labels="d53e105ee54ea40749a09fcbcd1e9432 a25bea736e30d166cdddb491f175f624",
            test_images="9fb629c4189551a2d022fa330f9573f3 2646ac647ad5339dbf082846283269ea",
            test_labels="ec29112dd5afa0611ce80d1b7f02629c 27ae3e4e09519cfbb04c329615203637",
        ),
    ),
    Known(  # github.com/zalandoresearch/fashion-mnist: .gz as published, then decompressed
        "Fashion-MNIST",
        IDX,
        _md5s(
            train_images="8d4fb7e6c68d591d4c3dfef9ec88bf0d f4a8712d7a061bf5bd6d2ca38dc4d50a",
            train_labels="25c81989df183df01b3e8a0aad5dffbe 9018921c3c673c538a1fc5bad174d6f9",
            test_images="bef4ecab320f06d8554ea6380940ec79 8181f5470baa50b63fa0f6fddb340f0a",
            test_labels="bb300cfdad3c16e7a12a480ee83cd310 15d484375f8d13e6eb1aabb0c3f46965",
        ),
    ),
    Known(  # github.com/rois-codh/kmnist: the .gz files as published
        "KMNIST",
        IDX,
        _md5s(
            train_images="bdb82020997e1d708af4cf47b453dcf7",
            train_labels="e144d726b3acfaa3e44228e80efcd344",
            test_images="5c965bf0a639b31b8f53240b1b52f4d7",
            test_labels="7320c461ea6c1c855c0b718fb2a4b134",
        ),
    ),
    Known(  # cifar-10-python.tar.gz (MD5 c58f30108f718f92721af3b95e74349a), extracted
        "CIFAR-10",
        CIFAR10_PYTHON,
        {
            name: frozenset([digest])
            for name, digest in zip(
                FILES[CIFAR10_PYTHON],
                (
                    "c99cafc152244af753f735de768cd75f",
                    "d4bba439e000b95fd0a9bffe97cbabec",
                    "54ebc095f3ab1f0389bbae665268c751",
                    "634d18415352ddfa80567beed471001a",
                    "482c414d41f54cd18b22e5b47cb7c3cb",
                    "40351d587109b95175f43aff81a1287e",
                ),
            )
        },
    ),
)


@dataclass(frozen=True)
class Identity:
    """What ``identify`` found in ``folder``: the dataset's name, or None, and each file's MD5."""

    format: str
    folder: str  # as the user sees it (relative to the working folder)
    name: str | None
    md5: dict[str, str] = field(default_factory=dict)  # file as found -> MD5 of its content

    def describe(self) -> str:
        if self.name is None:
            return f"an unrecognised dataset ({self.format})"
        return f"{self.name} (every file matches the official checksums)"

    def as_dict(self) -> dict[str, object]:
        """For a milestone's result file: which data it trained on, and how that is known."""
        return {"name": self.name, "identified": self.describe(), "folder": self.folder,
                "md5": self.md5}  # fmt: skip


def _digests(file: Path) -> list[str]:
    """MD5 of ``file``'s bytes, then for ``.gz`` of its decompressed bytes (read in chunks)."""
    streams = [file.open("rb")] + ([gzip.open(file, "rb")] if file.suffix == ".gz" else [])
    found = []
    for stream in streams:
        digest = hashlib.md5(usedforsecurity=False)
        with stream:
            try:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
            except (OSError, EOFError):  # not valid gzip: the reader will say so
                continue
        found.append(digest.hexdigest())
    return found


def identify(folder: str | os.PathLike[str], format: str) -> Identity:
    """Name the dataset in ``folder`` (IDX or CIFAR-10 python batches), or None if unknown.

    Looks at the files the reader would read (``name`` or ``name.gz`` for IDX) and names a
    dataset only when every one of them matches it; missing files identify nothing (the
    reader then raises its own error). Cost: one read of each file, about 0.3 s for MNIST.
    """
    found: dict[str, list[str]] = {}
    for name in FILES[format]:
        candidates = [Path(folder) / name, Path(folder) / f"{name}.gz"]
        file = next((c for c in candidates if c.is_file()), None)
        if file is not None:
            found[file.name] = _digests(file)
    stems = {name.removesuffix(".gz"): digests for name, digests in found.items()}
    match = None
    if len(stems) == len(FILES[format]):
        match = next(
            (
                known.name
                for known in KNOWN
                if known.format == format
                and all(known.md5[stem].intersection(stems[stem]) for stem in FILES[format])
            ),
            None,
        )
    return Identity(
        format, shown(folder), match, {name: digests[0] for name, digests in found.items()}
    )
