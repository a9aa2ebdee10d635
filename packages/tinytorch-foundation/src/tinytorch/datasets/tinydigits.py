"""Datasets · TinyDigits — 1,797 handwritten 8×8 digits that ship inside the package.

Connection map
    Prerequisites : NumPy only
    Teaches       : loading packaged data safely (no pickle), checking it before trusting
                    it, and scaling raw pixel counts to floats in [0, 1]
    Unlocks       : milestones M1–M3 on real data offline, above all M3 (1986 MLP revival)

Provenance: the images are the UCI "Optical Recognition of Handwritten Digits" set
(E. Alpaydin and C. Kaynak, 1998) exactly as scikit-learn ships it in
``sklearn.datasets.load_digits()``. Each 32×32 bitmap of a digit was cut into 4×4
blocks and each block's set pixels counted, giving an 8×8 image of integers 0..16.
``scripts/build_tinydigits.py`` split it once, 80/20 per class with a fixed seed,
into 1,438 training and 359 test images, and stored them as uint8 in
``tinytorch/datasets/data/tinydigits.npz`` (about 120 KB). scikit-learn is needed only
to rebuild that file, never to load it.

Why ship it: MNIST is 60,000 28×28 images (188 MB as float32) and must be downloaded;
TinyDigits as float32 is 1,797 × 64 × 4 bytes = 460 KB, trains a small MLP past 95%
test accuracy, and is always there, so milestones run offline.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from tinytorch.files import read_npz

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_SPLITS = ("train", "test")
_REQUIRED_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IMAGE_SHAPE = (8, 8)
_PIXEL_MAX = 16
_NUM_CLASSES = 10
_MAX_FILE_BYTES = 1 << 20  # the shipped file is about 120 KB

TINYDIGITS_INFO: dict[str, object] = {
    "name": "TinyDigits",
    "source": (
        "UCI Machine Learning Repository, Optical Recognition of Handwritten Digits "
        "(Alpaydin & Kaynak, 1998), as shipped by scikit-learn's load_digits()"
    ),
    "url": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    "license": "CC BY 4.0",
    "num_classes": _NUM_CLASSES,
    "image_shape": _IMAGE_SHAPE,
    "pixel_range": (0, _PIXEL_MAX),
    "num_images": {"train": 1438, "test": 359},
    "split": "stratified 80/20 per class, numpy RandomState(0)",
}

# The shipped archive, found through the package itself so it works from a wheel too.
DATA_FILE = resources.files(__package__) / "data" / "tinydigits.npz"


def load_tinydigits(split: str = "train", flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of TinyDigits from the file shipped with the package.

    Args:
        split: ``"train"`` (1,438 images) or ``"test"`` (359 images).
        flatten: if True return images as rows of 64 pixels, ready for ``Linear(64, ...)``.

    Returns:
        ``images`` float32 of shape (N, 8, 8), or (N, 64) when flattened, with values
        in [0, 1] (the stored counts 0..16 divided by 16); and ``labels`` int64 of
        shape (N,) with values 0..9, the dtype ``CrossEntropyLoss`` expects for targets.

    Raises:
        ValueError: unknown ``split``, or the shipped file is corrupt (the message
            names the file and what is wrong).
        FileNotFoundError: the shipped file is missing from the installation.
    """
    if split not in _SPLITS:
        raise ValueError(f"load_tinydigits: split must be 'train' or 'test', got {split!r}")
    arrays = _read_npz(DATA_FILE)
    images, labels = _checked_split(arrays, split, DATA_FILE)
    x = images.astype(np.float32) / _PIXEL_MAX
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.astype(np.int64)


def _read_npz(file: Traversable) -> dict[str, np.ndarray]:
    """The four TinyDigits arrays in the .npz ``file``: sizes checked first, no pickle."""
    try:
        return read_npz(file, lambda name, shape, dtype: name in _REQUIRED_KEYS, _MAX_FILE_BYTES)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_tinydigits: the shipped data file {file} is missing; reinstall "
            "tinytorch-foundation, or rebuild it with scripts/build_tinydigits.py"
        ) from None
    except ValueError as error:
        raise ValueError(f"load_tinydigits: {error}") from None


def _checked_split(
    arrays: dict[str, np.ndarray], split: str, file: Traversable
) -> tuple[np.ndarray, np.ndarray]:
    """The split's (images, labels), after checking every promise load_tinydigits makes."""

    def fail(problem: str) -> ValueError:
        return ValueError(f"load_tinydigits: {file} is corrupt: {problem}")

    missing = [key for key in _REQUIRED_KEYS if key not in arrays]
    if missing:
        raise fail(f"missing arrays {missing}; it holds {sorted(arrays)}")
    images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != _IMAGE_SHAPE:
        raise fail(f"x_{split} should be uint8 (N, 8, 8), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise fail(f"y_{split} should be uint8 ({len(images)},), got {labels.dtype} {labels.shape}")
    if len(images) == 0:
        raise fail(f"the {split} split is empty")
    if images.max() > _PIXEL_MAX:
        raise fail(f"x_{split} has pixel value {images.max()}, above the maximum {_PIXEL_MAX}")
    if labels.max() >= _NUM_CLASSES:
        raise fail(f"y_{split} has label {labels.max()}, outside 0..{_NUM_CLASSES - 1}")
    return images, labels
