"""Module 05 · Autograd — reverse-mode differentiation over a dynamic graph.

Connection map
    Prerequisites : 01 Tensor · 02 Activations · 03 Layers · 04 Losses
    This module   : computational graphs, the chain rule, backpropagation — one Function
                    abstraction, gradients un-broadcast in one place, an iterative
                    topological sort, gradcheck, graph statistics, and a picture of
                    the graph (Graphviz DOT text; SVG/PNG when Graphviz is installed)
    Unlocks       : 06 Optimizers · 07 Training · every later module that learns

How it switches on (progressive disclosure): Modules 01–04 compute forward values only.
``enable_autograd()`` wraps each of their ops so that, when an input requires a gradient,
the result remembers a Function node that knows the op's local derivative. Code written
in Modules 01–04 keeps working unchanged; it simply starts building graphs.

Systems insight: the graph keeps every intermediate activation alive until backward
runs. ``graph_stats(loss)`` counts the nodes and the bytes they hold — usually far more
than the parameters themselves — which is what activation checkpointing (Module 07) trades
for recomputation.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor, _data, _plain_index, _varargs

# ----------------------------------------------------------------------------- grad mode


class _GradMode:
    enabled = True


@contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous, _GradMode.enabled = _GradMode.enabled, enabled
    try:
        yield
    finally:
        _GradMode.enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Inside this block no graph is recorded: for evaluation and in-place updates."""
    return _grad_mode(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record graphs again inside a ``no_grad`` block (used by activation checkpointing)."""
    return _grad_mode(True)


def is_grad_enabled() -> bool:
    return _GradMode.enabled


# ----------------------------------------------------------------------------- Function


# competency: graphs/knows via=grad_fn,Cube
class Function(ABC):
    """One node of the graph: an op applied to ``inputs`` that produced ``out``.

    ``backward(grad)`` receives dLoss/dOut (shaped like ``out``) and returns one gradient
    per entry of ``inputs`` (None for inputs that are not differentiable). A gradient
    may keep a broadcast shape: the engine un-broadcasts it, so rules never do.

    Ops from Modules 01–04 keep their own forward and only add ``backward`` here.
    Ops from later modules (convolution, attention, ...) define ``forward`` on arrays
    too and are called through :meth:`apply`.
    """

    def __init__(self, inputs: tuple, kwargs: dict, out: np.ndarray | None = None) -> None:
        self.inputs = inputs
        self.kwargs = kwargs
        self.out = out

    @abstractmethod
    def backward(self, grad: np.ndarray) -> Sequence[np.ndarray | None]:
        """Gradients of the loss with respect to each input."""

    def arg(self, name: str, position: int, default: Any = None) -> Any:
        """An argument of the recorded call, given by keyword or by position."""
        if name in self.kwargs:
            return self.kwargs[name]
        return self.inputs[position] if position < len(self.inputs) else default

    def needs_grad(self, position: int) -> bool:
        """Whether input ``position`` wants a gradient (skip the work when it does not)."""
        x = self.inputs[position] if position < len(self.inputs) else None
        return isinstance(x, Tensor) and x.requires_grad

    def array(self, position: int) -> np.ndarray:
        """The array behind input ``position`` (Tensor data or a raw number/array)."""
        return np.asarray(_data(self.inputs[position]))

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and record the node if gradients are needed."""
        fn = cls(inputs, kwargs)
        out = Tensor._wrap(fn.forward(*(_data(x) for x in inputs), **kwargs))
        fn.out = out.data
        if _needs_graph(inputs):
            out.requires_grad = True
            out.grad_fn = fn
        return out

    def forward(self, *arrays: Any, **kwargs: Any) -> np.ndarray:
        """Only ops called through ``apply`` define this; Module 01–04 ops use their own."""
        raise TypeError(f"{type(self).__name__} has no array forward; call the Tensor op")

    def saved_arrays(self) -> Iterator[np.ndarray]:
        """Every array this node keeps alive for backward (inputs, output, extras)."""
        for x in self.inputs:
            if isinstance(x, (Tensor, np.ndarray)):
                yield np.asarray(_data(x))
        if self.out is not None:
            yield self.out
        for value in self.__dict__.values():
            if isinstance(value, np.ndarray):
                yield value

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _needs_graph(inputs: tuple) -> bool:
    """Record a node only when grad mode is on and some input requires a gradient.

    Checked before a node is built, so inference (``no_grad``) pays nothing for autograd.
    """
    if _GradMode.enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                return True
    return False


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    If x of shape (3,) was broadcast against (4, 3), each x[j] fed 4 outputs, so its
    gradient is the sum over that new leading axis. Same for size-1 axes that were
    stretched. This is the only place in TinyTorch where that happens.
    """
    ### BEGIN SOLUTION
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
    ### END SOLUTION


# ----------------------------------------------------------------------------- Module 01 rules


class AddBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return grad, grad
        ### END SOLUTION


class SubBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return grad, -grad
        ### END SOLUTION


class MulBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return grad * self.array(1), grad * self.array(0)
        ### END SOLUTION


class DivBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        b = self.array(1)
        return grad / b, -grad * self.out / b
        ### END SOLUTION


class PowBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        a, b = self.array(0), self.array(1)
        grad_a = grad * b * a ** (b - 1)
        if not isinstance(self.inputs[1], Tensor):
            return (grad_a,)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_b = grad * self.out * np.log(a)
        return grad_a, grad_b
        ### END SOLUTION


class NegBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (-grad,)
        ### END SOLUTION


class MatMulBackward(Function):
    """C = A @ B: dA = dC @ B^T, dB = A^T @ dC (batch axes summed by unbroadcast).

    Each is a matmul as costly as the forward one, so it is skipped for an input that
    needs no gradient (the data batch x in ``x @ W``).
    """

    def backward(self, grad):
        ### BEGIN SOLUTION
        a, b = self.array(0), self.array(1)
        # Treat vectors as matrices so one formula serves every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = grad.reshape((*batch, a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if self.needs_grad(0):
            grad_a = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                grad_a = grad_a.reshape((*grad_a.shape[:-2], a.shape[0]))
        if self.needs_grad(1):
            grad_b = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                grad_b = grad_b.reshape((*grad_b.shape[:-2], b.shape[0]))
        return grad_a, grad_b
        ### END SOLUTION


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(a % ndim for a in axis)


def _restore_reduced(grad: np.ndarray, fn: Function) -> np.ndarray:
    """Give a reduction's gradient back its reduced axes (as size 1) so it broadcasts."""
    x = fn.array(0)
    if not fn.arg("keepdims", 2, False) and x.ndim:
        grad = np.expand_dims(grad, _axes(fn.arg("axis", 1), x.ndim))
    return grad


class SumBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        return (np.broadcast_to(_restore_reduced(grad, self), x.shape),)
        ### END SOLUTION


class MeanBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        count = x.size // max(self.out.size, 1)
        return (np.broadcast_to(_restore_reduced(grad, self) / count, x.shape),)
        ### END SOLUTION


class MaxBackward(Function):
    """The gradient goes to the maximum; ties share it equally (like ``amax``)."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        top = _restore_reduced(self.out, self)
        winners = (x == top).astype(x.dtype)
        share = winners / winners.sum(axis=_axes(self.arg("axis", 1), x.ndim), keepdims=True)
        return (_restore_reduced(grad, self) * share,)
        ### END SOLUTION


class ReshapeBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad.reshape(self.array(0).shape),)
        ### END SOLUTION


class PermuteBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        axes = _varargs(self.inputs[1:])
        return (grad.transpose(np.argsort([a % grad.ndim for a in axes])),)
        ### END SOLUTION


class GetItemBackward(Function):
    """Scatter the gradient back into a zero array (adding where indices repeat)."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        full = np.zeros_like(x)
        np.add.at(full, _plain_index(self.inputs[1]), grad)
        return (full,)
        ### END SOLUTION


class ExpBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad * self.out,)
        ### END SOLUTION


class LogBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad / self.array(0),)
        ### END SOLUTION


class SqrtBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad * 0.5 / self.out,)
        ### END SOLUTION


# ----------------------------------------------------------------------------- Module 02 rules


class ReLUBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad * (self.array(0) > 0),)
        ### END SOLUTION


class SigmoidBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad * self.out * (1.0 - self.out),)
        ### END SOLUTION


class TanhBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad * (1.0 - self.out * self.out),)
        ### END SOLUTION


class GELUBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        c = math.sqrt(2.0 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x * x * x))
        local = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x * x)
        return (grad * local,)
        ### END SOLUTION


class SoftmaxBackward(Function):
    """ds_i = s_i (g_i - sum_j g_j s_j): the Jacobian-vector product, never the Jacobian."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        dim = self.arg("dim", 1, -1)
        s = self.out
        return (s * (grad - (grad * s).sum(axis=dim, keepdims=True)),)
        ### END SOLUTION


class LogSoftmaxBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        dim = self.arg("dim", 1, -1)
        return (grad - np.exp(self.out) * grad.sum(axis=dim, keepdims=True),)
        ### END SOLUTION


# ----------------------------------------------------------------------------- Module 04 rules


def _loss_scale(fn: Function, grad: np.ndarray, count: int) -> np.ndarray:
    """dLoss/d(per-element loss) for reduction 'mean' (1/count), 'sum' (1) or 'none'."""
    reduction = fn.arg("reduction", 2, "mean")
    return grad / count if reduction == "mean" else grad


class MSELossBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        p = self.array(0)
        diff = p - self.array(1).astype(p.dtype)
        return (2.0 * diff * _loss_scale(self, grad, p.size),)
        ### END SOLUTION


class CrossEntropyBackward(Function):
    """d/dlogits = softmax(logits) - one_hot(target), per row."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        logits = self.array(0)
        targets = self.array(1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(targets)), targets] -= 1.0
        scale = _loss_scale(self, grad, len(targets))
        return (probs * (scale[:, None] if np.ndim(scale) else scale),)
        ### END SOLUTION


class BCELossBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        p = self.array(0)
        y = self.array(1).astype(p.dtype)
        local = (p - y) / np.maximum(p * (1.0 - p), 1e-12)
        return (local * _loss_scale(self, grad, p.size),)
        ### END SOLUTION


class BCEWithLogitsBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        y = self.array(1).astype(x.dtype)
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1.0, e) / (1.0 + e)
        return ((sig - y) * _loss_scale(self, grad, x.size),)
        ### END SOLUTION


# ----------------------------------------------------------------------------- the engine


def _topological_order(root: Tensor) -> list[Tensor]:
    """Non-leaf tensors reachable from ``root``, each after all of its inputs.

    An explicit stack instead of recursion: a chain 10,000 ops deep is fine.
    """
    ### BEGIN SOLUTION
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for x in node.grad_fn.inputs:
            if isinstance(x, Tensor) and x.grad_fn is not None and id(x) not in visited:
                stack.append((x, False))
    return order
    ### END SOLUTION


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray) -> None:
    """Add into ``leaf.grad`` (a Tensor), owning a fresh copy the first time."""
    grad = grad.astype(leaf.dtype, copy=False)
    if leaf.grad is None:
        leaf.grad = Tensor._wrap(np.array(grad, copy=True))
    else:
        leaf.grad.data += grad


# competency: graphs/implements via=backward
def run_backward(root: Tensor, gradient: Any = None) -> None:
    """Backpropagate from ``root``: fill ``.grad`` of every leaf that requires it.

    Walks the graph once in reverse topological order; each Function turns the gradient
    of its output into gradients of its inputs (the chain rule), which are un-broadcast
    and summed where a tensor feeds several ops.
    """
    ### BEGIN SOLUTION
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {root.shape}) does not require a gradient; "
            "set requires_grad=True on the inputs you want gradients for"
        )
    if gradient is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: an implicit gradient needs a one-element output, got shape "
                f"{root.shape}; pass gradient= of that shape, or reduce first (e.g. .mean())"
            )
        gradient = np.ones_like(root.data)
    gradient = np.asarray(_data(gradient), dtype=root.dtype)
    if gradient.shape != root.shape:
        raise ValueError(f"backward: gradient shape {gradient.shape} != tensor shape {root.shape}")
    if root.grad_fn is None:
        _accumulate_leaf(root, gradient)
        return
    grads: dict[int, np.ndarray] = {id(root): gradient}
    for node in reversed(_topological_order(root)):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        fn = node.grad_fn
        for x, g in zip(fn.inputs, fn.backward(grad)):
            if g is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            g = unbroadcast(np.asarray(g), x.shape)
            if x.grad_fn is None:
                _accumulate_leaf(x, g)
            elif id(x) in grads:
                grads[id(x)] = grads[id(x)] + g
            else:
                grads[id(x)] = g
    ### END SOLUTION


