"""Graded checks of Module 03 · Layers: Linear, parameters and state, initialisation, dropout."""

import numpy as np

from tinytorch.core import Tensor, manual_seed
from tinytorch.nn import Dropout, Linear, Module, ReLU, Sequential
from tinytorch.nn.layers import xavier_uniform

RNG = np.random.default_rng(303)
X = RNG.standard_normal((5, 4))
W = RNG.standard_normal((4, 3))
BIAS = RNG.standard_normal(3)


def _linear(bias=True):
    layer = Linear(4, 3, bias=bias)
    layer.weight.data = W.astype(np.float32)
    if bias:
        layer.bias.data = BIAS.astype(np.float32)
    return layer


def check_linear_forward():
    """x @ W + b for a batch of five, with and without the bias."""
    return {"bias": _linear()(Tensor(X)).data, "no_bias": _linear(bias=False)(Tensor(X)).data}


def check_xavier_uniform():
    """Shape, dtype and the U(-a, a) range of a 200 x 100 Xavier initialisation."""
    manual_seed(5)
    w = xavier_uniform(200, 100)
    limit = np.sqrt(6.0 / 300)
    return {
        "shape": list(w.shape),
        "dtype": str(w.dtype),
        "inside": bool(np.abs(w).max() <= limit),
        "spread": bool(abs(w.std() - limit / np.sqrt(3)) < 0.05 * limit),
        "custom_shape": list(xavier_uniform(3, 2, shape=(3, 2, 5)).shape),
    }


class _Tied(Module):
    def __init__(self):
        self.first = Linear(2, 2)
        self.again = self.first  # the same layer twice: one set of parameters
        self.head = Linear(2, 1, bias=False)


def check_named_parameters():
    """Dotted names in a Sequential; a layer reachable twice is listed once."""
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    return {
        "sequential": [name for name, _ in model.named_parameters()],
        "shapes": [list(p.shape) for _, p in model.named_parameters()],
        "tied": [name for name, _ in _Tied().named_parameters()],
    }


def check_load_state_dict():
    """Loading a state sets the weights; a wrong name or shape changes nothing."""
    model = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    state = {
        "0.weight": W,
        "0.bias": BIAS,
        "2.weight": np.ones((3, 2)),
        "2.bias": np.array([0.5, -0.5]),
    }
    model.load_state_dict(state)
    loaded = model(Tensor(X)).data
    refused = []
    for bad in ({**state, "3.weight": W}, {**state, "0.weight": np.ones((3, 3))}):
        try:
            model.load_state_dict(bad)
        except (KeyError, ValueError) as error:
            refused.append(type(error).__name__)
    return {"output": loaded, "refused": refused, "unchanged": model(Tensor(X)).data}


def check_dropout():
    """Training zeroes about p of the values, scales the rest by 1/(1-p); eval is the identity."""
    manual_seed(0)
    layer = Dropout(0.25)
    out = layer(Tensor(np.ones(4000))).data
    zeros = float((out == 0).mean())
    return {
        "values": sorted({round(float(v), 5) for v in out}),
        "fraction": bool(0.2 < zeros < 0.3),
        "eval": layer.eval()(Tensor(X)).data,
    }
