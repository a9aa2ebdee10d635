"""Graded checks of Module 09 · Spatial: convolution (loops and im2col), pooling, layers."""

import numpy as np

from tinytorch import vision
from tinytorch.core import Tensor, manual_seed

RNG = np.random.default_rng(909)
X = RNG.standard_normal((2, 3, 6, 5))
WEIGHT = RNG.standard_normal((4, 3, 3, 2))
BIAS = RNG.standard_normal(4)


def check_sizes_and_costs():
    """Output sizes, multiply-adds of a Conv2d, and the conv-vs-dense parameter count."""
    comparison = vision.parameter_comparison()
    return {
        "sizes": [
            vision.conv_output_size(*args)
            for args in ((32, 3), (32, 5, 1, 2), (7, 3, 2), (6, 3, 2, 1))
        ],
        "macs": vision.Conv2d(3, 8, 3, padding=1).macs((2, 3, 16, 16)),
        "comparison": [comparison.conv, comparison.dense],
    }


def check_conv2d_loops():
    """The seven-loop reference with a bias, stride (2, 1) and padding (1, 0)."""
    return vision.conv2d_loops(
        Tensor(X), Tensor(WEIGHT), Tensor(BIAS), stride=(2, 1), padding=(1, 0)
    ).data


def check_im2col_and_col2im():
    """Columns in (b, h, w) order holding C·K_h·K_w values; col2im adds them back."""
    cols = vision.im2col(X, (3, 2), stride=(2, 1), padding=(1, 0))
    back = vision.col2im(np.ones_like(cols), X.shape, (3, 2), stride=(2, 1), padding=(1, 0))
    return {"cols": cols, "back": back}


def check_conv2d_forward_and_backward():
    """conv2d as a graph node: its output and the gradients of input, weight and bias."""
    x = Tensor(X, requires_grad=True)
    w, b = Tensor(WEIGHT, requires_grad=True), Tensor(BIAS, requires_grad=True)
    out = vision.conv2d(x, w, b, stride=(2, 1), padding=(1, 0))
    (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
    return {"out": out.data, "x": x.grad.data, "w": w.grad.data, "b": b.grad.data}


def check_pooling_forward_and_backward():
    """Max and average pooling (2 x 2, and 3 x 3 with stride 2) and their gradients."""
    results = {}
    for name, layer in (
        ("max", vision.MaxPool2d(2)),
        ("avg", vision.AvgPool2d(2)),
        ("max3", vision.MaxPool2d(3, stride=2)),
    ):
        x = Tensor(X, requires_grad=True)
        out = layer(x)
        (out * Tensor(RNG.standard_normal(out.shape))).sum().backward()
        results[name] = {"out": out.data, "grad": x.grad.data}
    return results


def check_conv2d_layer_and_flatten():
    """A Conv2d layer with set weights, flattened for a dense head; He initialisation's range."""
    layer = vision.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0))
    layer.weight.data = WEIGHT.astype(np.float32)
    layer.bias.data = BIAS.astype(np.float32)
    manual_seed(9)
    init = vision.kaiming_uniform(27, (64, 3, 3, 3))
    limit = np.sqrt(6.0 / 27)
    return {
        "flat": vision.Flatten()(layer(Tensor(X))).data,
        "init_shape": list(init.shape),
        "init_inside": bool(np.abs(init).max() <= limit),
        "init_spread": bool(abs(init.std() - limit / np.sqrt(3)) < 0.05 * limit),
    }
