"""tinytorch.testing — the op table every test shares, and the checks that read it.

Every public differentiable op is a row here (:class:`OpCase`), listed once: how to call
it, the NumPy forward it must match, the domain its inputs come from, and the gradient
rule its result records. In the spirit of MiniTorch's ``MathTest``, one table drives many
tests: Modules 01–04 check forward values against it (dormant and active), Module 05
gradchecks every row, and one test walks every row to find its gradient rule the way a
reader does — by its name, written in the op's own code. Higher tiers add their rows
under the entry-point group ``tinytorch.testing`` (:func:`op_cases` collects them all),
so a property-based suite can cover every installed op from one list.

The rows of Modules 01–04 and 07 are below; ``tinytorch.vision.op_cases``,
``tinytorch.text.op_cases`` and ``tinytorch.perf.op_cases`` hold the later ones. About
600 lines, most of them the table itself: one row per op and input shape is the point.
"""

from __future__ import annotations

import inspect
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from tinytorch.core import autograd
from tinytorch.core.autograd import Function
from tinytorch.core.graph_tools import gradcheck
from tinytorch.core.tensor import Tensor, flatten
from tinytorch.nn import activations, losses
from tinytorch.nn.activations import GELU_C
from tinytorch.nn.layers import Dropout, Linear, Module, Parameter, ReLU, Sequential
from tinytorch.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from tinytorch.training.trainer import checkpoint

ENTRY_POINT_GROUP = "tinytorch.testing"

# ----------------------------------------------------------------------------- input domains


@dataclass(frozen=True)
class Domain:
    """Where an op's input values come from: uniform in [low, high].

    ``margin`` > 0 keeps |x| >= margin (off a kink at 0, such as ReLU's, so a finite
    difference never straddles it; needs low == -high); ``distinct`` makes every value
    different (no ties for max). A property-based test reads the same fields.
    """

    low: float = -2.0
    high: float = 2.0
    margin: float = 0.0
    distinct: bool = False

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.distinct:
            n = math.prod(shape)
            steps = rng.permutation(n).reshape(shape) / max(n - 1, 1)
            return self.low + steps * (self.high - self.low)
        if self.margin:
            sign = rng.choice([-1.0, 1.0], shape)
            return sign * rng.uniform(self.margin, self.high, shape)
        return rng.uniform(self.low, self.high, shape)


REAL = Domain()
POSITIVE = Domain(0.5, 2.0)  # logs, square roots, divisors, powers' bases
AWAY_FROM_ZERO = Domain(-3.0, 3.0, margin=0.1)
DISTINCT = Domain(-3.0, 3.0, distinct=True)
PROBABILITY = Domain(0.1, 0.9)


@dataclass(frozen=True)
class Arg:
    """One differentiable input: its shape and the domain its values come from."""

    shape: tuple[int, ...]
    domain: Domain = REAL


# ----------------------------------------------------------------------------- the row


@dataclass(frozen=True)
class OpCase:
    """One public differentiable op, called one way.

    ``op`` is the op a reader opens: its code names ``rule``, the Function that knows the
    op's derivative (``record(out, "MulBackward", ...)`` in Modules 01–04, ``Rule.apply``
    after Module 05). ``call(*tensors, **constants)`` runs it (default: ``op`` itself) on
    one Tensor per :class:`Arg`; ``reference(*arrays, **constants)`` is the NumPy forward
    it must match. ``constants(rng)`` draws what is not differentiated (targets, indices,
    an axis) — the same values go to ``call`` and ``reference``.
    """

    name: str
    module: int
    op: Callable[..., Any]
    rule: str
    args: tuple[Arg, ...]
    reference: Callable[..., Any]
    call: Callable[..., Any] | None = None
    constants: Callable[[np.random.Generator], dict[str, Any]] = field(default=lambda rng: {})

    def sample(self, rng: np.random.Generator) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
        """Input arrays drawn from the domains, and the constants."""
        return tuple(arg.domain.sample(rng, arg.shape) for arg in self.args), self.constants(rng)

    def __call__(self, *tensors: Tensor, **constants: Any) -> Any:
        return (self.call or self.op)(*tensors, **constants)

    def __str__(self) -> str:
        return self.name


