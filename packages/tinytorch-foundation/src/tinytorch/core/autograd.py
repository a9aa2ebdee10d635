"""Module 05 · Autograd — reverse-mode differentiation over a dynamic graph.

Connection map
    Prerequisites : 01 Tensor · 02 Activations · 03 Layers · 04 Losses
    This module   : computational graphs, the chain rule, backpropagation — one Function
                    abstraction, gradients un-broadcast in one place, an iterative
                    topological sort; with ``graph_tools``: gradcheck, graph statistics
                    and a picture of the graph
    Unlocks       : 06 Optimizers · 07 Training · every later module that learns

How it switches on (progressive disclosure): every op of Modules 01–04 computes its
value and then calls Module 01's hook ``record(out, "MulBackward", self, other)``, naming
the Function below that knows its derivative. Until this module is active the hook
records nothing. ``enable_autograd()`` installs this module's engine behind the hook and
behind ``Tensor.backward``: from then on a result whose inputs require a gradient
remembers its node. No method is replaced, so code written in Modules 01–04 — and every
name imported from it — keeps working unchanged; it simply starts building graphs.
Ops written after this module (convolution, attention, ...) call ``SomeFunction.apply``.

Systems insight: the graph keeps every intermediate activation alive until backward
runs. ``graph_stats(loss)`` counts the nodes and the bytes they hold — usually far more
than the parameters themselves — which is what activation checkpointing (Module 07) trades
for recomputation.

Module 05 is two files: this one, the mechanism (one file on purpose, about 630 lines:
every derivative of Modules 01–04 sits beside the engine that runs it, so it reads top to
bottom), and ``graph_tools``, which checks a graph (``gradcheck``), measures it
(``graph_stats``) and draws it (``graph_dot``).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from tinytorch.core import tensor as _tensor_module
from tinytorch.core.tensor import DORMANT, DormantGradients, Tensor, _data, _plain_index
from tinytorch.nn.activations import GELU_C

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

    ``inputs`` are the operands, in order (Tensors, arrays or numbers); ``fields`` are
    the op's settings, stored as attributes under their own names (``self.axis``,
    ``self.stride``), so a rule never depends on the order of an op's parameters.
    ``backward(grad)`` receives dLoss/dOut (shaped like ``out``) and returns one gradient
    per input (None where no gradient is needed). A gradient may keep a broadcast shape:
    the engine un-broadcasts it, so rules never do.

    Two ways to make a node, one class: ops of Modules 01–04 compute their value
    themselves and name their rule in Module 01's ``record`` hook; ops written after this
    module define ``forward`` on arrays here too and are called as ``Op.apply(...)``.
    """

    released = False  # set by a backward() without retain_graph: this node is spent

    def __init__(self, inputs: tuple, fields: dict) -> None:
        taken = [name for name in fields if hasattr(self, name)]
        if taken:
            raise TypeError(f"{type(self).__name__}: field names {taken} are already attributes")
        self.inputs = inputs
        self.out: np.ndarray | None = None
        vars(self).update(fields)

    @abstractmethod
    def backward(self, grad: np.ndarray) -> Sequence[np.ndarray | None]:
        """Gradients of the loss with respect to each input."""

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input, whether it wants a gradient (skip the work when it does not)."""
        return tuple(isinstance(x, Tensor) and x.requires_grad for x in self.inputs)

    def array(self, position: int) -> np.ndarray:
        """The array behind input ``position`` (Tensor data or a raw number/array)."""
        return np.asarray(_data(self.inputs[position]))

    @classmethod
    def apply(cls, *inputs: Any, **fields: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and record the node if gradients are needed."""
        fn = cls(inputs, fields)
        out = Tensor._wrap(fn.forward(*(_data(x) for x in inputs), **fields))
        return _attach(fn, out)

    def forward(self, *arrays: Any, **fields: Any) -> np.ndarray:
        """Ops called through ``apply`` define this; Module 01–04 ops compute their own."""
        raise TypeError(f"{type(self).__name__} has no array forward; call the op that records it")

    def saved_arrays(self) -> Iterator[np.ndarray]:
        """Every array this node keeps alive for backward (inputs, output, fields, extras)."""
        for x in self.inputs:
            if isinstance(x, (Tensor, np.ndarray)):
                yield np.asarray(_data(x))
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                yield value

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _recording(inputs: tuple) -> bool:
    """Record a node only when grad mode is on and some input requires a gradient.

    Checked before a node is built, so inference (``no_grad``) pays nothing for autograd.
    """
    if _GradMode.enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                return True
    return False


