"""Specification of Module 04 · Losses (``tinytorch.nn.losses``).

MSE, cross-entropy on logits, BCE on probabilities and BCE on logits, each with the
reductions 'mean' | 'sum' | 'none', as functions (``F.cross_entropy``) and as Modules
(``CrossEntropyLoss()``). Values are compared with NumPy formulas computed in float64.
Every test runs with autograd dormant and active (``autograd_mode``) and checks forward
values only; the losses' derivatives are Module 05's (``test_05_gradients.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.nn import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
)
from tinytorch.nn import functional as F
from tinytorch.testing import (
    LOSS_MODULES,
    LOSSES,
    REDUCTIONS,
    case_ids,
    check_forward,
    np_log_softmax,
    op_cases,
)

pytestmark = pytest.mark.usefixtures("autograd_mode")

MODULE_04 = op_cases([4])


def reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": values.mean, "sum": values.sum, "none": lambda: values}[reduction]()


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("case", MODULE_04, ids=case_ids(MODULE_04))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_loss_matches_its_numpy_reference(case, dtype, rng) -> None:
    """The losses' rows of the op table, every reduction, against NumPy."""
    assert check_forward(case, rng, dtype).dtype == dtype


@pytest.fixture
def logits(rng) -> np.ndarray:
    return (rng.standard_normal((5, 4)) * 2).astype(np.float32)


@pytest.fixture
def classes(rng) -> np.ndarray:
    return rng.integers(0, 4, 5)


@pytest.fixture
def probs(rng) -> np.ndarray:
    return rng.uniform(0.05, 0.95, (4, 3)).astype(np.float32)


@pytest.fixture
def labels(rng) -> np.ndarray:
    return rng.integers(0, 2, (4, 3)).astype(np.float32)


def assert_loss(out: Tensor, expected: np.ndarray, rtol: float = 1e-5) -> None:
    assert isinstance(out, Tensor)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=1e-6)


# ----------------------------------------------------------------------------- MSE


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_matches_mean_squared_difference(reduction, rng) -> None:
    p, y = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3))
    expected = reduce((p.astype(np.float64) - y) ** 2, reduction)
    assert_loss(F.mse_loss(Tensor(p), y, reduction=reduction), expected)
    assert_loss(MSELoss(reduction)(Tensor(p), Tensor(y)), expected)


def test_mse_of_identical_tensors_is_zero() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert MSELoss()(x, x).item() == 0.0


def test_mse_accepts_lists_arrays_and_tensors_as_targets() -> None:
    p = Tensor([1.0, 2.0])
    for target in ([0.0, 0.0], np.zeros(2), Tensor([0.0, 0.0])):
        assert F.mse_loss(p, target).item() == pytest.approx(2.5)


def test_mse_prediction_target_shape_mismatch_names_both_shapes() -> None:
    """(N,) against (N, 1) would silently broadcast to (N, N); it must be an error."""
    with pytest.raises(ValueError) as info:
        F.mse_loss(Tensor(np.zeros(4)), np.zeros((4, 1)))
    message = str(info.value)
    assert "mse_loss" in message and "(4,)" in message and "(4, 1)" in message


# ----------------------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_minus_log_softmax_of_the_target(reduction, logits, classes):
    per_row = -np_log_softmax(logits.astype(np.float64))[np.arange(5), classes]
    expected = reduce(per_row, reduction)
    assert_loss(F.cross_entropy(Tensor(logits), classes, reduction=reduction), expected)
    assert_loss(CrossEntropyLoss(reduction=reduction)(Tensor(logits), classes), expected)


def test_cross_entropy_equals_picked_log_softmax(logits, classes) -> None:
    picked = F.log_softmax(Tensor(logits), dim=1)[np.arange(5), classes]
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(logits), classes, "none").data, -picked.data, rtol=1e-6
    )


def test_cross_entropy_accepts_integer_tensors_and_lists(logits, classes) -> None:
    expected = F.cross_entropy(Tensor(logits), classes).item()
    assert F.cross_entropy(Tensor(logits), Tensor(classes, dtype=np.int64)).item() == expected
    assert F.cross_entropy(Tensor(logits), classes.tolist()).item() == expected