def check_forward(
    case: OpCase, rng: np.random.Generator, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Run ``case`` on Tensors of ``dtype`` and compare with its NumPy reference (float64).

    Returns the output, so a caller can check more (its dtype, its ``grad_fn``).
    """
    arrays, constants = case.sample(rng)
    tensors = [Tensor(a, requires_grad=requires_grad, dtype=dtype) for a in arrays]
    out = case(*tensors, **constants)
    check_values(str(case), out, case.reference(*arrays, **constants), dtype)
    return out


def check_values(name: str, out: Any, expected: Any, dtype: Any = np.float64) -> None:
    """``out`` is a Tensor of ``expected``'s shape holding its values (a float64 reference).

    The tolerance follows the dtype the op ran in: 1e-5 for float32, 1e-10 for float64
    (integer results must be exact). NaN matches NaN.
    """
    tolerance = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}.get(np.dtype(dtype), 0)
    assert isinstance(out, Tensor), f"{name}: returned {type(out).__name__}, not a Tensor"
    assert out.shape == np.shape(expected), f"{name}: shape {out.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=tolerance, err_msg=name)


def check_gradient(case: OpCase, rng: np.random.Generator) -> None:
    """gradcheck ``case`` with respect to every input, as float64 Tensors (Module 05)."""
    arrays, constants = case.sample(rng)
    check_gradients(lambda *tensors: case(*tensors, **constants), *arrays)


def check_gradients(fn: Callable[..., Tensor], *arrays: np.ndarray) -> None:
    """gradcheck ``fn`` with respect to every array, as float64 Tensors requiring grad."""
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    assert gradcheck(fn, inputs)


def check_op(case: OpCase, rng: np.random.Generator) -> None:
    """The whole contract of one row, as Module 05 sees it.

    The forward value matches the reference; the result records the Function the op's
    own code names (found by that name, next to the op or in Module 05); and that
    Function's backward agrees with central differences.
    """
    out = check_forward(case, rng, requires_grad=True)
    rule = rule_of(case)
    assert names_its_rule(case), f"{case}: {case.op.__qualname__} does not name {case.rule}"
    assert type(out.grad_fn) is rule, f"{case}: recorded {out.grad_fn!r}, expected {rule}"
    check_gradient(case, rng)


def rule_of(case: OpCase) -> type[Function]:
    """The Function class ``case.rule`` names: in the op's own module, else in Module 05.

    Exactly where a reader finds it: a Module 01–04 op names a class of
    ``tinytorch/core/autograd.py``; a later op names a Function defined next to it.
    """
    for namespace in (vars(inspect.getmodule(case.op)), vars(autograd)):
        rule = namespace.get(case.rule)
        if isinstance(rule, type) and issubclass(rule, Function):
            return rule
    raise LookupError(f"{case}: no Function named {case.rule!r} near {case.op.__qualname__}")


def names_its_rule(case: OpCase) -> bool:
    """Whether the op's own source code names its gradient rule (one grep away)."""
    source = inspect.getsource(inspect.unwrap(case.op))
    return re.search(rf"\b{re.escape(case.rule)}\b", source) is not None


# ----------------------------------------------------------------------------- Module 01

BINARY = {
    "add": (operator.add, np.add, "AddBackward", Tensor.__add__),
    "sub": (operator.sub, np.subtract, "SubBackward", Tensor.__sub__),
    "mul": (operator.mul, np.multiply, "MulBackward", Tensor.__mul__),
    "truediv": (operator.truediv, np.divide, "DivBackward", Tensor.__truediv__),
    "pow": (operator.pow, np.power, "PowBackward", Tensor.__pow__),
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((2, 3), (3,)),  # a row vector over a matrix
    ((3, 1), (4,)),  # column against row: both stretch to (3, 4)
    ((4,), (3, 1)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),  # the smaller operand on the left
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),  # a 0-d tensor
]

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),  # 2-D
    ((2, 3, 4), (2, 4, 5)),  # batched
    ((2, 3, 4), (4, 5)),  # batch broadcast on the left
    ((3, 4), (2, 4, 5)),  # batch broadcast on the right
    ((1, 3, 4), (2, 4, 5)),  # size-1 batch stretched
    ((2, 1, 3, 4), (3, 4, 2)),  # batch dims (2, 1) and (3,) -> (2, 3)
    ((4,), (4, 5)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4,)),  # dot product
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
]

AXES = [None, 0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2), (-1, 0)]

