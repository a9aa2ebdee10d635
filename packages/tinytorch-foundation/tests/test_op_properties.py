"""Properties of every public op of Modules 01–07, for any shape, value and dtype.

The op table (``tinytorch.testing``) checks each op on hand-picked shapes; here hypothesis
draws them: 0-d tensors, empty and size-1 axes, broadcasting pairs, every axis, float32
and float64 (and integers where an op takes them). For each op three things hold:

- its forward matches NumPy (float64 reference; float32 within 1e-5),
- its gradient matches central finite differences in float64,
- a bad combination (shapes that do not fit, an axis that does not exist, a bad dtype)
  raises ValueError, TypeError or IndexError naming the op.

The last test insists that every op of the table has a property here. ``HYPOTHESIS_PROFILE``
picks how hard hypothesis looks (``ci`` by default; ``nox -s hypothesis`` runs ``thorough``).
"""

from __future__ import annotations

import math
import operator
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core import Tensor, enable_autograd
from tinytorch.core.tensor import flatten
from tinytorch.nn import activations, losses
from tinytorch.testing import (
    ACTIVATION_REFERENCES,
    AWAY_FROM_ZERO,
    DISTINCT,
    POSITIVE,
    PROBABILITY,
    REAL,
    REDUCTIONS,
    check_gradients,
    check_values,
    np_bce_with_logits,
    np_binary_cross_entropy,
    np_cross_entropy,
    np_log_softmax,
    np_mse_loss,
    np_softmax,
    op_cases,
)
from tinytorch.testing_strategies import (
    FLOAT_DTYPES,
    INT_DTYPES,
    OpProperties,
    arrays_in,
    axes_of,
    axis_of,
    bad_axis,
    broadcasting_shapes,
    clashing_shapes,
    finite_arrays,
    int_arrays,
    reshapes,
    shapes,
)
from tinytorch.training.trainer import checkpoint

properties = OpProperties()
float_dtypes = st.sampled_from(FLOAT_DTYPES)
any_dtypes = st.sampled_from(FLOAT_DTYPES + INT_DTYPES)  # for ops that only move numbers
reductions = st.sampled_from(REDUCTIONS)


@pytest.fixture(autouse=True)
def _autograd_on() -> None:
    enable_autograd()


def names(op: str, *shapes: tuple) -> str:
    """A pattern for an error message that names ``op`` and then every shape given."""
    return re.escape(op) + "".join(f".*{re.escape(str(s))}" for s in shapes)


# ========================================================================== Module 01 · Tensor

BINARY = {
    "add": (Tensor.__add__, operator.add),
    "sub": (Tensor.__sub__, operator.sub),
    "mul": (Tensor.__mul__, operator.mul),
    "truediv": (Tensor.__truediv__, operator.truediv),
    "pow": (Tensor.__pow__, operator.pow),
}
binary_ops = pytest.mark.parametrize("name", BINARY)


@properties.of(*(op for op, _ in BINARY.values()))
@binary_ops
@given(data=st.data(), dtype=float_dtypes)
def test_binary_op_broadcasts_like_numpy(name, data, dtype) -> None:
    shape_a, shape_b = data.draw(broadcasting_shapes())
    a, b = data.draw(arrays_in(POSITIVE, shape_a)), data.draw(arrays_in(POSITIVE, shape_b))
    fn = BINARY[name][1]
    out = fn(Tensor(a, dtype=dtype), Tensor(b, dtype=dtype))
    assert out.dtype == dtype
    check_values(name, out, fn(a, b), dtype)


@pytest.mark.parametrize("name", ["add", "sub", "mul"])
@given(data=st.data(), dtypes=st.tuples(*[st.sampled_from(INT_DTYPES + FLOAT_DTYPES)] * 2))
def test_binary_op_on_integers_promotes_like_numpy(name, data, dtypes) -> None:
    shape_a, shape_b = data.draw(broadcasting_shapes())
    a, b = data.draw(int_arrays(shape_a)), data.draw(int_arrays(shape_b))
    fn = BINARY[name][1]
    out = fn(Tensor(a, dtype=dtypes[0]), Tensor(b, dtype=dtypes[1]))
    assert out.dtype == np.result_type(*dtypes)
    check_values(name, out, fn(a, b), out.dtype)