def _attach(fn: Function, out: Tensor) -> Tensor:
    """Make ``fn`` the node that produced ``out``, if its inputs are being recorded."""
    fn.out = out.data
    if _recording(fn.inputs):
        out.requires_grad = True
        out.grad_fn = fn
    return out


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
        if self.needs_input_grad[0]:
            grad_a = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                grad_a = grad_a.reshape((*grad_a.shape[:-2], a.shape[0]))
        if self.needs_input_grad[1]:
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
    if not fn.keepdims and x.ndim:
        grad = np.expand_dims(grad, _axes(fn.axis, x.ndim))
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
        share = winners / winners.sum(axis=_axes(self.axis, x.ndim), keepdims=True)
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
        return (grad.transpose(np.argsort([a % grad.ndim for a in self.axes])),)
        ### END SOLUTION


class GetItemBackward(Function):
    """Scatter the gradient back into a zero array (adding where indices repeat)."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        full = np.zeros_like(x)
        np.add.at(full, _plain_index(self.index), grad)
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


class ToCopyBackward(Function):
    """A cast between float dtypes (``x.double()``): the gradient, in the input's dtype."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad.astype(self.array(0).dtype),)
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
    """With t = tanh(c·(x + a·x³)), c = sqrt(2/pi), a = 0.044715:
        dgelu/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²).
    Written as that one line it allocates about fifteen full-size temporaries; here three
    buffers are filled in place (on a GPT's (B·T, 4d) activations, about 3x faster).
    """

    def backward(self, grad):
        ### BEGIN SOLUTION
        x = np.atleast_1d(self.array(0))  # in place needs arrays: 0-d arithmetic gives scalars
        x2 = x * x
        t = 0.044715 * x2
        t += 1.0
        t *= x
        t *= GELU_C
        np.tanh(t, out=t)  # t = tanh(c·x·(1 + a·x²))
        x2 *= 3 * 0.044715
        x2 += 1.0
        x2 *= x
        x2 *= 0.5 * GELU_C  # 0.5·c·x·(1 + 3a·x²)
        local = t * t
        np.subtract(1.0, local, out=local)
        local *= x2
        t += 1.0
        t *= 0.5
        local += t
        local *= grad
        return (local,)
        ### END SOLUTION


