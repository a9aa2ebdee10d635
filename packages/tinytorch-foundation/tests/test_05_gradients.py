"""Module 05 · Autograd — every op of Modules 01–04 against central differences.

Each backward rule in ``tinytorch.core.autograd`` belongs to an op of an earlier module:
Tensor arithmetic, matmul, reductions, shape ops and indexing (01), the activations (02),
the layers (03) and the losses (04). The op table in ``tinytorch.testing`` lists every
public differentiable op once; here every row is checked the way a reader would follow
it — the op's own code names its rule, the result records exactly that rule — and
gradchecked in float64 against central finite differences. The forward values of the
same rows are specified, dormant and active, by tests 01–04. Every learner object is built
inside a test, never at import, so this file collects even when nothing is implemented.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pytest

import tinytorch.nn as nn
from tinytorch.core import Function, Tensor, enable_autograd, gradcheck, manual_seed
from tinytorch.nn import functional as F
from tinytorch.testing import (
    AWAY_FROM_ZERO,
    LOSS_MODULES,
    LOSSES,
    REDUCTIONS,
    TwoHeads,
    case_ids,
    check_gradients,
    check_op,
    np_log_softmax,
    op_cases,
)

FOUNDATION = op_cases(range(1, 8))


@pytest.fixture(autouse=True)
def _autograd_on() -> None:
    """Every test here needs gradients; ``enable_autograd`` is idempotent."""
    enable_autograd()


# ========================================================================== every op


@pytest.mark.parametrize("case", FOUNDATION, ids=case_ids(FOUNDATION))
def test_every_op_records_the_rule_its_code_names_and_that_rule_is_right(case, rng) -> None:
    """Walks the op table: from the op's code to its rule by name, then gradcheck."""
    check_op(case, rng)


def test_every_gradient_rule_is_reached_by_some_op() -> None:
    """The table is complete: no Function of any installed tier is left unchecked."""
    cases = op_cases()  # loads the higher tiers' rows, and with them their Functions
    rules = {case.rule for case in cases}
    found, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("tinytorch.") and not inspect.isabstract(cls):
            found.append(cls.__name__)
    assert found and sorted(set(found) - rules) == []


# ========================================================================== Module 01 · Tensor


class TestTensorOps:
    @pytest.mark.parametrize("needs_grad", [0, 1], ids=["left only", "right only"])
    @pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 4), (4, 5)), ((2, 3, 4), (4,))], ids=str)
    def test_matmul_with_one_operand_needing_no_gradient(
        self, shape_a, shape_b, needs_grad, rng
    ) -> None:
        inputs = [Tensor(rng.standard_normal(s), dtype=np.float64) for s in (shape_a, shape_b)]
        inputs[needs_grad].requires_grad = True
        assert gradcheck(lambda a, b: a @ b, inputs)
        assert inputs[1 - needs_grad].grad is None

    def test_max_shares_the_gradient_between_ties(self) -> None:
        x = Tensor([[1.0, 3.0, 3.0]], requires_grad=True, dtype=np.float64)
        x.max().backward()
        np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5]])

    def test_getitem_accumulates_repeated_indices(self) -> None:
        x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
        x[np.array([0, 0, 2, 0])].sum().backward()
        np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])

    def test_tensor_used_twice_accumulates(self, rng) -> None:
        check_gradients(lambda x: x * x + x, rng.standard_normal((2, 3)))

    def test_composition_of_ops(self, rng) -> None:
        def fn(x, w, b):
            return ((x @ w + b).exp().sum(axis=1) / 3).log().mean()

        check_gradients(
            fn, rng.standard_normal((2, 3)), rng.standard_normal((3, 4)) / 2, rng.standard_normal(4)
        )


class TestConversions:
    """Casts, comparisons and in-place helpers, as PyTorch's autograd treats them."""

    def test_a_float_cast_passes_the_gradient_back_in_the_inputs_dtype(self) -> None:
        x = Tensor([1.0, 2.0], requires_grad=True)  # float32
        y = x.double() * Tensor([3.0, 4.0], dtype=np.float64)
        assert y.dtype == np.float64 and type(x.double().grad_fn).__name__ == "ToCopyBackward"
        y.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])

    def test_integer_and_bool_results_record_nothing(self) -> None:
        x = Tensor([1.5, -2.0], requires_grad=True)
        for out in (x.long(), x.bool(), x.type(np.int32), x > 0, x == x, x.argmax()):
            assert out.requires_grad is False and out.grad_fn is None

    def test_grad_zero_clears_an_accumulated_gradient(self) -> None:
        w = Tensor([1.0, 2.0], requires_grad=True)
        (w * 3).sum().backward()
        assert w.grad.zero_() is w.grad
        (w * w).sum().backward()
        np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])

    def test_module_to_casts_parameters_and_their_gradients(self, rng) -> None:
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        model(Tensor(np.ones((1, 3)))).sum().backward()
        model.double()
        assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float64)}
        x = Tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=np.float64)
        assert gradcheck(lambda x: model(x), [x])


