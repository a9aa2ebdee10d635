"""Module 05 · Autograd — every op of Modules 01–04 against central differences.

Each backward rule in ``tinytorch.core.autograd`` belongs to an op of an earlier module:
Tensor arithmetic, matmul, reductions, shape ops and indexing (01), the activations (02),
the layers (03) and the losses (04). Here every one of them is gradchecked in float64:
its analytic gradient must agree with central finite differences. Autograd is simply on
in this file; the forward values of the same ops are specified, dormant and active, by
tests 01–04.

The small tables of ops, shapes and indices repeat those of tests 01–04 on purpose: test
modules cannot import each other (``--import-mode=importlib``). Every learner object is
built inside a test, never at import, so this file collects even when nothing is
implemented yet.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradcheck, manual_seed
from tinytorch.nn import (
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Linear,
    LogSoftmax,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinytorch.nn import functional as F


@pytest.fixture(autouse=True)
def _autograd_on() -> None:
    """Every test here needs gradients; ``enable_autograd`` is idempotent."""
    enable_autograd()


def check_gradients(fn: Callable[..., Tensor], *arrays: np.ndarray) -> None:
    """gradcheck ``fn`` with respect to every array, as float64 tensors requiring grad."""
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    assert gradcheck(fn, inputs)


def uniform(rng: np.random.Generator, shape, low=0.5, high=2.0) -> np.ndarray:
    return rng.uniform(low, high, shape)


# ========================================================================== Module 01 · Tensor

BINARY_OPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
}

GRAD_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
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

SCALAR_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "x+2": lambda x: x + 2,
    "x-2": lambda x: x - 2,
    "x*3": lambda x: x * 3,
    "x/4": lambda x: x / 4,
    "2+x": lambda x: 2 + x,
    "2-x": lambda x: 2 - x,
    "3*x": lambda x: 3 * x,
    "4/x": lambda x: 4 / x,
    "2**x": lambda x: 2**x,
    "-x": lambda x: -x,
}

SHAPE_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "reshape": lambda x: x.reshape(4, 6),
    "reshape -1": lambda x: x.reshape(-1),
    "reshape tuple": lambda x: x.reshape((3, -1)),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute tuple": lambda x: x.permute((1, 2, 0)),
    "permute negative": lambda x: x.permute(-1, 0, 1),
    "transpose": lambda x: x.transpose(),
    "transpose 0 2": lambda x: x.transpose(0, 2),
    "T": lambda x: x.T,
}

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
}

# Indices that are Tensors themselves: (values, dtype), made into a Tensor inside the test.
TENSOR_INDICES = {
    "int Tensor": ([2, 0, 2], np.int64),
    "bool Tensor": ([True, False, True], bool),
}


class TestTensorOps:
    @pytest.mark.parametrize("op", BINARY_OPS.values(), ids=BINARY_OPS.keys())
    @pytest.mark.parametrize(("shape_a", "shape_b"), GRAD_SHAPES, ids=str)
    def test_binary_op_with_broadcasting(self, op, shape_a, shape_b, rng) -> None:
        # Positive operands keep pow's base valid and division away from zero.
        check_gradients(op, uniform(rng, shape_a), uniform(rng, shape_b))

    @pytest.mark.parametrize("fn", SCALAR_OPS.values(), ids=SCALAR_OPS.keys())
    def test_op_with_python_scalar(self, fn, rng) -> None:
        check_gradients(fn, uniform(rng, (2, 3)))

    @pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, 1.5])
    def test_pow_with_scalar_exponent(self, exponent, rng) -> None:
        check_gradients(lambda x: x**exponent, uniform(rng, (2, 3)))

    def test_pow_with_integer_exponent_of_negative_base(self, rng) -> None:
        check_gradients(lambda x: x**3, rng.uniform(-2, -0.5, (2, 3)))

    def test_pow_with_tensor_exponent(self, rng) -> None:
        check_gradients(operator.pow, uniform(rng, (2, 3)), rng.uniform(-1.0, 2.0, (2, 3)))

    @pytest.mark.parametrize("op", BINARY_OPS.values(), ids=BINARY_OPS.keys())
    def test_reflected_op_with_numpy_array(self, op, rng) -> None:
        a = rng.uniform(0.5, 2.0, (4,))
        check_gradients(lambda x: op(a, x), uniform(rng, (3, 4)))

    @pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES, ids=str)
    def test_matmul(self, shape_a, shape_b, rng) -> None:
        check_gradients(operator.matmul, rng.standard_normal(shape_a), rng.standard_normal(shape_b))

    @pytest.mark.parametrize("needs_grad", [0, 1], ids=["left only", "right only"])
    @pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES, ids=str)
    def test_matmul_with_one_operand_needing_no_gradient(
        self, shape_a, shape_b, needs_grad, rng
    ) -> None:
        inputs = [Tensor(rng.standard_normal(s), dtype=np.float64) for s in (shape_a, shape_b)]
        inputs[needs_grad].requires_grad = True
        assert gradcheck(operator.matmul, inputs)
        assert inputs[1 - needs_grad].grad is None

    def test_matmul_with_numpy_array_on_the_left(self, rng) -> None:
        a = rng.standard_normal((2, 3))
        check_gradients(lambda x: a @ x, rng.standard_normal((3, 4)))

    @pytest.mark.parametrize("name", ["sum", "mean", "max"])
    @pytest.mark.parametrize("axis", AXES, ids=repr)
    @pytest.mark.parametrize("keepdims", [False, True], ids=["dropdims", "keepdims"])
    def test_reduction(self, name, axis, keepdims, rng) -> None:
        x = rng.permutation(24).reshape(2, 3, 4) / 4.0  # distinct values: max has no ties
        check_gradients(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)

    def test_reduction_with_positional_arguments(self, rng) -> None:
        x = rng.permutation(12).reshape(3, 4) / 4.0
        check_gradients(lambda t: t.sum(1, True) * t.max(0, True), x)

    def test_max_shares_the_gradient_between_ties(self) -> None:
        x = Tensor([[1.0, 3.0, 3.0]], requires_grad=True, dtype=np.float64)
        x.max().backward()
        np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5]])

    @pytest.mark.parametrize("fn", SHAPE_OPS.values(), ids=SHAPE_OPS.keys())
    def test_shape_op(self, fn, rng) -> None:
        check_gradients(fn, rng.standard_normal((2, 3, 4)))

    @pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
    def test_getitem(self, index, rng) -> None:
        """Repeated indices add their gradients; masked-out elements get zero."""
        check_gradients(lambda x: x[index], rng.standard_normal((3, 4)))

    @pytest.mark.parametrize(
        ("values", "dtype"), TENSOR_INDICES.values(), ids=TENSOR_INDICES.keys()
    )
    def test_getitem_with_a_tensor_index(self, values, dtype, rng) -> None:
        index = Tensor(values, dtype=dtype)
        check_gradients(lambda x: x[index], rng.standard_normal((3, 4)))

    def test_getitem_accumulates_repeated_indices(self) -> None:
        x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
        x[np.array([0, 0, 2, 0])].sum().backward()
        np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])

    @pytest.mark.parametrize("name", ["exp", "log", "sqrt"])
    def test_elementwise_math(self, name, rng) -> None:
        check_gradients(lambda x: getattr(x, name)(), uniform(rng, (2, 3)))

    def test_tensor_used_twice_accumulates(self, rng) -> None:
        check_gradients(lambda x: x * x + x, rng.standard_normal((2, 3)))

    def test_composition_of_ops(self, rng) -> None:
        def fn(x, w, b):
            return ((x @ w + b).exp().sum(axis=1) / 3).log().mean()

        check_gradients(
            fn, rng.standard_normal((2, 3)), rng.standard_normal((3, 4)) / 2, rng.standard_normal(4)
        )


# ===================================================================== Module 02 · Activations

NAMES = ["relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"]
EXTREME = [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]]

# The module forms, made inside the test that uses them.
ACTIVATION_MODULES: dict[str, Callable[[], Module]] = {
    "ReLU()": lambda: ReLU(),
    "Sigmoid()": lambda: Sigmoid(),
    "Tanh()": lambda: Tanh(),
    "GELU()": lambda: GELU(),
    "Softmax(dim=-1)": lambda: Softmax(),
    "Softmax(dim=0)": lambda: Softmax(dim=0),
    "LogSoftmax(dim=-1)": lambda: LogSoftmax(),
    "LogSoftmax(dim=0)": lambda: LogSoftmax(dim=0),
}


def away_from_zero(rng: np.random.Generator, shape) -> np.ndarray:
    """Values with |x| >= 0.1, so ReLU's kink never sits inside a finite difference."""
    x = rng.uniform(0.1, 3.0, shape)
    return x * rng.choice([-1.0, 1.0], shape)