@binary_ops
@given(data=st.data(), scalar=st.floats(0.5, 2.0) | st.integers(1, 3), left=st.booleans())
def test_binary_op_with_a_python_number_keeps_the_tensors_dtype(name, data, scalar, left) -> None:
    x = data.draw(arrays_in(POSITIVE, data.draw(shapes())))
    fn = BINARY[name][1]
    out = fn(scalar, Tensor(x)) if left else fn(Tensor(x), scalar)
    assert out.dtype == np.float32
    check_values(name, out, fn(scalar, x) if left else fn(x, scalar), np.float32)


@binary_ops
@given(data=st.data())
def test_binary_op_with_a_list_on_either_side_works_like_an_array(name, data) -> None:
    shape_a, shape_b = data.draw(broadcasting_shapes(min_side=1))  # [] would lose (0, 0)
    a, b = data.draw(arrays_in(POSITIVE, shape_a)), data.draw(arrays_in(POSITIVE, shape_b))
    fn = BINARY[name][1]
    check_values(name, fn(Tensor(a), b.tolist()), fn(a, b), np.float32)
    check_values(name, fn(b.tolist(), Tensor(a)), fn(b, a), np.float32)


@binary_ops
@given(data=st.data())
def test_binary_op_gradient_matches_finite_differences(name, data) -> None:
    shape_a, shape_b = data.draw(broadcasting_shapes())
    a, b = data.draw(arrays_in(POSITIVE, shape_a)), data.draw(arrays_in(POSITIVE, shape_b))
    check_gradients(BINARY[name][1], a, b)


@binary_ops
@given(shapes=clashing_shapes())
def test_binary_op_refuses_shapes_that_do_not_broadcast(name, shapes) -> None:
    a, b = (Tensor(np.ones(s)) for s in shapes)
    with pytest.raises(ValueError, match=names(f"Tensor.__{name}__", *shapes)):
        BINARY[name][1](a, b)


@binary_ops
@given(shape=shapes(), text=st.sampled_from(["a", "3", ""]), left=st.booleans())
def test_binary_op_refuses_text_naming_the_op_and_the_text(name, shape, text, left) -> None:
    x = Tensor(np.ones(shape))
    with pytest.raises(TypeError, match=rf"Tensor\.__r?{name}__.*str {re.escape(repr(text))}"):
        BINARY[name][1](text, x) if left else BINARY[name][1](x, text)


@given(shapes=broadcasting_shapes())
def test_bool_tensors_refuse_subtraction_and_negation(shapes) -> None:
    a, b = (Tensor(np.ones(s, dtype=bool), dtype=bool) for s in shapes)
    with pytest.raises(TypeError, match=names("Tensor.__sub__", "bool", shapes[0])):
        a - b
    with pytest.raises(TypeError, match=names("Tensor.__neg__", shapes[0])):
        _ = -a


@given(shapes=broadcasting_shapes(min_side=1), exponent=st.integers(-3, -1))
def test_integers_refuse_negative_integer_powers(shapes, exponent) -> None:
    base = Tensor(np.full(shapes[0], 2), dtype=np.int64)
    with pytest.raises(ValueError, match=names("Tensor.__pow__", "int64", shapes[0])):
        base ** Tensor(np.full(shapes[1], exponent), dtype=np.int64)


UNARY = {
    "__neg__": (REAL, np.negative),
    "exp": (REAL, np.exp),
    "log": (POSITIVE, np.log),
    "sqrt": (POSITIVE, np.sqrt),
}
unary_ops = pytest.mark.parametrize("name", UNARY)


@properties.of(Tensor.__neg__, Tensor.exp, Tensor.log, Tensor.sqrt)
@unary_ops
@given(data=st.data(), dtype=float_dtypes)
def test_elementwise_op_matches_numpy_and_its_gradient(name, data, dtype) -> None:
    domain, reference = UNARY[name]
    x = data.draw(arrays_in(domain, data.draw(shapes())))
    op = getattr(Tensor, name)
    out = op(Tensor(x, dtype=dtype))
    assert out.dtype == dtype
    check_values(name, out, reference(x), dtype)
    check_gradients(op, x)