# (name, how a reflected or scalar form is written, the rule it records, the op naming it)
SCALAR_FORMS = [
    ("x+2", lambda x: x + 2, lambda x: x + 2, "AddBackward", Tensor.__add__),
    ("2+x", lambda x: 2 + x, lambda x: 2 + x, "AddBackward", Tensor.__add__),
    ("x-2", lambda x: x - 2, lambda x: x - 2, "SubBackward", Tensor.__sub__),
    ("2-x", lambda x: 2 - x, lambda x: 2 - x, "SubBackward", Tensor.__sub__),
    ("x*3", lambda x: x * 3, lambda x: x * 3, "MulBackward", Tensor.__mul__),
    ("3*x", lambda x: 3 * x, lambda x: 3 * x, "MulBackward", Tensor.__mul__),
    ("x/4", lambda x: x / 4, lambda x: x / 4, "DivBackward", Tensor.__truediv__),
    ("4/x", lambda x: 4 / x, lambda x: 4 / x, "DivBackward", Tensor.__truediv__),
    ("2**x", lambda x: 2**x, lambda x: 2.0**x, "PowBackward", Tensor.__pow__),
    ("x**2", lambda x: x**2, lambda x: x**2, "PowBackward", Tensor.__pow__),
    ("x**-1", lambda x: x**-1, lambda x: x**-1.0, "PowBackward", Tensor.__pow__),
    ("x**0.5", lambda x: x**0.5, lambda x: x**0.5, "PowBackward", Tensor.__pow__),
    ("x**1.5", lambda x: x**1.5, lambda x: x**1.5, "PowBackward", Tensor.__pow__),
    ("a@x", lambda x: _A @ x, lambda x: _A @ x, "MatMulBackward", Tensor.__matmul__),
    ("a-x", lambda x: _ROW - x, lambda x: _ROW - x, "SubBackward", Tensor.__sub__),
    ("a/x", lambda x: _ROW / x, lambda x: _ROW / x, "DivBackward", Tensor.__truediv__),
]
# NumPy arrays on the left of a (3, 4) Tensor; float32 so that they never widen its dtype.
_A = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3)  # (4, 3) @ x (3, 4)
_ROW = np.linspace(0.5, 2.0, 4, dtype=np.float32)

SHAPE_FORMS = [
    ("reshape", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), "ReshapeBackward"),
    ("reshape -1", lambda x: x.reshape(-1), lambda x: x.reshape(-1), "ReshapeBackward"),
    ("reshape tuple", lambda x: x.reshape((3, -1)), lambda x: x.reshape(3, -1), "ReshapeBackward"),
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), "PermuteBackward"),
    (
        "permute tuple",
        lambda x: x.permute((1, 2, 0)),
        lambda x: x.transpose(1, 2, 0),
        "PermuteBackward",
    ),
    (
        "permute negative",
        lambda x: x.permute(-1, 0, 1),
        lambda x: x.transpose(2, 0, 1),
        "PermuteBackward",
    ),
    ("transpose", lambda x: x.transpose(), lambda x: x.swapaxes(-1, -2), "PermuteBackward"),
    ("transpose 0 2", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), "PermuteBackward"),
    ("T", lambda x: x.T, lambda x: x.T, "PermuteBackward"),
    # views and flatten are reshapes: Tensor.reshape records them
    ("view", lambda x: x.view(4, 6), lambda x: x.reshape(4, 6), "ReshapeBackward"),
    ("view tuple", lambda x: x.view((-1, 4)), lambda x: x.reshape(-1, 4), "ReshapeBackward"),
    ("view_as", lambda x: x.view_as(x.T), lambda x: x.reshape(4, 3, 2), "ReshapeBackward"),
    ("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), "ReshapeBackward"),
    ("flatten 1", lambda x: x.flatten(1), lambda x: x.reshape(2, 12), "ReshapeBackward"),
    ("flatten(x, 0, 1)", lambda x: flatten(x, 0, 1), lambda x: x.reshape(6, 4), "ReshapeBackward"),
    ("flatten -2", lambda x: x.flatten(-2, -1), lambda x: x.reshape(2, 12), "ReshapeBackward"),
]
_SHAPE_OP = {"ReshapeBackward": Tensor.reshape, "PermuteBackward": Tensor.permute}

INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "step slice": slice(None, None, 2),
    "int and slice": (0, slice(1, None)),
    "ellipsis": (Ellipsis, 0),
    "newaxis": (None, 0),
    "fancy with repeats": np.array([0, 2, 0, 0]),
    "list": [2, 1],
    "coordinate pairs": (np.array([0, 1, 1]), np.array([3, 0, 3])),
    "row mask": np.array([True, False, True]),
    "element mask": np.arange(12).reshape(3, 4) % 3 == 0,
    "int Tensor": np.array([2, 0, 2]),  # passed as a Tensor
    "bool Tensor": np.array([True, False, True]),  # passed as a Tensor
}