# ===================================================================== Module 02 · Activations

NAMES = ["relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"]
EXTREME = [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]]

# The module forms, made inside the test that uses them.
ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {
    "ReLU()": lambda: nn.ReLU(),
    "Sigmoid()": lambda: nn.Sigmoid(),
    "Tanh()": lambda: nn.Tanh(),
    "GELU()": lambda: nn.GELU(),
    "Softmax(dim=-1)": lambda: nn.Softmax(),
    "Softmax(dim=0)": lambda: nn.Softmax(dim=0),
    "LogSoftmax(dim=-1)": lambda: nn.LogSoftmax(),
    "LogSoftmax(dim=0)": lambda: nn.LogSoftmax(dim=0),
}


class TestActivations:
    @pytest.mark.parametrize("make", ACTIVATION_MODULES.values(), ids=ACTIVATION_MODULES.keys())
    def test_module_form(self, make, rng) -> None:
        check_gradients(make(), AWAY_FROM_ZERO.sample(rng, (3, 4)))

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


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def as_float64(module: nn.Module) -> nn.Module:
    """Switch every parameter to float64 in place, as gradcheck needs."""
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def check_module(module: nn.Module, x: np.ndarray, fn: Callable | None = None) -> None:
    """gradcheck ``module`` with respect to its input and every parameter."""
    as_float64(module)
    params = module.parameters()
    forward = fn or (lambda inp, *_: module(inp))
    assert gradcheck(forward, [Tensor(x, requires_grad=True, dtype=np.float64), *params])


class TestLayers:
    @pytest.mark.parametrize("batch_shape", [(), (3,), (2, 3)], ids=str)
    def test_linear_wrt_input_weight_and_bias(self, batch_shape, rng) -> None:
        check_module(nn.Linear(4, 2), rng.standard_normal((*batch_shape, 4)))

    def test_linear_without_bias(self, rng) -> None:
        check_module(nn.Linear(4, 2, bias=False), rng.standard_normal((3, 4)))

    def test_sequential_mlp_wrt_input_and_every_weight(self, rng) -> None:
        model = nn.Sequential(
            nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid()
        )
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
        layer = nn.Dropout(0.4)

        def fn(x: Tensor) -> Tensor:
            manual_seed(11)  # the same mask on every call
            return layer(x)

        x = Tensor(rng.standard_normal((4, 5)), requires_grad=True, dtype=np.float64)
        assert gradcheck(fn, [x])
        dropped = fn(x).data == 0
        assert dropped.any() and not dropped.all()
        np.testing.assert_array_equal(x.grad.data == 0, dropped)

    def test_dropout_in_eval_mode_passes_the_gradient_through(self, rng) -> None:
        layer = nn.Dropout(0.4).eval()
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


def loss_inputs(name: str, rng: np.random.Generator) -> tuple[Tensor, np.ndarray]:
    """A float64 prediction that requires grad, and its target (from the op table)."""
    _, domain, target, _ = LOSSES[name]
    prediction = Tensor(domain.sample(rng, (4, 3)), requires_grad=True, dtype=np.float64)
    return prediction, target(rng)


class TestLosses:
    @pytest.mark.parametrize("name", LOSSES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_loss_module_wrt_prediction(self, name, reduction, rng) -> None:
        prediction, target = loss_inputs(name, rng)
        assert gradcheck(lambda p: LOSS_MODULES[name](reduction)(p, target), [prediction])

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
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4))
        for p in model.parameters():
            p.data = (p.data + 0.1 * rng.standard_normal(p.shape)).astype(np.float64)
        x = Tensor(rng.standard_normal((6, 3)), dtype=np.float64)
        y = rng.integers(0, 4, 6)
        assert gradcheck(lambda *_: nn.CrossEntropyLoss()(model(x), y), model.parameters())