@unary_ops
@given(data=st.data(), dtype=st.sampled_from(INT_DTYPES))
def test_elementwise_op_of_integers_gives_numpys_dtype(name, data, dtype) -> None:
    x = data.draw(int_arrays(data.draw(shapes()), 1, 5)).astype(dtype)
    expected = UNARY[name][1](x)
    out = getattr(Tensor, name)(Tensor(x, dtype=dtype))
    assert out.dtype == expected.dtype
    check_values(name, out, expected, out.dtype)


# matmul: NumPy's gufunc signature, where a 1-D operand loses its optional axis
matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2, min_side=0, max_side=4
).map(lambda shapes: shapes.input_shapes)


@properties.of(Tensor.__matmul__)
@given(data=st.data(), dtype=st.sampled_from(FLOAT_DTYPES + INT_DTYPES))
def test_matmul_matches_numpy_for_vectors_matrices_and_batches(data, dtype) -> None:
    shape_a, shape_b = data.draw(matmul_shapes)
    a, b = (data.draw(arrays_in(REAL, s)) for s in (shape_a, shape_b))
    if np.dtype(dtype).kind == "i":
        a, b = np.round(a * 3), np.round(b * 3)
    out = Tensor(a, dtype=dtype) @ Tensor(b, dtype=dtype)
    assert out.dtype == dtype
    check_values("matmul", out, a @ b, dtype)


@given(data=st.data())
def test_matmul_gradient_matches_finite_differences(data) -> None:
    shape_a, shape_b = data.draw(matmul_shapes)
    check_gradients(operator.matmul, *(data.draw(arrays_in(REAL, s)) for s in (shape_a, shape_b)))


@given(data=st.data())
def test_matmul_refuses_inner_dimensions_that_differ(data) -> None:
    shape_a, shape_b = data.draw(matmul_shapes.filter(lambda s: len(s[1]) > 0))
    inner = -1 if len(shape_b) == 1 else -2
    wrong = shape_b[inner] + data.draw(st.integers(1, 3))
    shape_b = (*shape_b[:inner], wrong, *shape_b[inner:][1:])
    with pytest.raises(ValueError, match=names("Tensor.__matmul__", shape_a, shape_b)):
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))


@given(shape=shapes(), zero_d_left=st.booleans())
def test_matmul_refuses_a_0d_operand(shape, zero_d_left) -> None:
    a, b = Tensor(2.0), Tensor(np.ones(shape))
    with pytest.raises(ValueError, match=re.escape("Tensor.__matmul__")):
        (a @ b) if zero_d_left else (b @ a)


REDUCTIONS_01 = {
    "sum": (Tensor.sum, np.sum, REAL),
    "mean": (Tensor.mean, np.mean, REAL),
    "max": (Tensor.max, np.max, DISTINCT),  # distinct: ties share the gradient
}
reduction_ops = pytest.mark.parametrize("name", REDUCTIONS_01)


@st.composite
def reduction_inputs(draw, domain, min_side=0, dtype=np.float64):
    """(array, axis, keepdims, numpy_spelling): an input and how to reduce it."""
    x = draw(arrays_in(domain, draw(shapes(min_side=min_side))))
    return x, draw(axes_of(x.ndim)), draw(st.booleans()), draw(st.booleans())


def reduce(op, x, axis, keepdims, numpy_spelling):
    if numpy_spelling:
        return op(x, axis=axis, keepdims=keepdims)
    return op(x, dim=list(axis) if isinstance(axis, tuple) else axis, keepdim=keepdims)