def _tensor_backward(self: Tensor, gradient: Any = None) -> None:
    """Compute d(self)/d(leaf) for every leaf with ``requires_grad`` into ``leaf.grad``."""
    run_backward(self, gradient)


# ----------------------------------------------------------------------------- switching on

_TENSOR_RULES: dict[str, type[Function]] = {
    "__add__": AddBackward,
    "__sub__": SubBackward,
    "__mul__": MulBackward,
    "__truediv__": DivBackward,
    "__pow__": PowBackward,
    "__neg__": NegBackward,
    "__matmul__": MatMulBackward,
    "sum": SumBackward,
    "mean": MeanBackward,
    "max": MaxBackward,
    "reshape": ReshapeBackward,
    "permute": PermuteBackward,
    "__getitem__": GetItemBackward,
    "exp": ExpBackward,
    "log": LogBackward,
    "sqrt": SqrtBackward,
}

# Named by module so this file never imports Modules 02–04 at load time: they may still
# be importing Module 01 when autograd first switches on (see ``enable_autograd``).
_MODULE_RULES: dict[str, dict[str, type[Function]]] = {
    "tinytorch.nn.activations": {
        "relu": ReLUBackward,
        "sigmoid": SigmoidBackward,
        "tanh": TanhBackward,
        "gelu": GELUBackward,
        "softmax": SoftmaxBackward,
        "log_softmax": LogSoftmaxBackward,
    },
    "tinytorch.nn.losses": {
        "mse_loss": MSELossBackward,
        "cross_entropy": CrossEntropyBackward,
        "binary_cross_entropy": BCELossBackward,
        "binary_cross_entropy_with_logits": BCEWithLogitsBackward,
    },
}

_originals: dict[tuple[object, str], Callable] = {}


def _tracked(forward: Callable[..., Tensor], rule: type[Function]) -> Callable[..., Tensor]:
    """Wrap a Module 01–04 forward so its result remembers ``rule`` as its grad_fn."""

    ### BEGIN SOLUTION
    def op(*args: Any, **kwargs: Any) -> Tensor:
        out = forward(*args, **kwargs)
        if _needs_graph(args):
            out.requires_grad = True
            out.grad_fn = rule(args, kwargs, out.data)
        return out

    ### END SOLUTION

    op.__name__, op.__qualname__, op.__doc__ = (
        forward.__name__,
        forward.__qualname__,
        forward.__doc__,
    )
    op.__wrapped__ = forward  # type: ignore[attr-defined]
    return op


def _patch(owner: object, name: str, replacement: Callable) -> None:
    _originals.setdefault((owner, name), getattr(owner, name))
    setattr(owner, name, replacement)


def enable_autograd() -> None:
    """Switch gradients on: every op records its node; ``backward()`` works.

    Idempotent (wraps the original ops, never a wrapper). Ops of Modules 02 and 04 are
    wrapped when their module has finished loading: ``tinytorch.nn`` calls this again at
    the end of its import.
    """
    ### BEGIN SOLUTION
    for name, rule in _TENSOR_RULES.items():
        original = _originals.get((Tensor, name), getattr(Tensor, name))
        _patch(Tensor, name, _tracked(original, rule))
    for module_name, rules in _MODULE_RULES.items():
        module = sys.modules.get(module_name)
        for name, rule in rules.items():
            original = _originals.get((module, name), getattr(module, name, None))
            if original is not None:
                _patch(module, name, _tracked(original, rule))
    _patch(Tensor, "backward", _tensor_backward)
    ### END SOLUTION