class TestActivations:
    @pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "gelu"])
    def test_elementwise_activation(self, name, rng) -> None:
        check_gradients(lambda x: getattr(F, name)(x), away_from_zero(rng, (3, 4)))

    @pytest.mark.parametrize("name", ["softmax", "log_softmax"])
    @pytest.mark.parametrize(
        ("shape", "dim"),
        [((3, 4), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((5,), 0)],
        ids=str,
    )
    def test_softmax_family_along_dim(self, name, shape, dim, rng) -> None:
        check_gradients(lambda x: getattr(F, name)(x, dim=dim), rng.standard_normal(shape))

    @pytest.mark.parametrize("name", ["softmax", "log_softmax"])
    def test_softmax_family_with_positional_dim(self, name, rng) -> None:
        check_gradients(lambda x: getattr(F, name)(x, 0), rng.standard_normal((3, 4)))

    @pytest.mark.parametrize("make", ACTIVATION_MODULES.values(), ids=ACTIVATION_MODULES.keys())
    def test_module_form(self, make, rng) -> None:
        check_gradients(make(), away_from_zero(rng, (3, 4)))

    @pytest.mark.parametrize("name", NAMES)
    def test_gradient_stays_finite_at_plus_minus_1e4(self, name, rng) -> None:
        x = Tensor(EXTREME, requires_grad=True, dtype=np.float64)
        out = getattr(F, name)(x)
        out.backward(rng.standard_normal(out.shape))
        assert np.all(np.isfinite(x.grad.data))

    def test_relu_gradient_is_a_step(self) -> None:
        x = Tensor([-2.0, 3.0], requires_grad=True)
        F.relu(x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 1.0])