@properties.of(Tensor.sum, Tensor.mean, Tensor.max)
@reduction_ops
@given(data=st.data(), dtype=float_dtypes)
def test_reduction_matches_numpy_over_any_axes(name, data, dtype) -> None:
    op, reference, domain = REDUCTIONS_01[name]
    # the mean of nothing is NaN with a warning in NumPy and PyTorch: non-empty here
    x, axis, keepdims, spelling = data.draw(reduction_inputs(domain, int(name != "sum")))
    out = reduce(op, Tensor(x, dtype=dtype), axis, keepdims, spelling)
    assert out.dtype == dtype
    check_values(name, out, reference(x, axis=axis, keepdims=keepdims), dtype)


@pytest.mark.parametrize("name", ["sum", "max"])
@given(data=st.data(), dtype=st.sampled_from(INT_DTYPES))
def test_reduction_of_integers_stays_integer(name, data, dtype) -> None:
    op, reference, _ = REDUCTIONS_01[name]
    x = data.draw(int_arrays(data.draw(shapes(min_side=1))))
    axis = data.draw(axes_of(x.ndim))
    out = op(Tensor(x, dtype=dtype), axis=axis)
    assert out.dtype.kind == "i"
    check_values(name, out, reference(x.astype(dtype), axis=axis), out.dtype)


@reduction_ops
@given(data=st.data())
def test_reduction_gradient_matches_finite_differences(name, data) -> None:
    op, _, domain = REDUCTIONS_01[name]
    x, axis, keepdims, spelling = data.draw(reduction_inputs(domain, int(name != "sum")))
    check_gradients(lambda t: reduce(op, t, axis, keepdims, spelling), x)


@given(shape=shapes(min_dims=1).filter(lambda s: 0 in s), data=st.data())
def test_max_of_an_empty_tensor_is_refused(shape, data) -> None:
    with pytest.raises(ValueError, match=names("Tensor.max", shape)):
        Tensor(np.zeros(shape)).max(axis=data.draw(axes_of(len(shape))))


@pytest.mark.xfail(
    strict=True,
    reason="Tensor.sum/mean/max hand an out-of-range axis to NumPy, whose AxisError names "
    "neither the op nor the axis it refused",
)
@reduction_ops
@given(data=st.data())
def test_reduction_refuses_an_axis_the_tensor_does_not_have(name, data) -> None:
    shape = data.draw(shapes())
    axis = data.draw(bad_axis(len(shape)))
    with pytest.raises((ValueError, IndexError), match=names(f"Tensor.{name}", axis)):
        getattr(Tensor(np.ones(shape)), name)(axis=axis)


@st.composite
def reshape_inputs(draw):
    x = draw(arrays_in(REAL, draw(shapes())))
    return x, draw(reshapes(x.shape))


@properties.of(Tensor.reshape)
@given(case=reshape_inputs(), method=st.sampled_from(["reshape", "view"]), dtype=any_dtypes)
def test_reshape_and_view_keep_the_elements_in_order(case, method, dtype) -> None:
    x, shape = case
    out = getattr(Tensor(x, dtype=dtype), method)(*shape)
    assert out.dtype == dtype
    check_values(method, out, x.astype(dtype).reshape(shape), dtype)


@given(case=reshape_inputs())
def test_reshape_gradient_matches_finite_differences(case) -> None:
    x, shape = case
    check_gradients(lambda t: t.reshape(shape), x)


@given(data=st.data())
def test_reshape_refuses_a_shape_with_another_element_count(data) -> None:
    shape = data.draw(shapes())
    target = data.draw(shapes(min_side=1).filter(lambda s: np.prod(s) != np.prod(shape)))
    with pytest.raises(ValueError, match=names("Tensor.reshape", shape, target)):
        Tensor(np.ones(shape)).reshape(target)


@st.composite
def flatten_inputs(draw):
    x = draw(arrays_in(REAL, draw(shapes(min_dims=1))))
    start = draw(axis_of(x.ndim))
    end = draw(axis_of(x.ndim).filter(lambda e: e % x.ndim >= start % x.ndim))
    return x, start, end


@given(case=flatten_inputs(), functional=st.booleans())
def test_flatten_merges_the_axes_from_start_to_end(case, functional) -> None:
    x, start, end = case
    out = flatten(Tensor(x), start, end) if functional else Tensor(x).flatten(start, end)
    s, e = start % x.ndim, end % x.ndim
    merged = (*x.shape[:s], math.prod(x.shape[s : e + 1]), *x.shape[e + 1 :])
    check_values("flatten", out, x.reshape(merged), np.float32)


