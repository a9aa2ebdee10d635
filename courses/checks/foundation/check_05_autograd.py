"""Graded checks of Module 05 · Autograd: the gradient of every op, through real graphs.

Gradients are read from ``.grad`` after ``backward()`` on a scalar built from the op, so
each check exercises the op's rule, un-broadcasting, the topological walk and
accumulation together. Inputs avoid ties and kinks (no two equal maxima, no zeros under
ReLU), where a gradient is a matter of convention.
"""

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn.activations import gelu, log_softmax, relu, sigmoid, softmax, tanh
from tinytorch.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)

RNG = np.random.default_rng(505)
A = RNG.standard_normal((2, 3))
ROW = RNG.standard_normal(3)
WEIGHTS = RNG.standard_normal((2, 3))  # a weighted sum gives every element its own gradient


def _leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def _grads(*leaves):
    return [leaf.grad.data for leaf in leaves]


def check_add_sub_broadcast():
    """a + row - c, summed with weights: row and c get gradients summed over broadcast axes."""
    a, row, c = _leaf(A), _leaf(ROW), _leaf([[1.5]])
    ((a + row - c) * Tensor(WEIGHTS)).sum().backward()
    return _grads(a, row, c)


def check_mul_div_pow_neg():
    """Products, quotients, powers and negation sharing inputs."""
    a, row = _leaf(A), _leaf(np.abs(ROW) + 0.5)
    (-(a * row) + a / row + (a**3) * 0.5 - row**2).sum().backward()
    return _grads(a, row)


def check_matmul():
    """A batched product (2, 3, 4) @ (4, 5): the right operand's gradient sums over the batch."""
    left, right = _leaf(RNG.standard_normal((2, 3, 4))), _leaf(RNG.standard_normal((4, 5)))
    ((left @ right) * Tensor(RNG.standard_normal((2, 3, 5)))).sum().backward()
    return _grads(left, right)


def check_reductions():
    """sum over an axis, mean with keepdims, and max (no ties)."""
    a = _leaf(A)
    total = (a.sum(axis=0) * Tensor(ROW)).sum() + (a.mean(axis=1, keepdims=True) ** 2).sum()
    (total + a.max() * 3.0 + (a.max(axis=1) * Tensor([2.0, -1.0])).sum()).backward()
    return a.grad.data


def check_views_and_indexing():
    """reshape, permute, and indexing that picks one row twice (its gradient adds up)."""
    a = _leaf(np.arange(24.0).reshape(2, 3, 4) / 10)
    weights = Tensor(RNG.standard_normal((4, 6)))
    viewed = (a.permute(2, 0, 1).reshape(4, 6) * weights).sum()
    picked = a.reshape(6, 4)[[0, 0, 5]].sum() + a[1, :, 2].sum() * 2.0
    (viewed + picked).backward()
    return a.grad.data


def check_exp_log_sqrt():
    """exp, log and sqrt of positive values."""
    x = _leaf(np.abs(A) + 0.5)
    ((x.exp() * 0.1 + x.log() * Tensor(WEIGHTS) + x.sqrt()).sum()).backward()
    return x.grad.data


def check_activations():
    """relu, sigmoid, tanh, gelu, softmax and log_softmax (weighted, so each element counts)."""
    x = _leaf(A + np.sign(A) * 0.1)  # no zeros: relu is differentiable everywhere used
    w = Tensor(WEIGHTS)
    parts = (relu(x), sigmoid(x), tanh(x), gelu(x), softmax(x), log_softmax(x))
    grads = {}
    for name, part in zip(("relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"), parts):
        x.grad = None
        (part * w).sum().backward()
        grads[name] = x.grad.data
    return grads


def check_losses():
    """Gradients of MSE, cross-entropy, BCE and BCE with logits, mean-reduced."""
    logits = _leaf(A)
    cross_entropy(logits, np.array([2, 0])).backward()
    prediction = _leaf(A)
    mse_loss(prediction, WEIGHTS).backward()
    probs = _leaf(np.array([0.1, 0.4, 0.8]))
    binary_cross_entropy(probs, np.array([0.0, 1.0, 1.0])).backward()
    scores = _leaf(np.array([-3.0, 0.5, 4.0]))
    binary_cross_entropy_with_logits(scores, np.array([0.0, 1.0, 1.0])).backward()
    return _grads(logits, prediction, probs, scores)


def check_shared_nodes_and_long_chains():
    """A tensor used by several ops gets every path's gradient; 3000 ops need no recursion."""
    x = _leaf([0.5, -1.5, 2.0])
    y = x * x
    (y + y * x + (y * 2.0).exp() * 0.01).sum().backward()
    chain = _leaf([1.0])
    out = chain
    for _ in range(3000):
        out = out * 1.0001
    out.sum().backward()
    return {"shared": x.grad.data, "chain": chain.grad.data}


def check_what_is_recorded():
    """Which results require gradients, grads that accumulate, and no_grad."""
    a, b = _leaf(A), Tensor(A)
    with no_grad():
        inside = (a * 2.0).requires_grad
    (a * 2.0).sum().backward()
    (a * 3.0).sum().backward()  # a second backward adds to .grad
    return {
        "mixed": (a * b).requires_grad,
        "constant": (b * b).requires_grad,
        "no_grad": inside,
        "accumulated": a.grad.data,
        "constant_grad": b.grad is None,
    }
