"""Graded checks of Module 18 · Acceleration: vectorized and fused kernels, and safe swaps."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import GELU, Linear, Sequential
from tinytorch.perf.acceleration import (
    accelerate,
    conv2d_windows,
    gelu_fused,
    layer_norm,
    layer_norm_fused,
    measure_speedup,
)

RNG = np.random.default_rng(1818)
X = RNG.standard_normal((2, 3, 7, 6))
WEIGHT = RNG.standard_normal((4, 3, 3, 3))
BIAS = RNG.standard_normal(4)
ROWS = RNG.standard_normal((5, 8)) * 2 + 1


def check_conv2d_windows():
    """The vectorized convolution, with and without stride, padding and bias."""
    return {
        "strided": conv2d_windows(X, WEIGHT, BIAS, stride=2, padding=1),
        "plain": conv2d_windows(X, WEIGHT),
    }


def check_gelu_fused():
    """GELU in one buffer, into a new array and into a given one."""
    x = RNG.standard_normal((4, 5)).astype(np.float32)
    out = np.empty_like(x)
    returned = gelu_fused(x, out=out)
    return {"new": gelu_fused(x), "into": out, "same_buffer": returned is out}


def check_layer_norm_fused():
    """LayerNorm with one buffer: output, per-row mean and reciprocal std, and its gradients."""
    weight, bias = RNG.standard_normal(8), RNG.standard_normal(8)
    out, mean, rstd = layer_norm_fused(ROWS, weight, bias)
    x = Tensor(ROWS, requires_grad=True)
    w, b = Tensor(weight, requires_grad=True), Tensor(bias, requires_grad=True)
    y = layer_norm(x, w, b)
    (y * Tensor(RNG.standard_normal(y.shape))).sum().backward()
    return {
        "out": out,
        "mean": mean,
        "rstd": rstd,
        "grads": [x.grad.data, w.grad.data, b.grad.data],
    }


def check_measure_speedup():
    """Both versions timed ``repeats`` times; their results compared; the ratio from medians."""
    calls = {"slow": 0, "fast": 0}

    def slow():
        calls["slow"] += 1
        return np.arange(6.0)

    def fast():
        calls["fast"] += 1
        return np.arange(6.0)

    speedup = measure_speedup("demo", ("slow", slow), ("fast", fast), repeats=3)
    return {"calls_equal": calls["slow"] == calls["fast"] >= 3, "positive": speedup.ratio > 0}


def check_accelerate():
    """accelerate() swaps GELU for the fused one when results stay the same; outputs unchanged."""
    model = Sequential(Linear(8, 8), GELU(), Linear(8, 3))
    rng = np.random.default_rng(18)
    for _, p in model.named_parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    x = Tensor(ROWS.astype(np.float32))
    before = model(x).data
    report = accelerate(model, x, repeats=1)
    return {
        "layers": [type(layer).__name__ for layer in model.modules()],
        "applied": [
            [swap.original, swap.replacement, list(swap.layers)] for swap in report.applied
        ],
        "rejected": len(report.rejected),
        "same_output": bool(np.allclose(model(x).data, before, rtol=1e-4, atol=1e-5)),
    }
