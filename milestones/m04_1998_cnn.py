"""Milestone 4 · 1998 · Convolution's built-in assumptions beat a dense network.

Needs: architecture tier (modules 08–09) on the foundation tier. The layers are imported
from their home, ``tinytorch.vision``; with the tier installed ``tinytorch.nn.Conv2d`` is
the same class (so this also runs from a source tree on ``PYTHONPATH``).
Shows: a small CNN reads digits wherever they sit in the picture, where an MLP with a
similar number of parameters cannot.
Default data: TinyDigits digits pasted at random offsets on a 16×16 canvas (built here
with NumPy, fixed seed); bars: CNN >= 80% test accuracy, >= 25 points above the MLP,
everything in under 60 s.
``--data-dir DIR`` with the CIFAR-10 batches trains on CIFAR-10 instead (bar >= 65%;
about 20 minutes on 2 cores, not run in CI).
"""

from __future__ import annotations

import os

# One BLAS thread. This milestone's matrices are small (a batch of 32 images of 16×16):
# a second thread buys little on an idle laptop, and on a busy machine OpenBLAS's
# threads wait for each other and make each product 10× slower. Must be set before
# NumPy loads; export OPENBLAS_NUM_THREADS yourself to override it (on an idle machine,
# 2 threads speed up the larger CIFAR-10 run).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from common import Result, pyplot, save_figure, tell  # noqa: E402
from tinytorch.core import manual_seed  # noqa: E402
from tinytorch.data import DataLoader, TensorDataset  # noqa: E402
from tinytorch.datasets import load_cifar10, load_tinydigits  # noqa: E402
from tinytorch.nn import CrossEntropyLoss, Linear, Module, ReLU, Sequential  # noqa: E402
from tinytorch.optim import Adam, CosineAnnealingLR  # noqa: E402
from tinytorch.training import History, Trainer, accuracy  # noqa: E402
from tinytorch.vision import Conv2d, Flatten, MaxPool2d  # noqa: E402

NAME = "m04_1998_cnn"
TITLE = "Milestone 4 · 1998 · The CNN"
STORY = """
In 1998 Yann LeCun, Léon Bottou, Yoshua Bengio and Patrick Haffner published LeNet-5,
the convolutional network that read millions of bank cheques. Its trick is an
assumption built into the architecture: a pattern means the same thing wherever it
appears, so one small filter slides over the whole image and its weights are shared
by every position. Here a digit may sit anywhere on a larger canvas. A dense network
must learn every digit at every position separately; your Conv2d learns each stroke
once — with fewer parameters than the MLP it beats.
"""


@dataclass
class Setup:
    """Data and hyper-parameters for one dataset."""

    label: str
    epochs: int
    batch_size: int
    lr: float
    bar: float
    margin: float | None  # points the CNN must beat the MLP by (None: not checked)
    time_limit: float | None  # seconds for the whole milestone (None: not checked)


SHIFTED_DIGITS = Setup(
    "shifted TinyDigits (16x16 canvas)",
    epochs=25,
    batch_size=32,
    lr=3e-3,
    bar=0.80,
    margin=0.25,
    time_limit=60.0,
)
CIFAR10 = Setup(
    "CIFAR-10 (32x32 RGB)",
    epochs=10,
    batch_size=64,
    lr=1e-3,
    bar=0.65,
    margin=None,
    time_limit=None,
)

CANVAS = 16


