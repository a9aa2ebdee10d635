"""Specification of Module 02 · Activations (``tinytorch.nn.activations``).

Each activation is a function (``F.relu(x)``, the very function ``tinytorch.nn.activations``
defines) and, through Module 03, a layer (``ReLU()(x)``). Every test runs with gradients
dormant and active (``autograd_mode``) and checks forward values only; the derivatives
are Module 05's (``test_05_gradients.py``). The NumPy references are the op table's
(``tinytorch.testing``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.nn import GELU, LogSoftmax, Module, ReLU, Sigmoid, Softmax, Tanh, activations
from tinytorch.nn import functional as F
from tinytorch.testing import (
    ACTIVATION_REFERENCES,
    case_ids,
    check_forward,
    np_log_softmax,
    np_softmax,
    op_cases,
)

pytestmark = pytest.mark.usefixtures("autograd_mode")

NAMES = ["relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"]


REFERENCES = {**ACTIVATION_REFERENCES, "softmax": np_softmax, "log_softmax": np_log_softmax}
MODULE_02 = op_cases([2])


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("case", MODULE_02, ids=case_ids(MODULE_02))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_activation_matches_its_numpy_reference(case, dtype, rng) -> None:
    """The activations' rows of the op table (softmax along every dim) against NumPy."""
    assert check_forward(case, rng, dtype).dtype == dtype


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_activation_matches_its_numpy_formula(name, dtype, rng) -> None:
    x = (rng.standard_normal((4, 5)) * 3).astype(dtype)
    out = getattr(F, name)(Tensor(x, dtype=dtype))
    assert isinstance(out, Tensor) and out.shape == x.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, REFERENCES[name](x.astype(np.float64)), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        pytest.param(name, dtype, id=f"{name}-{dtype.__name__}")
        for name in NAMES
        for dtype in (np.float32, np.float64)
    ],
)
def test_activation_keeps_the_dtype(name, dtype) -> None:
    x = Tensor([[-1.0, 0.5, 2.0]], dtype=dtype)
    assert getattr(F, name)(x).dtype == dtype


