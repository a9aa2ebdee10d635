"""Milestone 1 · 1958 · Rosenblatt's Perceptron.

Needs: foundation tier (modules 01–07).
Shows: one layer of weights plus a threshold learns any linearly separable problem —
AND, OR and two separable point clouds — to 100% training accuracy.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from common import Result, pyplot, save_figure, tell
from tinytorch.core import manual_seed
from tinytorch.datasets import linearly_separable, logic_gate
from tinytorch.nn import BCELoss, Linear, Sequential, Sigmoid
from tinytorch.optim import SGD
from tinytorch.training import Trainer, accuracy

NAME = "m01_1958_perceptron"
TITLE = "Milestone 1 · 1958 · The Perceptron"
STORY = """
In 1958 Frank Rosenblatt built the Mark I Perceptron: 400 photocells wired to a single
layer of adjustable weights that learned to sort simple shapes. The New York Times
reported a machine expected to 'walk, talk, see' one day. What it could really do is
what you reproduce here: learn a straight line that separates two classes. Your Linear
layer holds the weights, your Sigmoid squashes the score into a probability, and your
autograd and SGD move the line until every training point falls on the right side.
"""


def train_perceptron(
    x: np.ndarray, y: np.ndarray, seed: int, epochs: int
) -> tuple[Trainer, list[float]]:
    """A single-layer perceptron (Linear + Sigmoid) trained with BCE and SGD."""
    manual_seed(seed)
    model = Sequential(Linear(2, 1), Sigmoid())
    trainer = Trainer(
        model,
        SGD(model.parameters(), lr=0.5),
        BCELoss(),
        metrics={"accuracy": accuracy},
        progress=False,
    )
    history = trainer.fit(x, y, epochs=epochs, batch_size=len(x), seed=seed, validation=(x, y))
    return trainer, history["val_accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tell(TITLE, STORY)
    result = Result(NAME, TITLE, seeds=[args.seed])
    problems = {
        "AND gate": (*logic_gate("and"), 400),
        "OR gate": (*logic_gate("or"), 400),
        "separable clouds (200 points)": (
            *linearly_separable(n_per_class=100, seed=args.seed),
            100,
        ),
    }
    plt = pyplot()
    fig, axes = plt.subplots(1, len(problems), figsize=(4 * len(problems), 3.4))
    for ax, (label, (x, y, epochs)) in zip(axes, problems.items()):
        trainer, curve = train_perceptron(x, y, args.seed, epochs)
        final = trainer.evaluate(x, y)["accuracy"]
        print(f"  {label:<32} training accuracy {final:6.1%} after {epochs} epochs")
        result.check(f"{label}: training accuracy", final, 1.0)
        result.details[label] = {"accuracy_curve": curve[:: max(1, len(curve) // 50)]}
        ax.plot(curve)
        ax.set(title=label, xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.05))
    save_figure(fig, NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(main())