def disable_autograd() -> None:
    """Put every Module 01–04 op back as it was (dormant gradients), for comparison."""
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()


def is_autograd_enabled() -> bool:
    return (Tensor, "backward") in _originals


def activate_if_implemented() -> bool:
    """Switch autograd on if Module 05 is implemented; a stubbed Module 05 leaves it dormant.

    Called when ``tinytorch.core`` and ``tinytorch.nn`` are imported, so autograd is on
    from the first line of a training script — and a learner's tree switches it on by
    itself once their Module 05 works.
    """
    try:
        enable_autograd()
    except NotImplementedError:
        disable_autograd()
        return False
    return True


# ----------------------------------------------------------------------------- checking


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


# competency: graphs/debugs
def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare backward() with central differences (f(x+eps) - f(x-eps)) / 2eps.

    Inputs that require a gradient must be float64 (float32 rounding swamps eps). The
    output is contracted with a random vector v, so one backward checks the full
    vector-Jacobian product. Costs 2 forward passes per input element. Returns True or
    raises GradcheckError naming the input, the element and both values.
    """
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use dtype=np.float64")
        inputs[i].data = np.array(inputs[i].data)  # own, writable, contiguous
        inputs[i].grad = None
    out = fn(*inputs)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(v)

    def objective() -> float:
        with no_grad():
            return float((fn(*inputs).data * v).sum())

    for i in checked:
        x = inputs[i]
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad.data
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = objective()
            flat[k] = original - eps
            minus = objective()
            flat[k] = original
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            k = int(np.argmax(np.abs(analytic - numeric)))
            element = tuple(int(i) for i in np.unravel_index(k, x.shape))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}) element {element}: "
                f"analytic {analytic.reshape(-1)[k]:.6g} vs numerical {numeric.reshape(-1)[k]:.6g}"
            )
    return True


@dataclass
class GraphStats:
    """What a graph costs: how many op nodes, and the bytes they keep alive."""

    nodes: int
    leaves: int
    saved_bytes: int
    ops: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        top = ", ".join(f"{name}×{n}" for name, n in self.ops.most_common(6))
        return (
            f"{self.nodes} nodes, {self.leaves} leaves, "
            f"{self.saved_bytes / 1024:.1f} KiB saved for backward ({top})"
        )


# competency: graphs/measures, tensors/debugs
def graph_stats(root: Tensor, exclude: Sequence[np.ndarray] = ()) -> GraphStats:
    """Count the nodes below ``root`` and the distinct arrays they hold for backward.

    ``exclude`` leaves out arrays that live anyway (e.g. parameters), so what remains is
    the activation memory the graph alone keeps alive.
    """
    if root.grad_fn is None:
        return GraphStats(nodes=0, leaves=int(root.requires_grad), saved_bytes=0)
    nodes = _topological_order(root)
    leaves = {
        id(x)
        for n in nodes
        for x in n.grad_fn.inputs
        if isinstance(x, Tensor) and x.requires_grad and x.grad_fn is None
    }
    skip = {id(a) for a in exclude}
    arrays = {id(a): a.nbytes for n in nodes for a in n.grad_fn.saved_arrays() if id(a) not in skip}
    ops = Counter(type(n.grad_fn).__name__ for n in nodes)
    return GraphStats(
        nodes=len(nodes), leaves=len(leaves), saved_bytes=sum(arrays.values()), ops=ops
    )


# ----------------------------------------------------------------------------- graph view


def optional_import(module: str, feature: str, install: str) -> Any:
    """Import ``module`` for ``feature``, or raise an ImportError that says how to get it.

    Pictures are optional: the tiers depend on NumPy and tqdm only, so a package that
    draws (Graphviz, matplotlib) is imported when a picture is asked for, never before.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{feature} needs the {module} package, which tinytorch does not install: {install}"
        ) from error