def _index_call(name: str, index: Any) -> Callable[[Tensor], Tensor]:
    if name.endswith("Tensor"):
        return lambda x: x[Tensor(index, dtype=index.dtype)]
    return lambda x: x[index]


def _tensor_cases() -> list[OpCase]:
    cases = []
    for name, (fn, reference, rule, op) in BINARY.items():
        for shape_a, shape_b in BROADCAST_SHAPES:
            # Positive operands keep pow's base valid and division away from zero.
            args = (Arg(shape_a, POSITIVE), Arg(shape_b, POSITIVE))
            cases.append(OpCase(f"{name} {shape_a} {shape_b}", 1, op, rule, args, reference, fn))
    cases.append(
        OpCase(
            "pow tensor exponent",
            1,
            Tensor.__pow__,
            "PowBackward",
            (Arg((2, 3), POSITIVE), Arg((2, 3), Domain(-1.0, 2.0))),
            np.power,
            operator.pow,
        )
    )
    cases.append(
        OpCase(
            "x**3 of a negative base",
            1,
            Tensor.__pow__,
            "PowBackward",
            (Arg((2, 3), Domain(-2.0, -0.5)),),
            lambda x: x**3,
            lambda x: x**3,
        )
    )
    for name, call, reference, rule, op in SCALAR_FORMS:
        shape = (3, 4)
        cases.append(OpCase(name, 1, op, rule, (Arg(shape, POSITIVE),), reference, call))
    cases.append(
        OpCase("neg", 1, Tensor.__neg__, "NegBackward", (Arg((2, 3)),), np.negative, operator.neg)
    )
    for shape_a, shape_b in MATMUL_SHAPES:
        args = (Arg(shape_a), Arg(shape_b))
        cases.append(
            OpCase(
                f"matmul {shape_a} {shape_b}",
                1,
                Tensor.__matmul__,
                "MatMulBackward",
                args,
                np.matmul,
                operator.matmul,
            )
        )
    for name, rule, reference in (
        ("sum", "SumBackward", np.sum),
        ("mean", "MeanBackward", np.mean),
        ("max", "MaxBackward", np.max),
    ):
        op = getattr(Tensor, name)
        for axis in AXES:
            for keepdims in (False, True):
                cases.append(
                    OpCase(
                        f"{name} axis={axis} keepdims={keepdims}",
                        1,
                        op,
                        rule,
                        (Arg((2, 3, 4), DISTINCT),),  # distinct: the max has no ties
                        lambda x, axis, keepdims, f=reference: f(x, axis=axis, keepdims=keepdims),
                        lambda x, axis, keepdims, op=op: op(x, axis=axis, keepdims=keepdims),
                        lambda rng, axis=axis, keepdims=keepdims: {
                            "axis": axis,
                            "keepdims": keepdims,
                        },
                    )
                )
    for name, rule, call, reference in (
        ("sum", "SumBackward", lambda x: x.sum(1, True), lambda x: x.sum(1, keepdims=True)),
        ("max", "MaxBackward", lambda x: x.max(0, True), lambda x: x.max(0, keepdims=True)),
    ):
        args = (Arg((3, 4), DISTINCT),)
        op = getattr(Tensor, name)
        cases.append(
            OpCase(f"{name} with positional arguments", 1, op, rule, args, reference, call)
        )
    for name, rule, call, reference in (  # PyTorch's keywords for NumPy's axis and keepdims
        (
            "sum",
            "SumBackward",
            lambda x: x.sum(dim=1, keepdim=True),
            lambda x: x.sum(1, keepdims=True),
        ),
        ("mean", "MeanBackward", lambda x: x.mean(dim=[0, 1]), lambda x: x.mean((0, 1))),
        (
            "max",
            "MaxBackward",
            lambda x: x.max(dim=-1, keepdim=True),
            lambda x: x.max(-1, keepdims=True),
        ),
    ):
        args = (Arg((3, 4), DISTINCT),)
        op = getattr(Tensor, name)
        cases.append(OpCase(f"{name} with dim and keepdim", 1, op, rule, args, reference, call))
    for name, call, reference, rule in SHAPE_FORMS:
        cases.append(OpCase(name, 1, _SHAPE_OP[rule], rule, (Arg((2, 3, 4)),), reference, call))
    cases.append(
        OpCase("t", 1, Tensor.permute, "PermuteBackward", (Arg((3, 4)),), lambda x: x.T, Tensor.t)
    )
    cases.append(
        OpCase(
            "to with copy=True",  # a cast that keeps the dtype (gradcheck needs float64)
            1,
            Tensor.to,
            "ToCopyBackward",
            (Arg((2, 3)),),
            np.copy,
            lambda x: x.to(x.dtype, copy=True),
        )
    )
    for name, index in INDICES.items():
        cases.append(
            OpCase(
                f"getitem {name}",
                1,
                Tensor.__getitem__,
                "GetItemBackward",
                (Arg((3, 4)),),
                lambda x, index=index: x[index],
                _index_call(name, index),
            )
        )
    for name, reference, domain in (("exp", np.exp, REAL), ("log", np.log, POSITIVE)):
        op = getattr(Tensor, name)
        cases.append(
            OpCase(name, 1, op, f"{name.capitalize()}Backward", (Arg((2, 3), domain),), reference)
        )
    cases.append(OpCase("sqrt", 1, Tensor.sqrt, "SqrtBackward", (Arg((2, 3), POSITIVE),), np.sqrt))
    return cases


