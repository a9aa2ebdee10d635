"""Specification of Module 01 · Tensor (``tinytorch.core.tensor``).

Every test runs twice through the ``autograd_mode`` fixture: with gradients dormant, as a
learner has them in Modules 01–04, and with Module 05 switched on. Passing both ways is
the proof that autograd changes nothing Module 01 promised. Only forward behaviour is
specified here: the derivative of each op is Module 05's, checked in ``test_05_gradients.py``.
Learner objects are built inside the tests, never at import: the file collects (and earns
partial credit) while parts of Module 01 are still to be written.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import numpy as np
import pytest

from tinytorch.core import (
    Tensor,
    manual_seed,
    matmul_loops,
    ones,
    randn,
    tensor,
    zeros,
)
from tinytorch.testing import case_ids, check_forward, op_cases

pytestmark = pytest.mark.usefixtures("autograd_mode")

MODULE_01 = op_cases([1])


def uniform(rng: np.random.Generator, shape, low=0.5, high=2.0, dtype=np.float32) -> np.ndarray:
    return rng.uniform(low, high, shape).astype(dtype)


# ----------------------------------------------------------------------------- creation


def test_python_data_becomes_float32() -> None:
    for data in (1.5, [1, 2, 3], [[1.0, 2.0], [3.0, 4.0]]):
        assert Tensor(data).dtype == np.float32


def test_dtype_argument_is_respected() -> None:
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64


def test_metadata_describes_the_array() -> None:
    x = Tensor(np.zeros((2, 3, 4)))
    assert x.shape == (2, 3, 4)
    assert x.ndim == 3
    assert x.size == 24
    assert len(x) == 2


def test_requires_grad_and_grad_exist_from_module_01() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad is True
    assert x.grad is None
    assert Tensor([1.0]).requires_grad is False


def test_tensor_function_is_the_constructor() -> None:
    x = tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float64)
    assert isinstance(x, Tensor)
    assert x.dtype == np.float64 and x.requires_grad
    np.testing.assert_array_equal(x.data, [[1, 2], [3, 4]])
    assert tensor([1, 2]).dtype == np.float32


@pytest.mark.parametrize(
    ("data", "arrived"),
    [
        (None, "NoneType None"),  # NumPy would make it NaN, silently
        ("hello", "str 'hello'"),
        (["a"], "list ['a']"),
        (np.array([1, None], dtype=object), "ndarray array([1, None], dtype=object)"),
    ],
    ids=["None", "a-string", "a-list-of-strings", "an-object-array"],
)
@pytest.mark.ungraded
def test_data_that_is_not_numbers_is_refused_naming_what_arrived(data, arrived) -> None:
    with pytest.raises(TypeError, match=rf"Tensor: expected numbers .*got {re.escape(arrived)}"):
        Tensor(data)


@pytest.mark.ungraded
def test_a_ragged_list_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"Tensor: .*nested lists must be rectangular"):
        Tensor([[1, 2], [3]])


@pytest.mark.parametrize("dtype", ["hello", object, np.str_])
@pytest.mark.ungraded
def test_a_dtype_that_is_not_numeric_is_refused(dtype) -> None:
    with pytest.raises(TypeError, match="Tensor: dtype must be a numeric or bool NumPy dtype"):
        Tensor([1.0], dtype=dtype)


@pytest.mark.parametrize("other", [None, "a", [1, None]], ids=["None", "a-string", "objects"])
def test_arithmetic_with_something_that_is_not_numbers_names_the_op(other) -> None:
    with pytest.raises(TypeError, match=r"Tensor.__add__: the other operand must be .*numbers"):
        Tensor([1.0]) + other


def test_zeros_and_ones_make_filled_float32_tensors() -> None:
    z, o = zeros(2, 3), ones(4)
    assert z.shape == (2, 3) and o.shape == (4,)
    assert z.dtype == o.dtype == np.float32
    np.testing.assert_array_equal(z.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(o.data, np.ones(4))
    assert zeros(2, dtype=np.float64).dtype == np.float64
    assert ones(2, requires_grad=True).requires_grad


def test_randn_draws_standard_normal_float32_samples() -> None:
    x = randn(200, 100)
    assert x.shape == (200, 100) and x.dtype == np.float32
    assert abs(float(x.data.mean())) < 0.02
    assert abs(float(x.data.std()) - 1.0) < 0.02
    assert randn(3, dtype=np.float64).dtype == np.float64
    assert randn(3, requires_grad=True).requires_grad


def test_zeros_ones_randn_accept_a_shape_tuple() -> None:
    assert zeros((2, 3)).shape == (2, 3)
    assert ones((2, 3)).shape == (2, 3)
    assert randn((2, 3)).shape == (2, 3)


def test_manual_seed_makes_randn_reproducible_bit_for_bit() -> None:
    manual_seed(42)
    first = randn(5, 5).data.copy()
    manual_seed(42)
    second = randn(5, 5).data
    np.testing.assert_array_equal(first, second)
    manual_seed(43)
    assert not np.array_equal(first, randn(5, 5).data)


def test_successive_randn_calls_differ() -> None:
    assert not np.array_equal(randn(4).data, randn(4).data)


def test_memory_footprint_is_size_times_itemsize() -> None:
    assert Tensor(np.zeros((1000, 1000))).memory_footprint() == 4_000_000
    assert Tensor(np.zeros((1000, 1000)), dtype=np.float64).memory_footprint() == 8_000_000
    assert Tensor(np.zeros(10), dtype=np.int64).memory_footprint() == 80
    assert Tensor(np.zeros(10), dtype=np.int8).memory_footprint() == 10


# ----------------------------------------------------------------------------- dtype rules

FLOAT_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "add": lambda x: x + x,
    "add scalar": lambda x: x + 1,
    "radd scalar": lambda x: 1 + x,
    "sub": lambda x: x - 0.5,
    "rsub scalar": lambda x: 2 - x,
    "mul scalar": lambda x: x * 0.5,
    "rmul scalar": lambda x: 0.5 * x,
    "div": lambda x: x / 3,
    "rdiv scalar": lambda x: 1 / x,
    "pow": lambda x: x**2,
    "pow float": lambda x: x**0.5,
    "rpow": lambda x: 2**x,
    "neg": lambda x: -x,
    "matmul": lambda x: x @ x.T,
    "sum": lambda x: x.sum(),
    "sum axis": lambda x: x.sum(axis=0),
    "mean": lambda x: x.mean(axis=1),
    "max": lambda x: x.max(),
    "reshape": lambda x: x.reshape(-1),
    "permute": lambda x: x.permute(1, 0),
    "transpose": lambda x: x.transpose(),
    "T": lambda x: x.T,
    "getitem": lambda x: x[1:, [0, 0]],
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "detach": lambda x: x.detach(),
}


@pytest.mark.parametrize("op", FLOAT_OPS.values(), ids=FLOAT_OPS.keys())
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_op_keeps_the_float_dtype(op, dtype, rng) -> None:
    """float32 stays float32 with Python scalars; float64 (for gradcheck) is never downcast."""
    x = Tensor(uniform(rng, (3, 4), dtype=dtype), dtype=dtype)
    assert op(x).dtype == dtype


INT_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "add": lambda x: x + x,
    "sub scalar": lambda x: x - 1,
    "rsub scalar": lambda x: 1 - x,
    "mul scalar": lambda x: x * 3,
    "rmul scalar": lambda x: 3 * x,
    "neg": lambda x: -x,
    "matmul": lambda x: x @ x,
    "sum": lambda x: x.sum(),
    "max": lambda x: x.max(axis=0),
    "reshape": lambda x: x.reshape(4),
    "T": lambda x: x.T,
    "getitem": lambda x: x[0],
}


@pytest.mark.parametrize("op", INT_OPS.values(), ids=INT_OPS.keys())
def test_integer_dtype_is_kept_by_integer_arithmetic(op) -> None:
    x = Tensor([[1, 2], [3, 4]], dtype=np.int64)
    assert op(x).dtype == np.int64


# ----------------------------------------------------------------------------- every op


@pytest.mark.parametrize("case", MODULE_01, ids=case_ids(MODULE_01))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_op_matches_its_numpy_reference(case, dtype, rng) -> None:
    """The op table of ``tinytorch.testing``: arithmetic with broadcasting and Python or
    NumPy operands on either side, matmul, reductions over every axis, shape ops,
    indexing and element-wise math — each against NumPy, keeping the float dtype."""
    assert check_forward(case, rng, dtype).dtype == dtype


# ----------------------------------------------------------------------------- arithmetic


def test_add_broadcasts_row_vector_over_matrix() -> None:
    x = Tensor([[1, 2, 3], [4, 5, 6]])
    row = Tensor([10, 20, 30])
    np.testing.assert_array_equal((x + row).data, [[11, 22, 33], [14, 25, 36]])


def test_column_plus_row_broadcasts_to_a_matrix() -> None:
    col = Tensor([[0], [10], [20]])
    row = Tensor([1, 2, 3, 4])
    out = col + row
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out.data, np.array([[0], [10], [20]]) + np.arange(1, 5))


def test_numpy_ones_times_tensor_is_a_tensor() -> None:
    out = np.ones(3) * Tensor([1.0, 2.0, 3.0])
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, 3.0])


def test_numpy_scalar_on_the_left_gives_a_tensor() -> None:
    out = np.float32(2.0) - Tensor([1.0, 2.0])
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, [1.0, 0.0])


def test_reflected_float_scalar_on_integer_tensor_is_not_truncated() -> None:
    x = Tensor([1, 2], dtype=np.int64)
    np.testing.assert_array_equal((x * 2.5).data, [2.5, 5.0])
    np.testing.assert_array_equal((2.5 * x).data, [2.5, 5.0])
    np.testing.assert_array_equal((0.5 + x).data, [1.5, 2.5])


def test_reflected_op_with_float64_array_promotes_like_the_forward_op() -> None:
    x = Tensor([1.0])
    a = np.array([1.0 + 1e-9])
    assert (a - x).dtype == (x - a).dtype
    np.testing.assert_allclose((a - x).data, [1e-9], rtol=1e-6)


def test_neg_flips_the_sign() -> None:
    np.testing.assert_array_equal((-Tensor([1.0, -2.0, 0.0])).data, [-1.0, 2.0, -0.0])


def test_arithmetic_returns_new_tensors_and_leaves_inputs_alone() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    out = a + b
    assert out is not a and out is not b
    np.testing.assert_array_equal(a.data, [1.0, 2.0])
    np.testing.assert_array_equal(b.data, [3.0, 4.0])


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (operator.add, "__add__"),
        (operator.sub, "__sub__"),
        (operator.mul, "__mul__"),
        (operator.truediv, "__truediv__"),
        (operator.pow, "__pow__"),
    ],
)
def test_elementwise_shape_mismatch_names_the_op_and_both_shapes(op, name) -> None:
    with pytest.raises(ValueError) as info:
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))
    message = str(info.value)
    assert name in message
    assert "(2, 3)" in message and "(4,)" in message


# ----------------------------------------------------------------------------- matmul


def test_matmul_method_equals_the_operator(rng) -> None:
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    np.testing.assert_array_equal(Tensor(a).matmul(Tensor(b)).data, (Tensor(a) @ Tensor(b)).data)


def test_matmul_with_numpy_array_on_either_side(rng) -> None:
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 2))
    np.testing.assert_allclose((Tensor(a) @ b.astype(np.float32)).data, a @ b, rtol=1e-5)
    out = a @ Tensor(b)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-5)


def test_matmul_inner_dimension_mismatch_names_the_op_and_both_shapes() -> None:
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    message = str(info.value)
    assert "__matmul__" in message
    assert "(2, 3)" in message and "(4, 5)" in message


def test_matmul_batch_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))
    message = str(info.value)
    assert "__matmul__" in message and "batch" in message
    assert "(2, 3, 4)" in message and "(3, 4, 5)" in message


def test_matmul_refuses_a_0d_operand() -> None:
    with pytest.raises(ValueError, match="__matmul__"):
        Tensor(2.0) @ Tensor(np.ones((2, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_loops_equals_matmul(dtype, rng) -> None:
    a = Tensor(rng.standard_normal((3, 4)), dtype=dtype)
    b = Tensor(rng.standard_normal((4, 5)), dtype=dtype)
    out = matmul_loops(a, b)
    assert out.shape == (3, 5) and out.dtype == dtype
    np.testing.assert_allclose(out.data, (a @ b).data, rtol=1e-5, atol=1e-6)


def test_matmul_loops_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError) as info:
        matmul_loops(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 2))))
    assert "matmul_loops" in str(info.value) and "(2, 3)" in str(info.value)


# ----------------------------------------------------------------------------- reductions


def test_reductions_accept_positional_axis_and_keepdims(rng) -> None:
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(Tensor(x).sum(1, True).data, x.sum(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(Tensor(x).max(0).data, x.max(0))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "argmax", "all", "any"])
def test_a_reduction_over_an_axis_the_tensor_lacks_names_op_shape_and_range(op) -> None:
    with pytest.raises(
        ValueError, match=rf"Tensor.{op}: dim=5 .* shape \(2, 3\) \(valid: -2 to 1\)"
    ):
        getattr(Tensor(np.ones((2, 3))), op)(5)


@pytest.mark.parametrize(
    ("dim", "error", "problem"),
    [
        ((0, 0), ValueError, r"dim=\(0, 0\) names an axis twice"),
        ((0, -2), ValueError, r"dim=\(0, -2\) names an axis twice"),
        (1.5, TypeError, "dim must be an int, got float 1.5"),
    ],
)
def test_reduction_axes_must_be_distinct_ints(dim, error, problem) -> None:
    with pytest.raises(error, match=rf"Tensor.sum: {problem}"):
        Tensor(np.ones((2, 3))).sum(dim)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "argmax", "all", "any"])
@pytest.mark.parametrize("dim", [0, -1])
def test_a_0d_tensor_reduces_over_its_one_axis_as_in_pytorch(op, dim) -> None:
    assert getattr(Tensor(np.float32(2.0)), op)(dim).shape == ()


def test_transpose_of_an_axis_the_tensor_lacks_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"Tensor.transpose: dim1=3 is out of range"):
        Tensor(np.ones((2, 3))).transpose(0, 3)


def test_max_of_an_empty_tensor_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        Tensor(np.zeros((0, 3))).max()


def test_argmax_returns_int64_indices(rng) -> None:
    x = rng.standard_normal((3, 5)).astype(np.float32)
    flat, rows = Tensor(x).argmax(), Tensor(x).argmax(axis=1)
    assert flat.dtype == rows.dtype == np.int64
    assert flat.item() == int(np.argmax(x))
    np.testing.assert_array_equal(rows.data, np.argmax(x, axis=1))


# ----------------------------------------------------------------------------- shape ops


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((6, 4), (6, 4)),
        (((6, 4),), (6, 4)),
        (([6, 4],), (6, 4)),
        ((-1,), (24,)),
        ((2, -1, 3), (2, 4, 3)),
        (((-1, 12),), (2, 12)),
        ((24, 1), (24, 1)),
    ],
    ids=str,
)
def test_reshape_accepts_varargs_tuples_and_minus_one(args, expected, rng) -> None:
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = Tensor(x).reshape(*args)
    assert out.shape == expected
    np.testing.assert_array_equal(out.data, x.reshape(expected))


def test_reshape_shares_data_when_possible() -> None:
    x = Tensor(np.arange(6.0))
    assert np.shares_memory(x.reshape(2, 3).data, x.data)


def test_bad_reshape_names_both_shapes() -> None:
    with pytest.raises(ValueError) as info:
        Tensor(np.zeros((2, 3, 4))).reshape(5, 5)
    message = str(info.value)
    assert "reshape" in message and "(2, 3, 4)" in message and "(5, 5)" in message


@pytest.mark.parametrize(
    "axes", [(2, 0, 1), ((2, 0, 1),), ([1, 2, 0],), (-1, 0, 1), (0, 1, 2)], ids=str
)
def test_permute_matches_numpy_transpose(axes, rng) -> None:
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    order = axes[0] if len(axes) == 1 else axes
    out = Tensor(x).permute(*axes)
    np.testing.assert_array_equal(out.data, np.transpose(x, order))


def test_permute_rejects_a_non_permutation() -> None:
    with pytest.raises(ValueError, match="permut"):
        Tensor(np.zeros((2, 3))).permute(0, 0)
    with pytest.raises(ValueError, match="permut"):
        Tensor(np.zeros((2, 3, 4))).permute(0, 1)


def test_transpose_swaps_the_last_two_axes_by_default(rng) -> None:
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(Tensor(x).transpose().data, np.swapaxes(x, -1, -2))
    np.testing.assert_array_equal(Tensor(x).transpose(0, 2).data, np.swapaxes(x, 0, 2))


def test_transpose_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="transpose"):
        Tensor([1.0, 2.0]).transpose()


def test_T_reverses_all_axes(rng) -> None:
    m = rng.standard_normal((2, 3)).astype(np.float32)
    c = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(Tensor(m).T.data, m.T)
    assert Tensor(c).T.shape == (4, 3, 2)
    np.testing.assert_array_equal(Tensor(c).T.data, c.T)


# ----------------------------------------------------------------------------- indexing


def test_tensor_indices_work_like_arrays(rng) -> None:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    rows = Tensor([2, 0, 2], dtype=np.int64)
    mask = Tensor([True, False, True], dtype=bool)
    np.testing.assert_array_equal(Tensor(x)[rows].data, x[[2, 0, 2]])
    np.testing.assert_array_equal(Tensor(x)[mask].data, x[[True, False, True]])
    np.testing.assert_array_equal(Tensor(x)[rows, 1:].data, x[[2, 0, 2], 1:])


def test_argmax_result_can_index(rng) -> None:
    x = Tensor(rng.standard_normal(5))
    assert x[x.argmax()].item() == pytest.approx(float(x.data.max()))


def test_out_of_range_index_names_the_tensor_shape() -> None:
    with pytest.raises(IndexError) as info:
        Tensor(np.zeros((3, 4)))[5]
    assert "__getitem__" in str(info.value) and "(3, 4)" in str(info.value)


# ----------------------------------------------------------------------------- element-wise math


# ----------------------------------------------------------------------------- conversion


def test_item_returns_a_python_scalar() -> None:
    value = Tensor([[2.5]]).item()
    assert isinstance(value, float) and value == 2.5
    assert Tensor([3.0]).sum().item() == 3.0
    assert isinstance(Tensor([7], dtype=np.int64).item(), int)


def test_item_on_many_elements_says_what_to_do() -> None:
    with pytest.raises(ValueError) as info:
        Tensor([1.0, 2.0]).item()
    assert "item" in str(info.value) and "(2,)" in str(info.value)


def test_numpy_returns_the_shared_array() -> None:
    x = Tensor([1.0, 2.0])
    array = x.numpy()
    assert isinstance(array, np.ndarray)
    array[0] = 9.0
    assert x.data[0] == 9.0


def test_zero_dim_results_are_still_ndarrays() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    for out in (a @ b, a.sum() * 2, -a.sum(), a.sum().exp()):
        assert isinstance(out.numpy(), np.ndarray)


def test_detach_shares_data_but_not_the_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert y.requires_grad is False and y.grad_fn is None
    d = x.detach()
    assert np.shares_memory(d.data, x.data) and not d.requires_grad


# ----------------------------------------------------------------------------- dormant gradients


def test_backward_never_silently_does_nothing(autograd_mode: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    if autograd_mode == "dormant":
        with pytest.raises(RuntimeError, match=r"backward\(\) is dormant.* in Module 05"):
            y.backward()
    else:
        y.backward()
        np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_ops_record_a_graph_only_when_autograd_is_active(autograd_mode: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    active = autograd_mode == "active"
    assert y.requires_grad is active
    assert (y.grad_fn is not None) is active
    assert (Tensor([1.0]) * 3).grad_fn is None  # no input needs a gradient
