"""Milestone 1 · 1958 · Rosenblatt's Perceptron.

Needs: foundation tier (modules 01–07).
Shows: one layer of weights plus a threshold learns any linearly separable problem —
AND, OR and two separable point clouds — to 100% training accuracy. The figure draws
the line each perceptron learned over its points, and the accuracy epoch by epoch.
"""

from __future__ import annotations

import sys

import numpy as np

from common import PALETTE, arguments, begin, figure, run_main, save_figure
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


def decision_line(trainer: Trainer) -> tuple[np.ndarray, float]:
    """The learned boundary w·x + b = 0 (where the sigmoid says 0.5): returns (w, b)."""
    linear = trainer.model[0]
    return linear.weight.data[:, 0], float(linear.bias.data[0])


def draw_problem(ax, x: np.ndarray, y: np.ndarray, line: tuple[np.ndarray, float], title: str):
    """The points, coloured by class, and the learned line across the plotted range."""
    for label, colour in ((0, PALETTE[0]), (1, PALETTE[1])):
        members = y.ravel() == label
        ax.scatter(*x[members].T, color=colour, edgecolors="k", s=30, label=f"class {label}")
    (w1, w2), b = line
    pad = 0.25 * max(np.ptp(x[:, 0]), np.ptp(x[:, 1]))
    lo, hi = x.min(axis=0) - pad, x.max(axis=0) + pad
    xs = np.linspace(lo[0], hi[0], 2)
    if abs(w2) > 1e-12:  # x2 = -(w1 x1 + b) / w2
        ax.plot(xs, -(w1 * xs + b) / w2, color="k", label="learned line (p = 0.5)")
    else:  # a vertical line x1 = -b / w1
        ax.axvline(-b / w1, color="k", label="learned line (p = 0.5)")
    ax.set(
        title=title, xlabel="input x₁", ylabel="input x₂", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1])
    )


def plot(runs: dict[str, dict]) -> object:
    """One panel per problem (points and learned line), then every accuracy curve."""
    fig, axes = figure(TITLE, len(runs) + 1, width=3.9)
    for ax, (label, run) in zip(axes, runs.items()):
        draw_problem(ax, run["x"], run["y"], run["line"], f"{label}: {run['accuracy']:.0%}")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    curves = axes[-1]
    for label, run in runs.items():
        curves.plot(
            np.arange(1, len(run["curve"]) + 1), 100 * np.asarray(run["curve"]), label=label
        )
    curves.set(
        title="training accuracy", xlabel="epoch", ylabel="training accuracy (%)", ylim=(0, 105)
    )
    curves.legend(loc="lower right")
    return fig


def main(argv: list[str] | None = None) -> int:
    args = arguments(TITLE).parse_args(argv)
    result = begin(NAME, TITLE, STORY, seeds=[args.seed])
    problems = {
        "AND gate": (*logic_gate("and"), 400),
        "OR gate": (*logic_gate("or"), 400),
        "separable clouds": (*linearly_separable(n_per_class=100, seed=args.seed), 100),
    }
    runs = {}
    for label, (x, y, epochs) in problems.items():
        trainer, curve = train_perceptron(x, y, args.seed, epochs)
        final = trainer.evaluate(x, y)["accuracy"]
        print(
            f"  {label:<17}{len(x):>4} points: training accuracy {final:6.1%} after {epochs} epochs"
        )
        result.check(f"{label}: training accuracy", final, 1.0)
        w, b = decision_line(trainer)
        result.details[label] = {
            "accuracy_curve": curve[:: max(1, len(curve) // 50)],
            "line": {"w": w.tolist(), "b": b},
        }
        runs[label] = {"x": x, "y": y, "line": (w, b), "accuracy": final, "curve": curve}
    save_figure(plot(runs), NAME)
    return result.finish()


if __name__ == "__main__":
    sys.exit(run_main(main))