@given(case=flatten_inputs().filter(lambda c: c[1] % c[0].ndim != c[2] % c[0].ndim))
def test_flatten_refuses_a_start_after_its_end(case) -> None:
    x, start, end = case  # two different axes, start before end: swapped, they are refused
    with pytest.raises(ValueError, match=names("Tensor.flatten", x.shape)):
        Tensor(x).flatten(end, start)


@st.composite
def permute_inputs(draw):
    x = draw(arrays_in(REAL, draw(shapes())))
    axes = draw(st.permutations(range(x.ndim)))
    negative = [draw(st.booleans()) for _ in axes]
    return x, tuple(a - x.ndim if neg else a for a, neg in zip(axes, negative))


@properties.of(Tensor.permute)
@given(case=permute_inputs(), as_tuple=st.booleans(), dtype=any_dtypes)
def test_permute_reorders_axes_like_numpy_transpose(case, as_tuple, dtype) -> None:
    x, axes = case
    t = Tensor(x, dtype=dtype)
    out = t.permute(axes) if as_tuple else t.permute(*axes)
    assert out.dtype == dtype
    check_values("permute", out, np.transpose(x.astype(dtype), axes), dtype)


@given(case=permute_inputs())
def test_permute_gradient_matches_finite_differences(case) -> None:
    x, axes = case
    check_gradients(lambda t: t.permute(*axes), x)


@given(data=st.data())
def test_transpose_swaps_two_axes_and_T_reverses_them(data) -> None:
    x = data.draw(arrays_in(REAL, data.draw(shapes(min_dims=2))))
    d0, d1 = data.draw(axis_of(x.ndim)), data.draw(axis_of(x.ndim))
    check_values("transpose", Tensor(x).transpose(d0, d1), np.swapaxes(x, d0, d1), np.float32)
    check_values("T", Tensor(x).T, x.T, np.float32)


@given(data=st.data())
def test_permute_refuses_axes_that_are_not_a_permutation(data) -> None:
    shape = data.draw(shapes(min_dims=1))
    axes = data.draw(
        st.lists(st.integers(0, len(shape) - 1), max_size=len(shape) + 1).filter(
            lambda a: sorted(a) != list(range(len(shape)))
        )
    )
    with pytest.raises(ValueError, match=names("Tensor.permute", shape)):
        Tensor(np.ones(shape)).permute(*axes)


@properties.of(Tensor.to)
@given(data=st.data(), source=float_dtypes, target=st.sampled_from(FLOAT_DTYPES + INT_DTYPES))
def test_to_casts_like_astype_and_a_float_cast_passes_the_gradient_back(data, source, target):
    x = data.draw(arrays_in(REAL, data.draw(shapes())))
    t = Tensor(x, requires_grad=True, dtype=source)
    out = t.to(target)
    assert out.dtype == target and out.requires_grad == (np.dtype(target).kind == "f")
    check_values("to", out, x.astype(source).astype(target), target)
    if out.requires_grad:
        out.backward(np.ones(out.shape))
        assert t.grad.dtype == source
        check_values("to backward", t.grad, np.ones(x.shape), source)


@given(bad=st.sampled_from(["hello", object(), 3.5, [np.float32]]))
def test_to_refuses_what_is_neither_a_dtype_nor_a_device(bad) -> None:
    with pytest.raises((TypeError, ValueError), match=re.escape("Tensor.to")):
        Tensor([1.0, 2.0]).to(dtype=bad)


@st.composite
def index_inputs(draw):
    """An array and an index into it: basic (ints, slices, None, ...), integer arrays,
    or a boolean mask, maybe passed as a Tensor."""
    x = draw(arrays_in(REAL, draw(shapes(min_dims=1))))
    kinds = [hnp.basic_indices(x.shape, allow_newaxis=True)]
    if all(x.shape):
        kinds.append(hnp.integer_array_indices(x.shape))
    kinds.append(hnp.arrays(np.bool_, x.shape[: draw(st.integers(1, x.ndim))]))
    index = draw(st.one_of(kinds))
    as_tensor = isinstance(index, np.ndarray) and draw(st.booleans())
    return x, index, Tensor(index, dtype=index.dtype) if as_tensor else index