# ----------------------------------------------------------------------------- Module 02


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


ACTIVATION_REFERENCES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**3))),
}
SOFTMAX_DIMS = [((3, 4), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((5,), 0)]


def _activation_cases() -> list[OpCase]:
    cases = []
    for name, reference in ACTIVATION_REFERENCES.items():
        op = getattr(activations, name)
        rule = {"relu": "ReLUBackward", "gelu": "GELUBackward"}.get(
            name, f"{name.capitalize()}Backward"
        )
        cases.append(OpCase(name, 2, op, rule, (Arg((3, 4), AWAY_FROM_ZERO),), reference))
    for name, rule, reference in (
        ("softmax", "SoftmaxBackward", np_softmax),
        ("log_softmax", "LogSoftmaxBackward", np_log_softmax),
    ):
        op = getattr(activations, name)
        for shape, dim in SOFTMAX_DIMS:
            cases.append(
                OpCase(
                    f"{name} {shape} dim={dim}",
                    2,
                    op,
                    rule,
                    (Arg(shape),),
                    lambda x, dim, f=reference: f(x, axis=dim),
                    lambda x, dim, op=op: op(x, dim=dim),
                    lambda rng, dim=dim: {"dim": dim},
                )
            )
        cases.append(
            OpCase(
                f"{name} with a positional dim",
                2,
                op,
                rule,
                (Arg((3, 4)),),
                lambda x, f=reference: f(x, axis=0),
                lambda x, op=op: op(x, 0),
            )
        )
    return cases


# ----------------------------------------------------------------------------- Module 04

REDUCTIONS = ("mean", "sum", "none")


def _reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum}.get(reduction, np.asarray)(values)


