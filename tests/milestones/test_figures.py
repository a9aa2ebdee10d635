"""Every milestone figure: a title, labelled axes, keys that hide no data, one file each.

The figure functions get small made-up inputs: what is checked is the matplotlib
objects they build (titles, labels, legends), not pixels and not training.
"""

from __future__ import annotations

import numpy as np
import pytest

import common
from tinytorch.core import manual_seed
from tinytorch.nn import Linear, Sequential, Tanh
from tinytorch.training import History


def history(**curves: list[float]) -> History:
    h = History()
    for values in zip(*curves.values()):
        h.log(**dict(zip(curves, values)))
    return h


def m01_figure():
    import m01_1958_perceptron as m01

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    run = {"x": x, "y": np.array([0, 0, 0, 1]), "line": (np.array([1.0, 1.0]), -1.5),
           "accuracy": 1.0, "curve": [0.5, 0.75, 1.0, 1.0]}  # fmt: skip
    vertical = {**run, "line": (np.array([1.0, 0.0]), -0.5)}  # w2 = 0: a vertical line
    return m01.plot({"AND gate": run, "vertical": vertical})


def m02_figure():
    import m02_1969_xor as m02

    manual_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    model = Sequential(Linear(2, 4), Tanh(), Linear(4, 1))
    return m02.plot([(model, x, y, "untrained"), (model, x, y, "again")])


def m03_figure():
    import m03_1986_mlp as m03
    from tinytorch.training import GradientFlow

    curves = [history(loss=[2.0, 0.5, 0.1], val_accuracy=[0.80, 0.95, 0.98]) for _ in range(3)]
    flow = GradientFlow(steps=[1, 2, 3], norms={"0.weight": [1.0, 0.5, 0.2], "0.bias": [0.1] * 3},
                        dead={"1 (ReLU)": [0.0, 0.1, 0.2]})  # fmt: skip
    return m03.plot(m03.TINYDIGITS, [0, 1, 2], curves, flow)


def m04_figure():
    import m04_1998_cnn as m04

    examples = np.random.default_rng(0).random((8, 1, 16, 16)).astype(np.float32)
    curves = {name: history(loss=[2.0, 1.0], val_accuracy=[0.5, acc])
              for name, acc in (("MLP", 0.55), ("CNN", 0.9))}  # fmt: skip
    return m04.plot(m04.SHIFTED_DIGITS, examples, curves, {"MLP": 0.55, "CNN": 0.9},
                    {"MLP": 10_156, "CNN": 9_930})  # fmt: skip


def m05_figure():
    import m05_2017_transformer as m05

    talk = {"train": list(np.geomspace(3, 0.01, 20)), "validation": list(np.geomspace(2, 0.02, 20)),
            "val_exact": [0.7, 0.9]}  # fmt: skip
    return m05.plot(list(np.geomspace(3, 1e-3, 50)), talk, m05.ChatSetup(epochs=20), 0.95)


def m06_figure():
    import m06_2018_mlperf as m06
    from tinytorch.perf import summarize

    def row(label: str, accuracy: float, seconds: float, size: int) -> object:
        timing = summarize(list(seconds * np.linspace(0.95, 1.05, 5)), label)
        return m06.Row(label, accuracy, timing, size, size, 1000)

    return m06.plot([
        [row("MLP float32", 0.98, 2e-4, 76_000), row("MLP int8", 0.98, 5e-4, 21_000)],
        [row("GPT uncached", 0.89, 2.0, 950_000), row("GPT cached", 0.89, 0.09, 950_000)],
    ])  # fmt: skip


FIGURES = [m01_figure, m02_figure, m03_figure, m04_figure, m05_figure, m06_figure]


@pytest.fixture(params=FIGURES, ids=lambda f: f.__name__.removesuffix("_figure"))
def fig(request):
    figure = request.param()
    yield figure
    common.pyplot().close(figure)


def test_the_figure_has_a_title_naming_the_milestone(fig) -> None:
    assert fig._suptitle is not None
    assert fig._suptitle.get_text().startswith("Milestone ")


def named_rows(ax) -> bool:
    return any(label.get_text() for label in ax.get_yticklabels())


def test_every_panel_has_a_title_and_labelled_axes(fig) -> None:
    for ax in fig.axes:
        assert ax.get_title(), "panel without a title"
        if ax.get_images():  # a picture of the inputs has no axes to label
            continue
        assert ax.get_xlabel(), ax.get_title()
        # the y axis: a label, or rows named by their tick labels (in this panel or the first)
        assert ax.get_ylabel() or named_rows(ax) or named_rows(fig.axes[0]), ax.get_title()


def test_every_panel_with_several_series_has_a_key(fig) -> None:
    for ax in fig.axes:
        series = [line for line in ax.get_lines() if line.get_label()[0] != "_"]
        series += [c for c in ax.collections if c.get_label()[0] != "_"]
        if len(series) > 1:
            assert ax.get_legend() is not None or fig.legends, ax.get_title()


def test_no_key_hides_data(fig) -> None:
    for ax in fig.axes:
        assert common.legend_hides_nothing(ax), ax.get_title()


def test_the_figure_is_saved_as_one_png(fig) -> None:
    path = common.save_figure(fig, "figure")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["figure.png"]


def test_a_legend_over_the_data_is_caught() -> None:
    _, (ax,) = common.figure("Milestone test", 1)
    ax.plot([0, 1], [1, 1], marker="o", label="a")
    ax.plot([0, 1], [0, 0], marker="o", label="b")
    ax.legend(loc="upper left", bbox_to_anchor=(-0.05, 1.05))
    assert not common.legend_hides_nothing(ax)