def test_cross_entropy_of_uniform_logits_is_log_classes() -> None:
    loss = F.cross_entropy(Tensor(np.zeros((3, 10))), np.array([0, 4, 9]))
    assert loss.item() == pytest.approx(np.log(10), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_cross_entropy_stays_finite_at_logits_of_1e4(dtype) -> None:
    logits = Tensor([[1e4, 0.0, -1e4], [0.0, 1e4, -1e4], [-1e4, -1e4, 1e4]], dtype=dtype)
    targets = np.array([1, 1, 0])  # wrong, right, wrong by 2e4
    out = F.cross_entropy(logits, targets, reduction="none")
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, [1e4, 0.0, 2e4], rtol=1e-6)


def test_cross_entropy_float_targets_are_a_type_error_mentioning_integers(logits) -> None:
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(Tensor(logits), Tensor([0, 1, 2, 3, 0]))  # float32 by default


def test_cross_entropy_targets_of_the_wrong_shape_name_both_shapes(logits) -> None:
    with pytest.raises(ValueError) as info:
        F.cross_entropy(Tensor(logits), np.zeros((5, 1), dtype=np.int64))
    message = str(info.value)
    assert "cross_entropy" in message and "(5, 1)" in message and "(5, 4)" in message


@pytest.mark.parametrize("bad", [4, -1])
def test_cross_entropy_class_out_of_range_is_an_error(logits, bad) -> None:
    targets = np.array([0, 1, bad, 2, 3])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        F.cross_entropy(Tensor(logits), targets)


def test_cross_entropy_needs_2d_logits() -> None:
    with pytest.raises(ValueError, match="batch, classes"):
        F.cross_entropy(Tensor(np.zeros(4)), np.array([1]))


# ----------------------------------------------------------------------------- BCE


def np_bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_its_formula(reduction, probs, labels) -> None:
    expected = reduce(np_bce(probs.astype(np.float64), labels), reduction)
    assert_loss(F.binary_cross_entropy(Tensor(probs), labels, reduction), expected)
    assert_loss(BCELoss(reduction)(Tensor(probs), labels), expected)


def test_bce_accepts_soft_targets(probs, rng) -> None:
    soft = rng.uniform(0, 1, probs.shape)
    assert_loss(
        F.binary_cross_entropy(Tensor(probs), soft, "none"), np_bce(probs.astype(np.float64), soft)
    )


def test_bce_at_exactly_zero_and_one_is_finite_like_pytorch() -> None:
    """log(p) is floored at -100, so a confident wrong answer costs 100, not inf."""
    out = F.binary_cross_entropy(Tensor([0.0, 1.0, 0.0, 1.0]), [1.0, 0.0, 0.0, 1.0], "none")
    np.testing.assert_array_equal(out.data, [100.0, 100.0, 0.0, 0.0])


@pytest.mark.parametrize("bad", [-0.1, 1.1])
def test_bce_rejects_probabilities_outside_zero_one(bad) -> None:
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(Tensor([0.5, bad]), [1.0, 0.0])


def test_bce_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError) as info:
        F.binary_cross_entropy(Tensor([0.5, 0.5]), [[1.0], [0.0]])
    assert "(2,)" in str(info.value) and "(2, 1)" in str(info.value)


# ----------------------------------------------------------------------------- BCE with logits


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_its_formula(reduction, logits, rng) -> None:
    y = rng.integers(0, 2, logits.shape).astype(np.float32)
    x = logits.astype(np.float64)
    expected = reduce(-(y * np.log(np_sigmoid(x)) + (1 - y) * np.log(1 - np_sigmoid(x))), reduction)
    assert_loss(F.binary_cross_entropy_with_logits(Tensor(logits), y, reduction), expected)
    assert_loss(BCEWithLogitsLoss(reduction)(Tensor(logits), Tensor(y)), expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_equals_bce_of_sigmoid(reduction, logits, rng) -> None:
    y = rng.integers(0, 2, logits.shape)
    x = Tensor(logits, dtype=np.float64)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, y, reduction).data,
        F.binary_cross_entropy(F.sigmoid(x), y, reduction).data,
        rtol=1e-10,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_with_logits_stays_finite_at_logits_of_1e4(dtype) -> None:
    x = Tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    out = F.binary_cross_entropy_with_logits(x, [0.0, 1.0, 1.0, 0.0], "none")
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, [1e4, 1e4, 0.0, 0.0], rtol=1e-6)


