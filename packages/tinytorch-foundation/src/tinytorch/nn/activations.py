"""Module 02 · Activations — the non-linearities that let stacked layers bend.

Connection map
    Prerequisites : 01 Tensor
    This module   : relu, sigmoid, tanh, gelu, softmax, log_softmax — the functions every
                    layer form (``ReLU()``, Module 03) and loss builds on
    Unlocks       : 03 Layers (hidden units, and each function as a layer: ``ReLU()``) ·
                    04 Losses (softmax inside cross-entropy)

Systems insight: ``exp(1000)`` overflows float32 (max ~3.4e38) to ``inf``, and
``inf / inf`` is NaN. Every function here is written so that inputs of ±1e4 give exact,
finite answers: shift by the max before ``exp``, or only ever call ``exp`` on
non-positive numbers. Each is one vectorized pass over memory, so cost is bandwidth:
a (64, 128) float32 activation reads and writes 32 KB.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.arguments import _axis
from tinytorch.core.tensor import Tensor, check_tensor, record

#: sqrt(2/pi), GELU's tanh-form constant; a Python float keeps float32 inputs float32.
GELU_C = math.sqrt(2.0 / math.pi)


def relu(x: Tensor) -> Tensor:
    """max(0, x), element-wise."""
    check_tensor("relu", x)
    ### BEGIN SOLUTION
    out = Tensor._wrap(np.maximum(x.data, 0))
    ### END SOLUTION
    return record(out, "ReLUBackward", x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow for any x.

    With e = exp(-|x|) (always in (0, 1]): sigmoid(x) = 1/(1+e) for x >= 0, e/(1+e) otherwise.
    """
    check_tensor("sigmoid", x)
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x.data))
    out = Tensor._wrap(np.where(x.data >= 0, 1.0, e) / (1.0 + e))
    ### END SOLUTION
    return record(out, "SigmoidBackward", x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, in (-1, 1)."""
    check_tensor("tanh", x)
    ### BEGIN SOLUTION
    out = Tensor._wrap(np.tanh(x.data))
    ### END SOLUTION
    return record(out, "TanhBackward", x)


def gelu(x: Tensor) -> Tensor:
    """Gaussian Error Linear Unit, tanh approximation (PyTorch's ``approximate='tanh'``).

    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))); used by GPT-style transformers.
    """
    check_tensor("gelu", x)
    ### BEGIN SOLUTION
    v = x.data
    out = Tensor._wrap(0.5 * v * (1.0 + np.tanh(GELU_C * (v + 0.044715 * v * v * v))))
    ### END SOLUTION
    return record(out, "GELUBackward", x)


# competency: operations/implements, operations/debugs
def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``: a probability distribution per row.

    Subtracting the row max first changes nothing mathematically and keeps exp() <= 1.
    """
    _axis("softmax", "dim", dim, check_tensor("softmax", x).shape)
    if x.data.size == 0:  # nothing to normalize (PyTorch returns the empty tensor too)
        return record(Tensor._wrap(x.data.copy()), "SoftmaxBackward", x, dim=dim)
    ### BEGIN SOLUTION
    shifted = x.data - x.data.max(axis=dim, keepdims=True)
    e = np.exp(shifted)
    out = Tensor._wrap(e / e.sum(axis=dim, keepdims=True))
    ### END SOLUTION
    return record(out, "SoftmaxBackward", x, dim=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log(softmax(x)) via the log-sum-exp trick: (x - m) - log(sum(exp(x - m)))."""
    _axis("log_softmax", "dim", dim, check_tensor("log_softmax", x).shape)
    if x.data.size == 0:  # nothing to normalize (PyTorch returns the empty tensor too)
        return record(Tensor._wrap(x.data.copy()), "LogSoftmaxBackward", x, dim=dim)
    ### BEGIN SOLUTION
    shifted = x.data - x.data.max(axis=dim, keepdims=True)
    out = Tensor._wrap(shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True)))
    ### END SOLUTION
    return record(out, "LogSoftmaxBackward", x, dim=dim)
