"""Milestone 3 · 1986 · Backpropagation revives the multi-layer perceptron.

Needs: foundation tier (modules 01–07).
Shows: an MLP trained end to end with backpropagation reads handwritten digits.
Default data: TinyDigits (shipped, offline), bar >= 97% mean test accuracy over seeds.
``--data-dir DIR`` with the four MNIST IDX files trains on MNIST instead (bar >= 97%).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from common import Result, pyplot, save_figure, tell
from tinytorch.core import manual_seed
from tinytorch.datasets import load_mnist, load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.training import Trainer, accuracy, memory_report

NAME = "m03_1986_mlp"
TITLE = "Milestone 3 · 1986 · The MLP revival"
STORY = """
In 1986 David Rumelhart, Geoffrey Hinton and Ronald Williams showed in Nature that
backpropagation trains networks with hidden layers, and that those layers learn useful
features by themselves. Three years later Yann LeCun's networks were reading zip codes
for the US Postal Service. Here every piece is yours: Tensor, Linear, ReLU, Dropout,
cross-entropy, the autograd that backpropagates through them, AdamW, the cosine
schedule and the training loop — reading digits they have never seen.
"""


@dataclass
class Setup:
    """Data and hyper-parameters for one dataset."""

    label: str
    hidden: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    dropout: float
    bar: float


TINYDIGITS = Setup(
    "TinyDigits (8x8)",
    hidden=256,
    epochs=80,
    batch_size=32,
    lr=1e-3,
    weight_decay=0.05,
    dropout=0.3,
    bar=0.97,
)
MNIST = Setup(
    "MNIST (28x28)",
    hidden=256,
    epochs=12,
    batch_size=128,
    lr=1e-3,
    weight_decay=0.01,
    dropout=0.2,
    bar=0.97,
)


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale every pixel by training statistics (test data never leaks in)."""
    mean, scale = train.mean(axis=0), train.std(axis=0) + 0.1
    return ((train - mean) / scale).astype(np.float32), ((test - mean) / scale).astype(np.float32)


def build_mlp(inputs: int, setup: Setup) -> Sequential:
    return Sequential(
        Linear(inputs, setup.hidden), ReLU(), Dropout(setup.dropout), Linear(setup.hidden, 10)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", help="folder with MNIST IDX files (default: TinyDigits)")
    args = parser.parse_args(argv)
    tell(TITLE, STORY)

    if args.data_dir:
        setup = MNIST
        (x_train, y_train), (x_test, y_test) = (
            load_mnist(args.data_dir, s, flatten=True) for s in ("train", "test")
        )
    else:
        setup = TINYDIGITS
        (x_train, y_train), (x_test, y_test) = (
            load_tinydigits(s, flatten=True) for s in ("train", "test")
        )
    x_train, x_test = standardize(x_train, x_test)
    print(f"  data: {setup.label}, {len(x_train)} training and {len(x_test)} test images")
    print(
        f"  model: MLP {x_train.shape[1]} -> {setup.hidden} -> 10, AdamW + cosine schedule, "
        f"{setup.epochs} epochs, seeds {args.seeds}"
    )

    result = Result(NAME, TITLE, seeds=args.seeds)
    scores, curves = [], []
    for seed in args.seeds:
        manual_seed(seed)
        model = build_mlp(x_train.shape[1], setup)
        optimizer = AdamW(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
        trainer = Trainer(
            model,
            optimizer,
            CrossEntropyLoss(),
            scheduler=CosineAnnealingLR(optimizer, setup.epochs),
            metrics={"accuracy": accuracy},
        )
        history = trainer.fit(
            x_train,
            y_train,
            epochs=setup.epochs,
            batch_size=setup.batch_size,
            seed=seed,
            validation=(x_test, y_test),
        )
        scores.append(trainer.evaluate(x_test, y_test)["accuracy"])
        curves.append(history)
        print(f"  seed {seed}: test accuracy {scores[-1]:.2%}")
    print(f"\n  memory at the end of training (seed {args.seeds[-1]}):")
    print("    " + str(memory_report(model, optimizer)).replace("\n", "\n    "))

    result.check(
        f"{setup.label}: mean test accuracy over {len(scores)} seeds",
        float(np.mean(scores)),
        setup.bar,
    )
    result.details.update(
        dataset=setup.label, per_seed_accuracy=scores, parameters=model.num_parameters()
    )

    plt = pyplot()
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for seed, history in zip(args.seeds, curves):
        loss_ax.plot(history["loss"], label=f"train loss, seed {seed}")
        acc_ax.plot(history["val_accuracy"], label=f"seed {seed}")
    acc_ax.axhline(setup.bar, color="k", linestyle="--", label=f"bar {setup.bar:.0%}")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.8, 1.0), title=setup.label)
    acc_ax.legend(fontsize=8)
    save_figure(fig, NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(main())