def test_bce_with_logits_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((3, 1))), np.zeros(3))


# ----------------------------------------------------------------------------- shared rules


def loss_inputs(name: str, rng: np.random.Generator, dtype=np.float32) -> tuple[Tensor, np.ndarray]:
    """A (4, 3) prediction from the loss's domain in the op table, and its target."""
    _, domain, target, _ = LOSSES[name]
    return Tensor(domain.sample(rng, (4, 3)), dtype=dtype), target(rng)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_loss_is_a_0d_tensor_of_the_prediction_dtype(name, dtype, rng) -> None:
    prediction, target = loss_inputs(name, rng, dtype)
    loss = getattr(F, name)(prediction, target)
    assert loss.shape == () and loss.dtype == dtype
    assert isinstance(loss.item(), float)


@pytest.mark.parametrize("name", LOSSES)
def test_default_reduction_is_mean(name, rng) -> None:
    prediction, target = loss_inputs(name, rng)
    module = LOSS_MODULES[name]()
    assert module.reduction == "mean"
    np.testing.assert_array_equal(
        module(prediction, target).data, getattr(F, name)(prediction, target, "mean").data
    )
    np.testing.assert_allclose(
        getattr(F, name)(prediction, target).data,
        getattr(F, name)(prediction, target, "none").data.mean(),
        rtol=1e-6,
    )


@pytest.mark.parametrize("name", LOSSES)
def test_bad_reduction_string_is_an_error(name, rng) -> None:
    prediction, target = loss_inputs(name, rng)
    with pytest.raises(ValueError) as info:
        getattr(F, name)(prediction, target, reduction="average")
    assert "'average'" in str(info.value) and "mean" in str(info.value)
    with pytest.raises(ValueError, match="average"):
        LOSS_MODULES[name](reduction="average")


@pytest.mark.parametrize("name", LOSSES)
def test_the_mean_loss_of_an_empty_batch_is_a_clear_error(name, rng) -> None:
    """PyTorch returns nan (0 / 0) here; an empty batch is a slicing or loading mistake."""
    prediction, target = loss_inputs(name, rng)
    empty_prediction, empty_target = prediction[:0], np.asarray(target)[:0]
    with pytest.raises(ValueError, match=rf"{name}: the batch is empty \(input shape \(0, 3\)\)"):
        getattr(F, name)(empty_prediction, empty_target)


@pytest.mark.parametrize("name", LOSSES)
def test_sum_and_none_over_an_empty_batch_are_defined(name, rng) -> None:
    prediction, target = loss_inputs(name, rng)
    empty_prediction, empty_target = prediction[:0], np.asarray(target)[:0]
    assert getattr(F, name)(empty_prediction, empty_target, "sum").item() == 0.0
    assert getattr(F, name)(empty_prediction, empty_target, "none").shape[0] == 0


@pytest.mark.parametrize("name", LOSSES)
def test_a_prediction_that_is_not_a_tensor_is_a_type_error(name, rng) -> None:
    _, target = loss_inputs(name, rng)
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor, got str"):
        getattr(F, name)("logits", target)


@pytest.mark.parametrize("name", LOSSES)
def test_functional_exposes_each_loss(name, rng) -> None:
    assert name in F.__all__
    prediction, target = loss_inputs(name, rng)
    assert getattr(F, name)(prediction, target).shape == ()  # and, called through F, it works


def test_loss_modules_have_no_parameters_and_readable_reprs() -> None:
    assert CrossEntropyLoss().parameters() == []
    assert repr(MSELoss("sum")) == "MSELoss(reduction='sum')"