@properties.of(Tensor.__getitem__)
@given(case=index_inputs(), dtype=any_dtypes)
def test_indexing_selects_what_numpy_selects(case, dtype) -> None:
    x, numpy_index, index = case
    out = Tensor(x, dtype=dtype)[index]
    assert out.dtype == dtype
    check_values("getitem", out, x.astype(dtype)[numpy_index], dtype)


@given(case=index_inputs())
def test_indexing_gradient_matches_finite_differences(case) -> None:
    x, _, index = case
    check_gradients(lambda t: t[index], x)


@given(data=st.data())
def test_indexing_refuses_an_index_past_the_end(data) -> None:
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(0, len(shape) - 1))
    index = (slice(None),) * axis + (shape[axis] + data.draw(st.integers(0, 2)),)
    with pytest.raises(IndexError, match=names("Tensor.__getitem__", shape)):
        Tensor(np.ones(shape))[index]


# ========================================================================== Module 02


UNARY_ACTIVATIONS = {name: getattr(activations, name) for name in ACTIVATION_REFERENCES}


@properties.of(*UNARY_ACTIVATIONS.values())
@pytest.mark.parametrize("name", UNARY_ACTIVATIONS)
@given(data=st.data(), dtype=float_dtypes)
def test_activation_matches_numpy_and_its_gradient(name, data, dtype) -> None:
    x = data.draw(arrays_in(AWAY_FROM_ZERO, data.draw(shapes())))  # off ReLU's kink
    op = UNARY_ACTIVATIONS[name]
    out = op(Tensor(x, dtype=dtype))
    assert out.dtype == dtype
    check_values(name, out, ACTIVATION_REFERENCES[name](x), dtype)
    check_gradients(op, x)


SOFTMAXES = {"softmax": np_softmax, "log_softmax": np_log_softmax}


@st.composite
def softmax_inputs(draw, min_side=1, empty_dim=False):
    """(x, dim): any x of at least one axis, or one whose ``dim`` axis is empty."""
    shape = list(draw(shapes(min_dims=1, min_side=min_side)))
    dim = draw(axis_of(len(shape)))
    if empty_dim:
        shape[dim] = 0
    return draw(arrays_in(REAL, tuple(shape))), dim