# ========================================================================== Module 03 · Layers


class TwoHeads(Module):
    """A nested model: a Sequential, a bare Parameter and a list of layers."""

    def __init__(self) -> None:
        self.encoder = Sequential(Linear(4, 3), ReLU(), Dropout(0.5))
        self.scale = Parameter(np.ones(1, dtype=np.float32))
        self.heads = [Linear(3, 2), Linear(3, 1, bias=False)]

    def forward(self, x: Tensor) -> list[Tensor]:
        h = self.encoder(x) * self.scale
        return [head(h) for head in self.heads]


def mlp() -> Sequential:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 3))


def as_float64(module: Module) -> Module:
    """Switch every parameter to float64 in place, as gradcheck needs."""
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def check_module(module: Module, x: np.ndarray, fn: Callable | None = None) -> None:
    """gradcheck ``module`` with respect to its input and every parameter."""
    as_float64(module)
    params = module.parameters()
    forward = fn or (lambda inp, *_: module(inp))
    assert gradcheck(forward, [Tensor(x, requires_grad=True, dtype=np.float64), *params])


class TestLayers:
    @pytest.mark.parametrize("batch_shape", [(), (3,), (2, 3)], ids=str)
    def test_linear_wrt_input_weight_and_bias(self, batch_shape, rng) -> None:
        check_module(Linear(4, 2), rng.standard_normal((*batch_shape, 4)))

    def test_linear_without_bias(self, rng) -> None:
        check_module(Linear(4, 2, bias=False), rng.standard_normal((3, 4)))

    def test_sequential_mlp_wrt_input_and_every_weight(self, rng) -> None:
        model = Sequential(Linear(3, 4), Tanh(), Linear(4, 4), ReLU(), Linear(4, 2), Sigmoid())
        for p in model.parameters():  # nonzero biases keep ReLU inputs off its kink
            p.data = p.data + 0.1 * rng.standard_normal(p.shape).astype(np.float32)
        check_module(model, rng.standard_normal((2, 3)))

    def test_nested_model(self, rng) -> None:
        model = TwoHeads().eval()
        model.encoder[0].bias.data = rng.uniform(0.5, 1.0, 3).astype(np.float32)
        check_module(
            model,
            rng.standard_normal((2, 4)),
            fn=lambda x, *_: model(x)[0].sum() + model(x)[1].sum() * 2,
        )

    def test_dropout_in_training_mode_with_a_fixed_mask(self, rng) -> None:
        layer = Dropout(0.4)

        def fn(x: Tensor) -> Tensor:
            manual_seed(11)  # the same mask on every call
            return layer(x)

        x = Tensor(rng.standard_normal((4, 5)), requires_grad=True, dtype=np.float64)
        assert gradcheck(fn, [x])
        dropped = fn(x).data == 0
        assert dropped.any() and not dropped.all()
        np.testing.assert_array_equal(x.grad.data == 0, dropped)

    def test_dropout_in_eval_mode_passes_the_gradient_through(self, rng) -> None:
        layer = Dropout(0.4).eval()
        x = Tensor(rng.standard_normal((4, 5)), requires_grad=True, dtype=np.float64)
        assert gradcheck(lambda t: layer(t) * 1.0, [x])

    def test_backward_fills_every_parameter_grad_with_its_shape(self, rng) -> None:
        model = mlp()
        model(Tensor(rng.standard_normal((5, 4)))).sum().backward()
        for name, p in model.named_parameters():
            assert isinstance(p.grad, Tensor), name
            assert p.grad.shape == p.shape and p.grad.dtype == p.dtype, name
        model.zero_grad()
        assert all(p.grad is None for p in model.parameters())


