"""Datasets · TinyDigits build — turn scikit-learn's copy of the UCI digits into tinydigits.npz.

Connection map
    Prerequisites : NumPy and tinytorch-foundation (``atomic_write``), plus scikit-learn
                    at build time only (never at run time)
    Teaches       : reproducible dataset builds — a seeded stratified split, a
                    byte-identical archive, an atomic write
    Unlocks       : the file that ``tinytorch.datasets.load_tinydigits`` reads (milestone M3)

Run once, from anywhere, and commit the result:

    python packages/tinytorch-foundation/scripts/build_tinydigits.py

The source is ``sklearn.datasets.load_digits()``: the 1,797 8×8 images of the UCI
"Optical Recognition of Handwritten Digits" set, pixel values 0..16. Each class is
split 80/20 into train/test with a fixed seed. Images are stored as uint8 (one byte
per pixel, 64 bytes per image) and labels as uint8, so the whole archive is about
120 KB. Running the script twice gives byte-identical files: entries are stored
uncompressed with a fixed timestamp (``np.savez`` would stamp each entry with the
current time), and git compresses the blob anyway.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from tinytorch.files import atomic_write

SEED = 0
TEST_FRACTION = 0.2
PIXEL_MAX = 16
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PACKAGE_ROOT / "src" / "tinytorch" / "datasets" / "data" / "tinydigits.npz"
# The earliest timestamp a zip file can hold; any fixed value makes the bytes reproducible.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

META = {
    "name": "TinyDigits",
    "source": "UCI Optical Recognition of Handwritten Digits, via sklearn.datasets.load_digits()",
    "pixel_values": f"integers 0..{PIXEL_MAX}",
    "split": f"stratified per class, test fraction {TEST_FRACTION}, numpy RandomState({SEED})",
}


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split that keeps every class's share in both parts.

    Within each class, a seeded shuffle picks ``round(count * test_fraction)``
    examples for the test set; the rest go to train. ``RandomState`` is NumPy's
    legacy generator, whose stream NumPy promises never to change, so the same seed
    gives the same split on every NumPy version. Both index arrays come back sorted,
    so the examples keep the source order (which already interleaves the classes).
    """
    rng = np.random.RandomState(seed)
    test_parts = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = round(len(members) * test_fraction)
        test_parts.append(rng.permutation(members)[:n_test])
    test = np.sort(np.concatenate(test_parts))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def build_arrays() -> dict[str, np.ndarray]:
    """The arrays to ship: x_* uint8 (N, 8, 8) in 0..16, y_* uint8 (N,), and meta.

    ``meta`` is a JSON string in a 0-d unicode array, so ``np.load`` can read it with
    ``allow_pickle=False``.
    """
    digits = load_digits()
    images, labels = digits.images, digits.target
    integral = np.array_equal(images, np.round(images))
    if not (integral and 0 <= images.min() <= images.max() <= PIXEL_MAX):
        raise ValueError(f"build_tinydigits: expected integer pixels in 0..{PIXEL_MAX}")
    train, test = stratified_split(labels, TEST_FRACTION, SEED)
    images, labels = images.astype(np.uint8), labels.astype(np.uint8)
    return {
        "x_train": images[train],
        "y_train": labels[train],
        "x_test": images[test],
        "y_test": labels[test],
        "meta": np.array(json.dumps(META, sort_keys=True)),
    }


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive (a zip of .npy files) whose bytes depend only on ``arrays``.

    Every entry gets the same timestamp, permissions and "made on Unix" marker, and
    is stored without compression, so no clock, platform or zlib version leaks in.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE_TIME)
            entry.create_system = 3  # Unix; the default depends on the platform
            entry.external_attr = 0o644 << 16  # rw-r--r--
            payload = io.BytesIO()
            np.lib.format.write_array(payload, array, allow_pickle=False)
            archive.writestr(entry, payload.getvalue())
    return buffer.getvalue()


def summary(arrays: dict[str, np.ndarray]) -> str:
    """A table of examples per class in each split, with totals."""
    header = "split  " + " ".join(f"{digit:>4}" for digit in range(10)) + "  total"
    rows = [header]
    for split in ("train", "test"):
        counts = np.bincount(arrays[f"y_{split}"], minlength=10)
        cells = " ".join(f"{count:>4}" for count in counts)
        rows.append(f"{split:<6} {cells}  {counts.sum():>5}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build tinydigits.npz from scikit-learn's digits.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .npz")
    args = parser.parse_args(argv)
    arrays = build_arrays()
    data = npz_bytes(arrays)
    with atomic_write(args.out) as file:  # readers see the old file or the new one
        file.write(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    print(summary(arrays))


if __name__ == "__main__":
    main()