@properties.of(activations.softmax, activations.log_softmax)
@pytest.mark.parametrize("name", SOFTMAXES)
@given(case=softmax_inputs(), dtype=float_dtypes)
def test_softmax_matches_numpy_along_any_dim(name, case, dtype) -> None:
    x, dim = case
    out = getattr(activations, name)(Tensor(x, dtype=dtype), dim=dim)
    check_values(name, out, SOFTMAXES[name](x, axis=dim), dtype)
    probabilities = out.data if name == "softmax" else np.exp(out.data)
    np.testing.assert_allclose(probabilities.sum(axis=dim), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", SOFTMAXES)
@given(case=softmax_inputs())
def test_softmax_gradient_matches_finite_differences(name, case) -> None:
    x, dim = case
    check_gradients(lambda t: getattr(activations, name)(t, dim=dim), x)


@pytest.mark.parametrize("name", SOFTMAXES)
@given(case=softmax_inputs(min_side=0).filter(lambda c: 0 in c[0].shape and c[0].shape[c[1]]))
def test_softmax_of_an_empty_tensor_along_a_full_dim_is_empty(name, case) -> None:
    x, dim = case
    check_values(name, getattr(activations, name)(Tensor(x), dim=dim), x, np.float32)


@pytest.mark.xfail(
    strict=True,
    reason="softmax/log_softmax take the max over an empty dim: NumPy's bare 'zero-size "
    "array to reduction operation maximum' error, where PyTorch returns an empty tensor",
)
@pytest.mark.parametrize("name", SOFTMAXES)
@given(case=softmax_inputs(empty_dim=True))
def test_softmax_along_an_empty_dim_is_empty(name, case) -> None:
    x, dim = case
    check_values(name, getattr(activations, name)(Tensor(x), dim=dim), x, np.float32)


@pytest.mark.xfail(
    strict=True,
    reason="softmax/log_softmax hand an out-of-range dim to NumPy, whose AxisError names "
    "neither the function nor the dim",
)
@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_refuses_a_dim_the_tensor_does_not_have(name, data) -> None:
    shape = data.draw(shapes(min_dims=1, min_side=1))
    dim = data.draw(bad_axis(len(shape)))
    with pytest.raises((ValueError, IndexError), match=names(name, f"dim={dim}")):
        getattr(activations, name)(Tensor(np.ones(shape)), dim=dim)


@st.composite
def extreme_inputs(draw, min_dims=0):
    """(x, dtype): any finite values of float32 or float64, up to the largest it holds."""
    dtype = draw(float_dtypes)
    return draw(finite_arrays(dtype, draw(shapes(min_dims=min_dims, min_side=1)))), dtype


@given(case=extreme_inputs())
def test_sigmoid_and_tanh_stay_in_range_for_any_finite_input(case) -> None:
    values, dtype = case
    x = Tensor(values, dtype=dtype)
    s, t = activations.sigmoid(x).data, activations.tanh(x).data
    assert ((s >= 0) & (s <= 1)).all() and ((t >= -1) & (t <= 1)).all()


@given(case=extreme_inputs(min_dims=1), data=st.data())
def test_softmax_is_a_distribution_for_any_finite_input(case, data) -> None:
    x, dtype = case
    dim = data.draw(axis_of(x.ndim))
    p = activations.softmax(Tensor(x, dtype=dtype), dim=dim).data
    log_p = activations.log_softmax(Tensor(x, dtype=dtype), dim=dim).data
    assert ((p >= 0) & (p <= 1)).all() and not np.isnan(log_p).any() and (log_p <= 0).all()
    np.testing.assert_allclose(p.sum(axis=dim), 1.0, rtol=1e-5)


@given(case=extreme_inputs(min_dims=2).filter(lambda c: c[0].ndim == 2), data=st.data())
def test_classification_losses_are_never_nan_for_any_finite_logits(case, data) -> None:
    logits, dtype = case
    targets = data.draw(int_arrays(logits.shape[:1], 0, logits.shape[1] - 1))
    labels = data.draw(hnp.arrays(np.float64, logits.shape, elements=st.sampled_from([0.0, 1.0])))
    for loss in (
        losses.cross_entropy(Tensor(logits, dtype=dtype), targets, "none"),
        losses.binary_cross_entropy_with_logits(Tensor(logits, dtype=dtype), labels, "none"),
    ):
        assert not np.isnan(loss.data).any() and (loss.data >= 0).all()


# ========================================================================== Module 04 · Losses


@st.composite
def same_shape_loss_inputs(draw, domain, target_domain):
    """(prediction, target, reduction) for the element-wise losses."""
    shape = draw(shapes(min_side=1))
    prediction, target = draw(arrays_in(domain, shape)), draw(arrays_in(target_domain, shape))
    return prediction, target, draw(reductions)


# name -> (prediction's domain, target's domain (soft labels for BCE), reference)
ELEMENTWISE_LOSSES = {
    "mse_loss": (REAL, REAL, np_mse_loss),
    "binary_cross_entropy": (PROBABILITY, PROBABILITY, np_binary_cross_entropy),
    "binary_cross_entropy_with_logits": (REAL, PROBABILITY, np_bce_with_logits),
}
elementwise_losses = pytest.mark.parametrize("name", ELEMENTWISE_LOSSES)


@properties.of(*(getattr(losses, name) for name in ELEMENTWISE_LOSSES))
@elementwise_losses
@given(data=st.data(), dtype=float_dtypes)
def test_elementwise_loss_matches_numpy_for_any_shape_and_reduction(name, data, dtype) -> None:
    domain, target, reference = ELEMENTWISE_LOSSES[name]
    p, y, reduction = data.draw(same_shape_loss_inputs(domain, target))
    out = getattr(losses, name)(Tensor(p, dtype=dtype), y, reduction)
    check_values(name, out, reference(p, y, reduction), dtype)


@elementwise_losses
@given(data=st.data())
def test_elementwise_loss_gradient_matches_finite_differences(name, data) -> None:
    domain, target, _ = ELEMENTWISE_LOSSES[name]
    p, y, reduction = data.draw(same_shape_loss_inputs(domain, target))
    check_gradients(lambda t: getattr(losses, name)(t, y, reduction), p)


@elementwise_losses
@given(shapes=st.tuples(shapes(min_side=1), shapes()).filter(lambda s: s[0] != s[1]))
def test_elementwise_loss_refuses_a_target_of_another_shape(name, shapes) -> None:
    p = np.full(shapes[0], 0.5)  # a non-empty batch: an empty one has its own error
    with pytest.raises(ValueError, match=names(name, *shapes)):
        getattr(losses, name)(Tensor(p), np.zeros(shapes[1]))


@st.composite
def cross_entropy_inputs(draw):
    """(logits (N, C), targets (N,), reduction); an empty batch only without a mean."""
    reduction = draw(reductions)
    n = draw(st.integers(int(reduction == "mean"), 5))
    c = draw(st.integers(1, 5))
    logits = draw(arrays_in(REAL, (n, c)))
    return logits, draw(int_arrays((n,), 0, c - 1)), reduction


@properties.of(losses.cross_entropy)
@given(case=cross_entropy_inputs(), dtype=float_dtypes)
def test_cross_entropy_matches_numpy_for_any_batch_and_classes(case, dtype) -> None:
    logits, targets, reduction = case
    out = losses.cross_entropy(Tensor(logits, dtype=dtype), targets, reduction)
    check_values("cross_entropy", out, np_cross_entropy(logits, targets, reduction), dtype)


@given(case=cross_entropy_inputs())
def test_cross_entropy_gradient_matches_finite_differences(case) -> None:
    logits, targets, reduction = case
    check_gradients(lambda t: losses.cross_entropy(t, targets, reduction), logits)


@given(n=st.integers(1, 4), c=st.integers(1, 4), data=st.data())
def test_cross_entropy_refuses_a_class_outside_the_logits(n, c, data) -> None:
    targets = data.draw(int_arrays((n,), 0, c - 1))
    targets[data.draw(st.integers(0, n - 1))] = data.draw(st.sampled_from([-1, c, c + 3]))
    with pytest.raises(ValueError, match=names("cross_entropy", f"[0, {c})")):
        losses.cross_entropy(Tensor(np.zeros((n, c))), targets)


@given(n=st.integers(1, 4), c=st.integers(1, 4))
def test_cross_entropy_refuses_float_targets(n, c) -> None:
    with pytest.raises(TypeError, match=names("cross_entropy", (n,))):
        losses.cross_entropy(Tensor(np.zeros((n, c))), np.zeros(n))


@given(p=arrays_in(REAL, (3,)).filter(lambda p: p.min() < 0 or p.max() > 1))
def test_binary_cross_entropy_refuses_what_is_not_a_probability(p) -> None:
    with pytest.raises(ValueError, match=re.escape("binary_cross_entropy")):
        losses.binary_cross_entropy(Tensor(p, dtype=np.float64), np.zeros(3))


# ========================================================================== Module 07


@properties.of(checkpoint)
@given(data=st.data())
def test_checkpoint_gives_the_segments_values_and_gradients(data) -> None:
    x = data.draw(arrays_in(REAL, data.draw(shapes())))

    def segment(t: Tensor) -> Tensor:
        return (t * t).exp() - t

    t = Tensor(x, requires_grad=True, dtype=np.float64)
    check_values("checkpoint", checkpoint(segment, t), np.exp(x * x) - x)
    check_gradients(lambda t: checkpoint(segment, t), x)


# ========================================================================== coverage


def test_every_public_op_of_modules_01_to_07_has_properties() -> None:
    assert properties.missing(op_cases(range(1, 8))) == []