# ========================================================================== Module 04 · Losses

REDUCTIONS = ["mean", "sum", "none"]

# name -> (prediction, target) maker: logits or probabilities, and matching targets.
LOSSES: dict[str, Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "mse_loss": lambda r: (r.standard_normal((4, 3)), r.standard_normal((4, 3))),
    "cross_entropy": lambda r: (r.standard_normal((4, 3)), r.integers(0, 3, 4)),
    "binary_cross_entropy": lambda r: (r.uniform(0.1, 0.9, (4, 3)), r.integers(0, 2, (4, 3))),
    "binary_cross_entropy_with_logits": lambda r: (
        r.standard_normal((4, 3)),
        r.integers(0, 2, (4, 3)),
    ),
}
LOSS_MODULES = {
    "mse_loss": MSELoss,
    "cross_entropy": CrossEntropyLoss,
    "binary_cross_entropy": BCELoss,
    "binary_cross_entropy_with_logits": BCEWithLogitsLoss,
}


def loss_inputs(name: str, rng: np.random.Generator) -> tuple[Tensor, np.ndarray]:
    """A float64 prediction that requires grad, and its target."""
    prediction, target = LOSSES[name](rng)
    return Tensor(prediction, requires_grad=True, dtype=np.float64), target


def np_log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class TestLosses:
    @pytest.mark.parametrize("name", LOSSES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_loss_wrt_prediction(self, name, reduction, rng) -> None:
        prediction, target = loss_inputs(name, rng)
        assert gradcheck(lambda p: getattr(F, name)(p, target, reduction=reduction), [prediction])

    @pytest.mark.parametrize("name", LOSSES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_loss_module_wrt_prediction(self, name, reduction, rng) -> None:
        prediction, target = loss_inputs(name, rng)
        assert gradcheck(lambda p: LOSS_MODULES[name](reduction)(p, target), [prediction])

    def test_bce_with_soft_targets(self, rng) -> None:
        p = Tensor(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True, dtype=np.float64)
        y = rng.uniform(0, 1, (3, 2))
        assert gradcheck(lambda t: F.binary_cross_entropy(t, y), [p])

    def test_cross_entropy_gradient_is_softmax_minus_one_hot(self, rng) -> None:
        logits = rng.standard_normal((5, 4)) * 2
        classes = rng.integers(0, 4, 5)
        x = Tensor(logits, requires_grad=True, dtype=np.float64)
        F.cross_entropy(x, classes, reduction="sum").backward()
        expected = np.exp(np_log_softmax(logits))
        expected[np.arange(5), classes] -= 1.0
        np.testing.assert_allclose(x.grad.data, expected, rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy_with_logits"])
    def test_gradient_stays_finite_at_logits_of_1e4(self, name) -> None:
        x = Tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True, dtype=np.float64)
        target = np.array([1, 1]) if name == "cross_entropy" else np.array([[0, 1], [0, 1]])
        getattr(F, name)(x, target).backward()
        assert np.all(np.isfinite(x.grad.data))

    def test_mlp_with_cross_entropy_wrt_every_weight(self, rng) -> None:
        model = Sequential(Linear(3, 5), ReLU(), Linear(5, 4))
        for p in model.parameters():
            p.data = (p.data + 0.1 * rng.standard_normal(p.shape)).astype(np.float64)
        x = Tensor(rng.standard_normal((6, 3)), dtype=np.float64)
        y = rng.integers(0, 4, 6)
        assert gradcheck(lambda *_: CrossEntropyLoss()(model(x), y), model.parameters())