def shift_onto_canvas(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paste each 8×8 image at a uniform random offset on a 16×16 canvas.

    Returns (N, 1, 16, 16) float32. There are 9 × 9 = 81 offsets: a stroke may land on
    any pixel, so the position of a pixel says almost nothing about the digit.
    """
    size = images.shape[-1]
    rows, cols = rng.integers(0, CANVAS - size + 1, size=(2, len(images)))
    canvases = np.zeros((len(images), 1, CANVAS, CANVAS), dtype=np.float32)
    for k, (r, c) in enumerate(zip(rows, cols)):
        canvases[k, 0, r : r + size, c : c + size] = images[k]
    return canvases


def shifted_digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The default task: TinyDigits' own train/test split, each digit moved somewhere."""
    rng = np.random.default_rng(seed)
    (x_train, y_train), (x_test, y_test) = (load_tinydigits(s) for s in ("train", "test"))
    return shift_onto_canvas(x_train, rng), y_train, shift_onto_canvas(x_test, rng), y_test


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale each channel by training statistics (test data never leaks in)."""
    axes = (0, 2, 3)
    mean, std = train.mean(axis=axes, keepdims=True), train.std(axis=axes, keepdims=True)
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def build_models(channels: int, size: int) -> dict[str, Module]:
    """A LeNet-style CNN and an MLP with about as many parameters."""
    if channels == 1:  # the 16x16 canvas
        cnn = Sequential(
            Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2),
            Conv2d(16, 32, 3, padding=1), ReLU(), MaxPool2d(2),
            Flatten(), Linear(32 * (size // 4) ** 2, 10),
        )  # fmt: skip
        hidden = 38
    else:  # CIFAR-10
        cnn = Sequential(
            Conv2d(channels, 32, 3, padding=1), ReLU(), MaxPool2d(2),
            Conv2d(32, 64, 3, padding=1), ReLU(), MaxPool2d(2),
            Conv2d(64, 64, 3, padding=1), ReLU(), MaxPool2d(2),
            Flatten(), Linear(64 * (size // 8) ** 2, 10),
        )  # fmt: skip
        hidden = 21
    inputs = channels * size * size
    mlp = Sequential(Flatten(), Linear(inputs, hidden), ReLU(), Linear(hidden, 10))
    return {"MLP": mlp, "CNN": cnn}


def train(
    model: Module,
    setup: Setup,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    seed: int,
) -> tuple[float, History]:
    """Adam + cosine schedule on batches from the DataLoader; returns test accuracy, curves."""
    x_train, y_train, x_test, y_test = data
    optimizer = Adam(model.parameters(), lr=setup.lr)
    trainer = Trainer(
        model,
        optimizer,
        CrossEntropyLoss(),
        scheduler=CosineAnnealingLR(optimizer, setup.epochs),
        metrics={"accuracy": accuracy},
        progress=False,
    )
    loader = DataLoader(
        TensorDataset(x_train, y_train), batch_size=setup.batch_size, shuffle=True, seed=seed
    )
    for _ in range(setup.epochs):
        model.train()
        losses = [trainer.train_step(images, labels) for images, labels in loader]
        scores = trainer.evaluate(x_test, y_test)
        trainer.history.log(loss=float(np.mean(losses)), val_accuracy=scores["accuracy"])
        trainer.scheduler.step()
    return trainer.history.last("val_accuracy"), trainer.history


def mosaic(images: np.ndarray, columns: int = 4) -> np.ndarray:
    """Images (N, C, H, W) in [0, 1] tiled into one picture, with a thin frame around each."""
    framed = np.pad(
        images.transpose(0, 2, 3, 1), ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=0.3
    )
    rows = [
        np.concatenate(list(framed[i : i + columns]), axis=1)
        for i in range(0, len(framed), columns)
    ]
    picture = np.concatenate(rows, axis=0)
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="folder with the CIFAR-10 batches (default: TinyDigits)")
    parser.add_argument("--epochs", type=int, help="override the number of epochs (smoke runs)")
    args = parser.parse_args(argv)
    tell(TITLE, STORY)
    result = Result(NAME, TITLE, seeds=[args.seed])
    started = time.perf_counter()

    if args.data_dir:
        setup = CIFAR10
        (x_train, y_train), (x_test, y_test) = (
            load_cifar10(args.data_dir, s) for s in ("train", "test")
        )
    else:
        setup = SHIFTED_DIGITS
        x_train, y_train, x_test, y_test = shifted_digits(args.seed)
    if args.epochs:
        setup.epochs = args.epochs
    raw_examples = x_test[:8]
    x_train, x_test = standardize(x_train, x_test)
    data = (x_train, y_train, x_test, y_test)
    print(f"  data: {setup.label}; {len(x_train)} training and {len(x_test)} test images")

    manual_seed(args.seed)
    models = build_models(x_train.shape[1], x_train.shape[2])
    scores, curves, seconds = {}, {}, {}
    for name, model in models.items():
        print(f"  {name}: {model.num_parameters():,} parameters, {setup.epochs} epochs ...")
        start = time.perf_counter()
        scores[name], curves[name] = train(model, setup, data, args.seed)
        seconds[name] = time.perf_counter() - start
        print(f"  {name}: test accuracy {scores[name]:.2%} ({seconds[name]:.1f} s)")
    elapsed = time.perf_counter() - started

    print(f"\n  {'model':<6}{'parameters':>12}{'test accuracy':>16}{'train time':>13}")
    for name, model in models.items():
        print(
            f"  {name:<6}{model.num_parameters():>12,}{scores[name]:>16.2%}{seconds[name]:>11.1f} s"
        )
    result.check(f"{setup.label}: CNN test accuracy", scores["CNN"], setup.bar)
    if setup.margin is not None:
        result.check("CNN minus MLP test accuracy", scores["CNN"] - scores["MLP"], setup.margin)
    if setup.time_limit is not None:
        result.check("wall time (s)", elapsed, setup.time_limit, at_least=False)
    result.details.update(
        dataset=setup.label,
        accuracy=scores,
        parameters={name: model.num_parameters() for name, model in models.items()},
        train_seconds=seconds,
        epochs=setup.epochs,
    )

    plt = pyplot()
    fig, (pics, loss_ax, acc_ax) = plt.subplots(1, 3, figsize=(13, 3.8))
    pics.imshow(mosaic(raw_examples), cmap="gray_r" if raw_examples.shape[1] == 1 else None)
    pics.set(title="test inputs", xticks=[], yticks=[])
    for name, history in curves.items():
        loss_ax.plot(history["loss"], label=name)
        acc_ax.plot(history["val_accuracy"], label=f"{name} ({scores[name]:.0%})")
    acc_ax.axhline(setup.bar, color="k", linestyle="--", label=f"bar {setup.bar:.0%}")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1), title=setup.label)
    loss_ax.legend(fontsize=8)
    acc_ax.legend(fontsize=8)
    save_figure(fig, NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(main())