def _node_label(x: Tensor | np.ndarray, title: str) -> str:
    """``title``, then ``shape dtype``: the first two lines of every node of the picture."""
    shape = "scalar" if x.shape == () else str(tuple(x.shape))
    return f"{title}\\n{shape} {np.dtype(x.dtype).name}"


def _bytes(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 2**20 else f"{n / 2**20:.1f} MiB"


# competency: graphs/debugs
def graph_dot(root: Tensor, names: Mapping[str, Tensor] | None = None) -> str:
    """The graph below ``root`` as Graphviz DOT text: the forward pass you recorded, drawn.

    One box per op (its name, the output's shape and dtype, and the bytes it holds for
    backward: the arrays ``graph_stats`` counts, so an array two ops share appears under
    both), one oval per leaf: parameters, named from ``names`` (e.g.
    ``dict(model.named_parameters())``), and the data the graph holds. Edges run from
    each input to the op that used it; ``root`` has a double border. Pure Python: paste
    the text into any Graphviz viewer, or call ``draw_graph`` to get an SVG or PNG.
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    ids: dict[int, str] = {}  # n0, n1, ...: stable names, in the order nodes are drawn

    def key(x: object) -> str:
        return ids.setdefault(id(x), f"n{len(ids)}")

    lines = [
        "digraph graph_of_loss {",
        '  rankdir=LR; node [fontname="Helvetica", fontsize=10]; edge [color="#555555"];',
    ]
    if root.grad_fn is None:  # nothing was recorded: the picture is one leaf
        lines += [f'  {key(root)} [shape=ellipse, label="{_node_label(root, "leaf")}"];', "}"]
        return "\n".join(lines)
    drawn: set[int] = set()
    for node in _topological_order(root):
        fn = node.grad_fn
        held = sum({id(a): a.nbytes for a in fn.saved_arrays()}.values())
        title = type(fn).__name__
        label = f"{_node_label(node, title)}\\nholds {_bytes(held)}"
        border = ", peripheries=2" if node is root else ""
        lines.append(
            f'  {key(node)} [shape=box, style="rounded,filled", fillcolor="#DCEBF7"{border}, '
            f'label="{label}"];'
        )
        for x in fn.inputs:
            if not isinstance(x, (Tensor, np.ndarray)):
                continue  # a Python number: part of the op, not a node
            if id(x) not in drawn and not (isinstance(x, Tensor) and x.grad_fn is not None):
                drawn.add(id(x))
                if isinstance(x, Tensor) and x.requires_grad:
                    leaf = label_of.get(id(x), "parameter")
                    colour = "#FDE9C7"
                else:
                    leaf, colour = "data", "#EEEEEE"
                label = f"{_node_label(x, leaf)}\\n{_bytes(np.asarray(_data(x)).nbytes)}"
                lines.append(
                    f'  {key(x)} [shape=ellipse, style=filled, fillcolor="{colour}", '
                    f'label="{label}"];'
                )
            lines.append(f"  {key(x)} -> {key(node)};")
    lines.append("}")
    return "\n".join(lines)


def draw_graph(
    root: Tensor, path: str | os.PathLike[str], names: Mapping[str, Tensor] | None = None
) -> Path:
    """Render ``graph_dot(root, names)`` to ``path`` (.svg, .png or .pdf); returns the path.

    Needs the ``graphviz`` Python package and Graphviz's ``dot`` program (the system's
    package manager: ``apt install graphviz``, ``brew install graphviz``); without them
    the error says so, and ``graph_dot`` still gives the same picture as text.
    """
    path = Path(path)
    graphviz = optional_import(
        "graphviz", "draw_graph", "pip install graphviz, and install Graphviz's dot program"
    )
    try:
        image = graphviz.Source(graph_dot(root, names)).pipe(format=path.suffix.lstrip("."))
    except graphviz.ExecutableNotFound as error:
        raise FileNotFoundError(
            "draw_graph needs Graphviz's dot program, which is not on PATH: install Graphviz "
            "(apt install graphviz, brew install graphviz, or conda install graphviz); "
            "graph_dot(root) gives the same graph as DOT text without it"
        ) from error
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(image)
    os.replace(temporary, path)  # whole or not at all
    return path