def test_relu_zeroes_negatives_and_keeps_positives() -> None:
    out = F.relu(Tensor([-2.0, -0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 0.0, 3.0])


def test_sigmoid_is_symmetric_around_one_half(rng) -> None:
    x = Tensor(rng.standard_normal(10) * 5)
    np.testing.assert_allclose(F.sigmoid(x).data + F.sigmoid(-x).data, 1.0, rtol=1e-6)
    assert F.sigmoid(Tensor(0.0)).item() == 0.5


def test_tanh_is_odd_and_bounded(rng) -> None:
    x = Tensor(rng.standard_normal(10) * 5)
    np.testing.assert_allclose(F.tanh(-x).data, -F.tanh(x).data)
    assert np.all(np.abs(F.tanh(x).data) <= 1.0)


def test_gelu_is_close_to_the_exact_erf_form() -> None:
    """The tanh approximation stays within 5e-4 of x * Phi(x)."""
    x = np.linspace(-6.0, 6.0, 241)
    exact = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
    np.testing.assert_allclose(F.gelu(Tensor(x, dtype=np.float64)).data, exact, atol=5e-4)


@pytest.mark.parametrize(
    ("shape", "dim"), [((4, 5), -1), ((4, 5), 1), ((4, 5), 0), ((2, 3, 4), 1), ((6,), 0)]
)
def test_softmax_is_a_distribution_along_dim(shape, dim, rng) -> None:
    x = rng.standard_normal(shape).astype(np.float32) * 4
    out = F.softmax(Tensor(x), dim=dim)
    assert out.shape == shape
    assert np.all(out.data >= 0)
    np.testing.assert_allclose(out.data.sum(axis=dim), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out.data, np_softmax(x, axis=dim), rtol=1e-5, atol=1e-7)


def test_softmax_ignores_a_constant_shift_per_row(rng) -> None:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    shift = np.array([[100.0], [-50.0], [0.0]], dtype=np.float32)
    np.testing.assert_allclose(
        F.softmax(Tensor(x + shift)).data, F.softmax(Tensor(x)).data, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_log_softmax_equals_log_of_softmax_where_finite(dim, rng) -> None:
    x = Tensor(rng.standard_normal((4, 5)) * 3, dtype=np.float64)
    np.testing.assert_allclose(
        F.log_softmax(x, dim=dim).data, np.log(F.softmax(x, dim=dim).data), rtol=1e-12, atol=1e-12
    )


def test_activations_leave_their_input_unchanged(rng) -> None:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = Tensor(x.copy())
    for name in NAMES:
        getattr(F, name)(t)
    np.testing.assert_array_equal(t.data, x)


# ----------------------------------------------------------------------------- stability

EXTREME = [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_no_nan_or_inf_at_plus_minus_1e4(name, dtype) -> None:
    # An overflow or an invalid operation inside the op fails too (underflow to 0 is fine).
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = getattr(F, name)(Tensor(EXTREME, dtype=dtype))
    assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_saturated_activations_give_exact_limits(dtype) -> None:
    x = Tensor([1e4, -1e4], dtype=dtype)
    np.testing.assert_array_equal(F.sigmoid(x).data, [1.0, 0.0])
    np.testing.assert_array_equal(F.tanh(x).data, [1.0, -1.0])
    np.testing.assert_allclose(F.gelu(x).data, [1e4, 0.0], atol=1e-12)
    np.testing.assert_array_equal(F.relu(x).data, [1e4, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softmax_and_log_softmax_of_huge_logits(dtype) -> None:
    x = Tensor([[1e4, 0.0, -1e4]], dtype=dtype)
    np.testing.assert_array_equal(F.softmax(x).data, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(F.log_softmax(x).data, [[0.0, -1e4, -2e4]], rtol=1e-6)


# ----------------------------------------------------------------------------- module forms

# Module form (made inside the test, never at import) and the function it must equal.
MODULES: dict[str, tuple[Callable[[], Module], Callable[[Tensor], Tensor]]] = {
    "ReLU()": (lambda: ReLU(), lambda x: F.relu(x)),
    "Sigmoid()": (lambda: Sigmoid(), lambda x: F.sigmoid(x)),
    "Tanh()": (lambda: Tanh(), lambda x: F.tanh(x)),
    "GELU()": (lambda: GELU(), lambda x: F.gelu(x)),
    "Softmax(dim=-1)": (lambda: Softmax(), lambda x: F.softmax(x, dim=-1)),
    "Softmax(dim=0)": (lambda: Softmax(dim=0), lambda x: F.softmax(x, dim=0)),
    "LogSoftmax(dim=-1)": (lambda: LogSoftmax(), lambda x: F.log_softmax(x, dim=-1)),
    "LogSoftmax(dim=0)": (lambda: LogSoftmax(dim=0), lambda x: F.log_softmax(x, dim=0)),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_form_equals_functional_form_and_has_a_readable_repr(name, rng) -> None:
    make, function = MODULES[name]
    module = make()
    assert repr(module) == name
    x = Tensor(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    np.testing.assert_array_equal(module.forward(x).data, function(x).data)


@pytest.mark.parametrize("name", NAMES)
def test_functional_exposes_each_activation(name) -> None:
    assert name in F.__all__
    assert name in dir(F)
    assert getattr(F, name) is getattr(activations, name)
    x = Tensor([[-1.0, 0.5, 2.0]], dtype=np.float64)  # and, called through F, it works
    np.testing.assert_allclose(getattr(F, name)(x).data, REFERENCES[name](x.data), rtol=1e-12)


@pytest.mark.ungraded
def test_functional_unknown_name_lists_what_is_available() -> None:
    with pytest.raises(AttributeError) as info:
        F.swish  # noqa: B018
    assert "swish" in str(info.value) and "relu" in str(info.value)
