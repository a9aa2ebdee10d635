"""Module 07 · gradient flow: gradient norms per layer over steps, dead ReLU units, flags."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import SGD
from tinytorch.training import GradientFlow, Trainer, dead_relu_fractions


def tiny_run(flow: GradientFlow, steps: int = 12) -> Sequential:
    """12 steps of a 4-8-3 MLP on random data, ``flow.record`` after each."""
    manual_seed(0)
    model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps * 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, len(x))
    trainer = Trainer(
        model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss(), progress=False,
        on_step=flow.record,
    )  # fmt: skip
    trainer.fit(x, y, epochs=1, batch_size=4, shuffle=False)
    return model


def test_a_training_run_records_every_parameter_at_every_step() -> None:
    flow = GradientFlow()
    model = tiny_run(flow)
    assert flow.steps == list(range(1, 13))
    assert list(flow.norms) == [name for name, _ in model.named_parameters()]
    assert all(len(v) == 12 and all(np.isfinite(v)) and min(v) > 0 for v in flow.norms.values())
    assert list(flow.dead) == ["1 (ReLU)"]
    assert all(0.0 <= f <= 1.0 for f in flow.dead["1 (ReLU)"])
    assert flow.flags() == {}


def test_the_norm_is_the_gradients_l2_norm_of_the_last_step() -> None:
    flow = GradientFlow()
    model = tiny_run(flow)
    for name, p in model.named_parameters():
        assert flow.norms[name][-1] == pytest.approx(float(np.linalg.norm(p.grad.data)))


def test_every_keeps_one_call_in_n() -> None:
    flow = GradientFlow(every=5)
    tiny_run(flow)
    assert flow.steps == [1, 6, 11]
    assert all(len(v) == 3 for v in flow.norms.values())


@pytest.mark.ungraded
def test_tiny_huge_and_non_finite_norms_are_flagged() -> None:
    flow = GradientFlow(norms={"a": [1.0, 1e-9], "b": [1.0, 1e4], "c": [np.nan], "d": [0.5]})
    assert flow.flags() == {"a": "vanishing", "b": "exploding", "c": "exploding"}


def test_a_unit_that_never_fires_is_dead_and_the_mode_is_restored() -> None:
    manual_seed(0)
    layer = Linear(2, 4)
    layer.bias.data[:] = [-100.0, 0.0, 0.0, 0.0]  # unit 0 is negative for any small input
    layer.weight.data[:] = [[0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.5, 2.0]]  # the rest fire
    model = Sequential(layer, ReLU()).train()
    x = np.array([[1.0, 1.0], [2.0, 0.5]], dtype=np.float32)
    assert dead_relu_fractions(model, x) == {"1 (ReLU)": 0.25}
    assert model.training


@pytest.mark.ungraded
def test_plot_draws_one_labelled_line_per_parameter() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    flow = GradientFlow(steps=[1, 2], norms={"0.weight": [1.0, 1e-9], "0.bias": [0.5, 0.4]},
                        dead={"1 (ReLU)": [0.0, 0.25]})  # fmt: skip
    fig = flow.plot()
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["0.weight (vanishing)", "0.bias"]
    assert ax.get_xlabel() == "training step" and "gradient" in ax.get_ylabel()
    assert "dead ReLU units 25%" in ax.get_title()
    assert ax.get_yscale() == "log" and ax.get_legend() is not None


def test_plot_without_matplotlib_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    flow = GradientFlow()
    tiny_run(flow, steps=2)
    with pytest.raises(ImportError, match=r"GradientFlow.plot needs .*pip install matplotlib"):
        flow.plot()
    assert Tensor  # the numbers are there without it
    assert len(flow.steps) == 2
