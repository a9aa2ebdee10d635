"""Milestone 3 · 1986 · Backpropagation revives the multi-layer perceptron.

Needs: foundation tier (modules 01–07).
Shows: an MLP trained end to end with backpropagation reads handwritten digits.
Default data: TinyDigits (shipped, offline), bar >= 97% mean test accuracy over seeds.
``--data-dir DIR`` trains on the IDX files (MNIST format) in DIR instead. The files are
identified by their checksums and each dataset has its own bar: MNIST 97% (as in the
paper), Fashion-MNIST 88%, KMNIST 88%. Anything else in IDX format trains and reports
its accuracy without a verdict, unless ``--bar`` sets one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from common import PALETTE, Result, figure, progress, run_main, save_figure, tell
from identify import IDX, identify
from tinytorch.core import manual_seed
from tinytorch.datasets import load_mnist, load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.training import GradientFlow, History, Trainer, accuracy, memory_report

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


@dataclass(frozen=True)
class Setup:
    """Data and hyper-parameters for one dataset."""

    label: str
    hidden: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    dropout: float
    bar: float | None  # mean test accuracy to reach; None: report it, judge nothing


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
# The recipe for 28x28 IDX datasets; the bar depends on which dataset it is.
IDX_RECIPE = Setup(
    "IDX files",
    hidden=256,
    epochs=12,
    batch_size=128,
    lr=1e-3,
    weight_decay=0.01,
    dropout=0.2,
    bar=None,
)
# MNIST: the paper's bar. Fashion-MNIST: its authors' MLP baselines reach 87-88%.
# KMNIST: its authors report about 92% for k-nearest neighbours; small MLPs land near 90%.
BARS = {"MNIST": 0.97, "Fashion-MNIST": 0.88, "KMNIST": 0.88}

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def normalization(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's training mean and scale (its std + 0.1, so blank pixels stay finite)."""
    return train.mean(axis=0), train.std(axis=0) + 0.1


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale every pixel by training statistics (test data never leaks in)."""
    mean, scale = normalization(train)
    return ((train - mean) / scale).astype(np.float32), ((test - mean) / scale).astype(np.float32)


def build_mlp(inputs: int, setup: Setup) -> Sequential:
    return Sequential(
        Linear(inputs, setup.hidden), ReLU(), Dropout(setup.dropout), Linear(setup.hidden, 10)
    )


def load(data_dir: str | None, bar: float | None = None) -> tuple[Setup, dict, Arrays]:
    """The setup, a description of the data (for the JSON) and (x_train, y_train, x_test, y_test).

    Without ``data_dir``: TinyDigits. With it: the IDX files there, named by checksum, with
    that dataset's bar (or none, for data the table does not know); ``bar`` overrides it.
    """
    if data_dir is None:
        setup, about = TINYDIGITS, {"name": "TinyDigits", "source": "shipped with tinytorch"}
        (x_train, y_train), (x_test, y_test) = (
            load_tinydigits(s, flatten=True) for s in ("train", "test")
        )
    else:
        identity = identify(data_dir, IDX)
        (x_train, y_train), (x_test, y_test) = (
            load_mnist(data_dir, s, flatten=True) for s in ("train", "test")
        )
        side = round(x_train.shape[1] ** 0.5)
        name = identity.name or "unrecognised IDX data"
        setup = replace(IDX_RECIPE, label=f"{name} ({side}x{side})", bar=BARS.get(identity.name))
        about = identity.as_dict()
    if bar is not None:
        setup = replace(setup, bar=bar)
    x_train, x_test = standardize(x_train, x_test)
    return setup, about, (x_train, y_train, x_test, y_test)


def train(
    setup: Setup, data: Arrays, seed: int, desc: str = "", flow: GradientFlow | None = None
) -> tuple[Trainer, float]:
    """One seed of the recipe: AdamW, cosine schedule, test accuracy after every epoch.

    ``flow``, if given, records the gradients' flow after every step.
    """
    x_train, y_train, x_test, y_test = data
    manual_seed(seed)
    model = build_mlp(x_train.shape[1], setup)
    optimizer = AdamW(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
    trainer = Trainer(
        model,
        optimizer,
        CrossEntropyLoss(),
        scheduler=CosineAnnealingLR(optimizer, setup.epochs),
        metrics={"accuracy": accuracy},
        progress=partial(progress, desc=desc or f"seed {seed}"),
        on_step=flow.record if flow is not None else None,
    )
    trainer.fit(
        x_train,
        y_train,
        epochs=setup.epochs,
        batch_size=setup.batch_size,
        seed=seed,
        validation=(x_test, y_test),
    )
    return trainer, trainer.evaluate(x_test, y_test)["accuracy"]


def plot(setup: Setup, seeds: list[int], curves: list[History], flow: GradientFlow) -> object:
    """Loss and test accuracy per epoch (a line per seed, the bar dashed), then the
    gradient flow of the first seed: each layer's gradient norm, step by step."""
    fig, (loss_ax, acc_ax, flow_ax) = figure(f"{TITLE} · {setup.label}", 3, width=4.6)
    for colour, seed, history in zip(PALETTE, seeds, curves):
        epochs = np.arange(1, len(history["loss"]) + 1)
        loss_ax.plot(epochs, history["loss"], color=colour, label=f"seed {seed}")
        acc_ax.plot(epochs, 100 * np.asarray(history["val_accuracy"]), color=colour,
                    label=f"seed {seed}")  # fmt: skip
    if setup.bar is not None:
        acc_ax.axhline(100 * setup.bar, color="k", linestyle="--", label=f"bar {setup.bar:.0%}")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy (nats, log scale)", yscale="log",
                title="training loss")  # fmt: skip
    low = min(min(h["val_accuracy"]) for h in curves)
    acc_ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy",
               ylim=(100 * min(low, setup.bar or 1.0) - 2, 100.5))  # fmt: skip
    loss_ax.legend(loc="upper right")
    acc_ax.legend(loc="lower right")
    flow.plot(flow_ax)
    flow_ax.set_title(f"seed {seeds[0]}: {flow_ax.get_title()}")
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--data-dir", help="folder with IDX files, e.g. MNIST (default: TinyDigits)"
    )
    parser.add_argument("--bar", type=float, help="mean test accuracy to reach, e.g. 0.9")
    args = parser.parse_args(argv)
    tell(TITLE, STORY)

    setup, about, data = load(args.data_dir, args.bar)
    x_train, _, x_test, _ = data
    where = f" in {about['folder']}" if args.data_dir else ""
    print(f"  data: {setup.label}{where}: {len(x_train)} training and {len(x_test)} test images")
    if args.data_dir:
        print(f"        identified as {about['identified']}")
    print(
        f"  model: MLP {x_train.shape[1]} -> {setup.hidden} -> 10, AdamW + cosine schedule, "
        f"{setup.epochs} epochs, seeds {args.seeds}"
    )

    result = Result(NAME, TITLE, seeds=args.seeds)
    scores, curves = [], []
    flow = GradientFlow(every=10)  # the first seed's, every 10th step
    for seed in args.seeds:
        trainer, score = train(setup, data, seed, flow=flow if seed == args.seeds[0] else None)
        scores.append(score)
        curves.append(trainer.history)
        print(f"  seed {seed}: test accuracy {score:.2%}")
    model, optimizer = trainer.model, trainer.optimizer
    print(f"\n  memory at the end of training (seed {args.seeds[-1]}):")
    print("    " + str(memory_report(model, optimizer)).replace("\n", "\n    "))

    result.check(
        f"{setup.label}: mean test accuracy over {len(scores)} seeds",
        float(np.mean(scores)),
        setup.bar,
    )
    dead = {name: values[-1] for name, values in flow.dead.items()}
    print(f"  gradient flow (seed {args.seeds[0]}): flagged {flow.flags() or 'nothing'}; "
          f"dead ReLU units at the end {dead}")  # fmt: skip
    result.details.update(
        dataset=about,
        per_seed_accuracy=scores,
        parameters=model.num_parameters(),
        gradient_flow={"flags": flow.flags(), "dead_relu": dead},
    )
    save_figure(plot(setup, args.seeds, curves, flow), NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(run_main(main))