def np_mse_loss(p: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce((p - target) ** 2, reduction)


def np_cross_entropy(logits: np.ndarray, targets: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(-np_log_softmax(logits)[np.arange(len(targets)), targets], reduction)


def np_binary_cross_entropy(p: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(-(target * np.log(p) + (1 - target) * np.log1p(-p)), reduction)


def np_bce_with_logits(x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(np.logaddexp(0.0, x) - x * target, reduction)


# name -> (rule, the prediction's domain, target maker for a (4, 3) prediction, reference)
LOSSES = {
    "mse_loss": ("MSELossBackward", REAL, lambda r: r.standard_normal((4, 3)), np_mse_loss),
    "cross_entropy": (
        "CrossEntropyBackward",
        REAL,
        lambda r: r.integers(0, 3, 4),
        np_cross_entropy,
    ),
    "binary_cross_entropy": (
        "BCELossBackward",
        PROBABILITY,
        lambda r: r.integers(0, 2, (4, 3)).astype(np.float64),
        np_binary_cross_entropy,
    ),
    "binary_cross_entropy_with_logits": (
        "BCEWithLogitsBackward",
        REAL,
        lambda r: r.integers(0, 2, (4, 3)).astype(np.float64),
        np_bce_with_logits,
    ),
}


# the layer form of each loss
LOSS_MODULES = {
    "mse_loss": MSELoss,
    "cross_entropy": CrossEntropyLoss,
    "binary_cross_entropy": BCELoss,
    "binary_cross_entropy_with_logits": BCEWithLogitsLoss,
}


def _loss_cases() -> list[OpCase]:
    cases = []
    for name, (rule, domain, target, reference) in LOSSES.items():
        op = getattr(losses, name)
        for reduction in REDUCTIONS:
            cases.append(
                OpCase(
                    f"{name} reduction={reduction}",
                    4,
                    op,
                    rule,
                    (Arg((4, 3), domain),),
                    lambda p, target, reduction, f=reference: f(p, target, reduction),
                    lambda p, target, reduction, op=op: op(p, target, reduction),
                    lambda rng, target=target, reduction=reduction: {
                        "target": target(rng),
                        "reduction": reduction,
                    },
                )
            )
    cases.append(
        OpCase(
            "binary_cross_entropy with soft targets",
            4,
            losses.binary_cross_entropy,
            "BCELossBackward",
            (Arg((3, 2), PROBABILITY),),
            lambda p, target: np_binary_cross_entropy(p, target, "mean"),
            lambda p, target: losses.binary_cross_entropy(p, target),
            lambda rng: {"target": rng.uniform(0.0, 1.0, (3, 2))},
        )
    )
    return cases


# ----------------------------------------------------------------------------- Module 07


def _segment(x: Tensor) -> Tensor:
    return (x * x).exp()


def _training_cases() -> list[OpCase]:
    return [
        OpCase(
            "checkpoint",
            7,
            checkpoint,
            "CheckpointFunction",
            (Arg((3, 4), Domain(-1.0, 1.0)),),
            lambda x: np.exp(x * x),
            lambda x: checkpoint(_segment, x),
        )
    ]


FOUNDATION_MODULES = set(range(1, 8))
FOUNDATION_CASES: list[OpCase] = [
    *_tensor_cases(),
    *_activation_cases(),
    *_loss_cases(),
    *_training_cases(),
]


# ----------------------------------------------------------------------------- test models


class TwoHeads(Module):
    """A nested model: a Sequential, a bare Parameter and a list of layers."""

    def __init__(self) -> None:
        self.encoder = Sequential(Linear(4, 3), ReLU(), Dropout(0.5))
        self.scale = Parameter(np.ones(1, dtype=np.float32))
        self.heads = [Linear(3, 2), Linear(3, 1, bias=False)]

    def forward(self, x: Tensor) -> list[Tensor]:
        h = self.encoder(x) * self.scale
        return [head(h) for head in self.heads]


# ----------------------------------------------------------------------------- every tier


def op_cases(modules: Iterable[int] | None = None) -> list[OpCase]:
    """Every row of every installed tier (optionally only those of ``modules``), in order.

    Foundation's rows are here; a higher tier lists ``name = "package.module:CASES"`` under
    the entry-point group ``tinytorch.testing``, the same bridge ``tinytorch.nn`` uses. The
    higher tiers' tables are loaded only when rows beyond Modules 01–07 are asked for, so
    the foundation's tests never depend on another tier's tree. A table never runs
    learner code when it loads (rows call it only inside a test).
    """
    wanted = None if modules is None else set(modules)
    cases = list(FOUNDATION_CASES)
    if wanted is None or not wanted <= FOUNDATION_MODULES:  # only then: the higher tiers
        for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            cases.extend(entry.load())
    return [case for case in cases if wanted is None or case.module in wanted]


def op_case(name: str) -> OpCase:
    """The row called ``name``, from every installed tier: its call and reference work for
    any shapes, so a property-based test can run them on shapes of its own."""
    (case,) = [case for case in op_cases() if case.name == name]
    return case


def case_ids(cases: Sequence[OpCase]) -> list[str]:
    """Readable pytest ids: ``[add (3, 1) (4,)]`` rather than ``[case17]``."""
    return [case.name for case in cases]


__all__ = [
    "ACTIVATION_REFERENCES",
    "AWAY_FROM_ZERO",
    "DISTINCT",
    "FOUNDATION_CASES",
    "LOSSES",
    "LOSS_MODULES",
    "POSITIVE",
    "PROBABILITY",
    "REAL",
    "REDUCTIONS",
    "Arg",
    "Domain",
    "OpCase",
    "TwoHeads",
    "case_ids",
    "check_forward",
    "check_gradient",
    "check_gradients",
    "check_op",
    "check_values",
    "names_its_rule",
    "np_cross_entropy",
    "np_log_softmax",
    "np_softmax",
    "op_case",
    "op_cases",
    "rule_of",
]
