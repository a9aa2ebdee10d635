"""Graded checks of Module 06 · Optimizers: parameters after a few steps with known gradients."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import Parameter
from tinytorch.optim import SGD, Adam, AdamW

RNG = np.random.default_rng(606)
START = RNG.standard_normal((2, 3))
GRADS = [RNG.standard_normal((2, 3)) for _ in range(4)]


def _run(make, steps=4):
    """Parameters after ``steps`` steps of the optimizer ``make(params)`` on GRADS."""
    weight, idle = Parameter(START.copy()), Parameter(np.ones(3))
    optimizer = make([weight, idle])
    for grad in GRADS[:steps]:
        weight.grad = Tensor(grad)  # idle never gets a gradient: it must not move
        optimizer.step()
    return {"weight": weight.data, "idle": idle.data}


def check_sgd():
    """Plain SGD, and SGD with L2 weight decay."""
    return {
        "plain": _run(lambda p: SGD(p, lr=0.1)),
        "decay": _run(lambda p: SGD(p, lr=0.1, weight_decay=0.05)),
    }


def check_sgd_momentum():
    """Heavy-ball and Nesterov momentum (the buffer starts as the first gradient)."""
    return {
        "momentum": _run(lambda p: SGD(p, lr=0.05, momentum=0.9)),
        "nesterov": _run(lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    }


def check_adam():
    """Adam with bias correction, with and without coupled weight decay."""
    return {
        "adam": _run(lambda p: Adam(p, lr=0.01)),
        "decay": _run(lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    }


def check_adamw():
    """AdamW: weight decay applied to the parameter, not mixed into the gradient."""
    return _run(lambda p: AdamW(p, lr=0.01, weight_decay=0.1))