class SoftmaxBackward(Function):
    """ds_i = s_i (g_i - sum_j g_j s_j): the Jacobian-vector product, never the Jacobian."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        s = self.out
        return (s * (grad - (grad * s).sum(axis=self.dim, keepdims=True)),)
        ### END SOLUTION


class LogSoftmaxBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        return (grad - np.exp(self.out) * grad.sum(axis=self.dim, keepdims=True),)
        ### END SOLUTION


# ----------------------------------------------------------------------------- Module 04 rules


# A loss records (prediction, target) as its inputs: the target is data the node holds,
# and its gradient is None (no model learns its labels).


def _loss_scale(fn: Function, grad: np.ndarray, count: int) -> np.ndarray:
    """dLoss/d(per-element loss) for reduction 'mean' (1/count), 'sum' (1) or 'none'."""
    return grad / count if fn.reduction == "mean" else grad


class MSELossBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        p = self.array(0)
        diff = p - self.array(1).astype(p.dtype)
        return 2.0 * diff * _loss_scale(self, grad, p.size), None
        ### END SOLUTION


class CrossEntropyBackward(Function):
    """d/dlogits = softmax(logits) - one_hot(target), per row (in one buffer: a GPT's
    logits are (B·T, vocab), the largest array of its step)."""

    def backward(self, grad):
        ### BEGIN SOLUTION
        logits, targets = self.array(0), self.array(1)
        probs = logits - logits.max(axis=1, keepdims=True)  # the one (N, C) buffer
        np.exp(probs, out=probs)
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(targets)), targets] -= 1.0
        scale = _loss_scale(self, grad, len(targets))
        probs *= scale[:, None] if np.ndim(scale) else scale
        return probs, None
        ### END SOLUTION


class BCELossBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        p = self.array(0)
        y = self.array(1).astype(p.dtype)
        local = (p - y) / np.maximum(p * (1.0 - p), 1e-12)
        return local * _loss_scale(self, grad, p.size), None
        ### END SOLUTION


class BCEWithLogitsBackward(Function):
    def backward(self, grad):
        ### BEGIN SOLUTION
        x = self.array(0)
        y = self.array(1).astype(x.dtype)
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1.0, e) / (1.0 + e)
        return (sig - y) * _loss_scale(self, grad, x.size), None
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
def run_backward(root: Tensor, gradient: Any = None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``: fill ``.grad`` of every leaf that requires it.

    Walks the graph once in reverse topological order; each Function turns the gradient
    of its output into gradients of its inputs (the chain rule), which are un-broadcast
    and summed where a tensor feeds several ops. Then the graph is spent, as in PyTorch:
    a second walk through any of its nodes raises, unless this one kept it with
    ``retain_graph=True`` (a second walk would add the same gradients again).
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
    order = _topological_order(root)
    _refuse_released(order)
    grads: dict[int, np.ndarray] = {id(root): gradient}
    for node in reversed(order):
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
    if not retain_graph:
        for node in order:
            node.grad_fn.released = True
    ### END SOLUTION


def _refuse_released(order: list[Tensor]) -> None:
    """Raise if an earlier ``backward()`` already walked (and spent) one of these nodes."""
    for node in order:
        if node.grad_fn.released:
            raise RuntimeError(
                f"backward: trying to go backward through the graph a second time (through "
                f"{type(node.grad_fn).__name__}, output shape {node.shape}); an earlier "
                "backward() spent it. Pass retain_graph=True to that earlier call if you "
                "need to go backward twice, or recompute the forward pass"
            )


# ----------------------------------------------------------------------------- switching on


def _rule(name: str) -> type[Function]:
    """The gradient rule a Module 01–04 op names in its ``record`` call: a class in this file."""
    rule = globals().get(name)
    if not (isinstance(rule, type) and issubclass(rule, Function)):
        raise LookupError(
            f"autograd: an op recorded the gradient rule {name!r}, but tinytorch.core.autograd "
            "defines no Function of that name"
        )
    return rule


class Engine:
    """What Module 01's hooks call once autograd is active (see ``enable_autograd``)."""

    def record(self, out: Tensor, rule: str, inputs: tuple, fields: dict) -> Tensor:
        """Make a node of class ``rule`` the producer of ``out``, if the inputs are recorded."""
        ### BEGIN SOLUTION
        if not _recording(inputs):
            return out
        return _attach(_rule(rule)(inputs, fields), out)
        ### END SOLUTION

    def backward(self, tensor: Tensor, gradient: Any, retain_graph: bool = False) -> None:
        run_backward(tensor, gradient, retain_graph)


ENGINE = Engine()
SWITCHED_OFF = DormantGradients(
    "autograd was switched off by disable_autograd(); enable_autograd() switches it back on"
)


def enable_autograd() -> None:
    """Switch gradients on: every op records its node; ``backward()`` works.

    Installs this module's engine behind Module 01's ``record`` hook and
    ``Tensor.backward``. Idempotent, and it replaces no method: functions imported from
    Modules 01–04 before or after this call behave the same.
    """
    ### BEGIN SOLUTION
    _tensor_module.set_gradient_engine(ENGINE)
    ### END SOLUTION


def disable_autograd() -> None:
    """Back to dormant gradients (ops record nothing), e.g. to compare both modes."""
    _tensor_module.set_gradient_engine(SWITCHED_OFF)


def is_autograd_active() -> bool:
    """Whether Module 05 is switched on (ops record nodes when inputs require a gradient).

    Not to be confused with :func:`is_grad_enabled`, the ``no_grad`` mode inside it.
    """
    return _tensor_module.gradient_engine() is ENGINE


def is_autograd_enabled() -> bool:
    """Deprecated name of :func:`is_autograd_active`."""
    warnings.warn(
        "is_autograd_enabled() is deprecated; use is_autograd_active() (is_grad_enabled() is "
        "the no_grad mode)",
        DeprecationWarning,
        stacklevel=2,
    )
    return is_autograd_active()


def activate_if_implemented() -> bool:
    """Switch autograd on if Module 05 is implemented; a stubbed Module 05 leaves it dormant.

    Called when ``tinytorch.core`` is imported, so autograd is on from the first line of a
    training script — and a learner's tree switches it on by itself once their Module 05
    records nodes. The probe records one product: a stub anywhere on that path keeps
    gradients dormant, with ``backward()`` saying that Module 05 is still to write.
    """
    try:
        enable_autograd()
        probe = Tensor._wrap(np.ones(1))
        probe.requires_grad = True
        _tensor_module.record(Tensor._wrap(np.ones(1)), "MulBackward", probe, 1.0)
    except NotImplementedError:
        _tensor_module.set_gradient_engine(DORMANT)
        return False
    return True
