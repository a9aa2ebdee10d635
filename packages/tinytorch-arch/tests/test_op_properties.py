"""Properties of every public op of Modules 08–13, for any shape, value and dtype.

The architecture tier's rows of the op table (``tinytorch.vision.op_cases``,
``tinytorch.text.op_cases``) fix a few shapes; here hypothesis draws them: batches of
one or none, kernels as large as the padded image, strides and paddings per axis,
batched attention heads that broadcast, masks, and LayerNorm over one or several axes.
For each op: the forward matches NumPy, the gradient matches central finite differences
in float64, and a bad combination raises an error naming the op. The last test insists
that every op of this tier's rows has a property here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core import Tensor, enable_autograd
from tinytorch.testing import DISTINCT, REAL, check_gradients, check_values, op_case, op_cases
from tinytorch.testing_strategies import (
    FLOAT_DTYPES,
    MAX_SIDE,
    OpProperties,
    arrays_in,
    int_arrays,
    shapes,
)
from tinytorch.text.attention import scaled_dot_product_attention
from tinytorch.text.embeddings import Embedding
from tinytorch.text.op_cases import np_attention, np_layer_norm
from tinytorch.text.transformers import LayerNorm
from tinytorch.vision.op_cases import np_conv2d, np_pool2d
from tinytorch.vision.spatial import avg_pool2d, conv2d, max_pool2d

properties = OpProperties()
float_dtypes = st.sampled_from(FLOAT_DTYPES)
sides = st.integers(1, MAX_SIDE)


@pytest.fixture(autouse=True)
def _autograd_on() -> None:
    enable_autograd()


# ========================================================================== Module 09 · Spatial


@st.composite
def conv_inputs(draw, bias: bool | None = None):
    """(x, weight, bias or None (drawn unless ``bias`` says), stride, padding): any
    geometry whose kernel fits in the padded image."""
    batch, c_in, c_out = draw(st.integers(0, 2)), draw(sides), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    kernel = (draw(sides), draw(sides))
    image = [draw(st.integers(max(1, k - 2 * p), 6)) for k, p in zip(kernel, padding)]
    x = draw(arrays_in(REAL, (batch, c_in, *image)))
    weight = draw(arrays_in(REAL, (c_out, c_in, *kernel)))
    with_bias = draw(st.booleans()) if bias is None else bias
    b = draw(arrays_in(REAL, (c_out,))) if with_bias else None
    settings = [s if s[0] != s[1] or draw(st.booleans()) else s[0] for s in (stride, padding)]
    return x, weight, b, *settings


def conv(x, weight, bias, stride, padding):
    return conv2d(x, weight, bias, stride=stride, padding=padding)


@properties.of(conv2d)
@given(case=conv_inputs(), dtype=float_dtypes)
def test_conv2d_matches_numpy_for_any_geometry(case, dtype) -> None:
    x, weight, bias, stride, padding = case
    tensors = [None if a is None else Tensor(a, dtype=dtype) for a in (x, weight, bias)]
    out = conv(*tensors, stride, padding)
    expected = np_conv2d(x, weight, bias, stride=stride, padding=padding)
    check_values("conv2d", out, expected, dtype)


@given(case=conv_inputs(bias=True))
def test_conv2d_gradient_matches_finite_differences(case) -> None:
    x, weight, bias, stride, padding = case
    check_gradients(lambda *t: conv(*t, stride, padding), x, weight, bias)


@given(case=conv_inputs(bias=False), extra=st.integers(1, 2))
def test_conv2d_refuses_a_weight_for_other_channels(case, extra) -> None:
    x, weight, _, stride, padding = case
    weight = np.ones((weight.shape[0], weight.shape[1] + extra, *weight.shape[2:]))
    with pytest.raises(ValueError, match=re.escape("conv2d") + ".*channels"):
        conv(Tensor(x), Tensor(weight), None, stride, padding)


@given(case=conv_inputs(bias=False), padding=st.integers(0, 1))
def test_conv2d_refuses_a_kernel_larger_than_the_padded_image(case, padding) -> None:
    x, weight, _, stride, _ = case
    too_big = x.shape[2] + 2 * padding + 1
    weight = np.ones((*weight.shape[:2], too_big, weight.shape[3]))
    with pytest.raises(ValueError, match=re.escape("conv2d") + ".*larger than the padded"):
        conv(Tensor(x), Tensor(weight), None, stride, padding)


POOLS = {"max_pool2d": (max_pool2d, np.max), "avg_pool2d": (avg_pool2d, np.mean)}
pools = pytest.mark.parametrize("name", POOLS)


@st.composite
def pool_inputs(draw):
    """(x, kernel, stride or None): distinct values, so no window's max is a tie."""
    kernel = (draw(sides), draw(sides))
    image = [draw(st.integers(k, 6)) for k in kernel]
    x = draw(arrays_in(DISTINCT, (draw(st.integers(0, 2)), draw(sides), *image)))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    if kernel[0] == kernel[1] and draw(st.booleans()):
        kernel = kernel[0]
    return x, kernel, stride


@properties.of(max_pool2d, avg_pool2d)
@pools
@given(case=pool_inputs(), dtype=float_dtypes)
def test_pooling_matches_numpy_for_any_window(name, case, dtype) -> None:
    x, kernel, stride = case
    op, reduce = POOLS[name]
    out = op(Tensor(x, dtype=dtype), kernel, stride)
    check_values(name, out, np_pool2d(x, kernel, stride or kernel, reduce), dtype)


@pools
@given(case=pool_inputs())
def test_pooling_gradient_matches_finite_differences(name, case) -> None:
    x, kernel, stride = case
    check_gradients(lambda t: POOLS[name][0](t, kernel, stride), x)


@pools
@given(case=pool_inputs(), grow=st.integers(1, 2))
def test_pooling_refuses_a_window_larger_than_the_image(name, case, grow) -> None:
    x, _, stride = case
    kernel = (x.shape[2] + grow, 1)
    with pytest.raises(ValueError, match=re.escape(name) + ".*larger than the input"):
        POOLS[name][0](Tensor(x), kernel, stride)


# ========================================================================== Module 11 · Embeddings

EMBEDDING = op_case("Embedding with repeated ids")


@st.composite
def embedding_inputs(draw):
    """(table (V, d), integer ids of any shape, repeats allowed)."""
    table = draw(arrays_in(REAL, (draw(sides), draw(sides))))
    ids = draw(int_arrays(draw(shapes()), 0, table.shape[0] - 1))
    return table, ids


@properties.of(Embedding.forward)
@given(case=embedding_inputs(), dtype=float_dtypes)
def test_embedding_looks_up_one_row_per_id(case, dtype) -> None:
    table, ids = case
    out = EMBEDDING(Tensor(table, dtype=dtype), indices=ids)
    check_values("Embedding", out, table[ids], dtype)


@given(case=embedding_inputs())
def test_embedding_gradient_matches_finite_differences(case) -> None:
    table, ids = case
    check_gradients(lambda t: EMBEDDING(t, indices=ids), table)


@given(case=embedding_inputs(), data=st.data())
def test_embedding_refuses_an_id_outside_the_table(case, data) -> None:
    table, _ = case
    bad = data.draw(st.sampled_from([-1, table.shape[0], table.shape[0] + 5]))
    ids = np.array([0, bad])
    with pytest.raises(IndexError, match=re.escape("Embedding.forward") + f".*index {bad}"):
        Embedding(*table.shape)(ids)


@given(case=embedding_inputs())
def test_embedding_refuses_float_ids(case) -> None:
    table, ids = case
    with pytest.raises(TypeError, match=re.escape("Embedding.forward")):
        Embedding(*table.shape)(ids.astype(np.float64))


# ========================================================================== Module 12 · Attention


@st.composite
def attention_inputs(draw):
    """(q, k, v, mask or None): batch dims that broadcast, any lengths, a mask that lets
    each query see at least one key."""
    batch_q, batch_k, batch_v = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, min_side=0, max_side=2)
    ).input_shapes
    t_q, t_k, d_k, d_v = draw(st.integers(0, 4)), draw(sides), draw(sides), draw(sides)
    q = draw(arrays_in(REAL, (*batch_q, t_q, d_k)))
    k = draw(arrays_in(REAL, (*batch_k, t_k, d_k)))
    v = draw(arrays_in(REAL, (*batch_v, t_k, d_v)))
    mask = None
    if draw(st.booleans()):
        mask = draw(hnp.arrays(np.bool_, (t_q, t_k)))
        mask[np.arange(t_q), draw(int_arrays((t_q,), 0, t_k - 1))] = True
    return q, k, v, mask


@properties.of(scaled_dot_product_attention)
@given(case=attention_inputs(), dtype=float_dtypes)
def test_attention_matches_numpy_for_any_batch_and_lengths(case, dtype) -> None:
    q, k, v, mask = case
    out = scaled_dot_product_attention(*(Tensor(a, dtype=dtype) for a in (q, k, v)), mask)
    check_values("attention", out, np_attention(q, k, v, mask), dtype)


@given(case=attention_inputs())
def test_attention_gradient_matches_finite_differences(case) -> None:
    q, k, v, mask = case
    check_gradients(lambda *t: scaled_dot_product_attention(*t, mask), q, k, v)


@given(case=attention_inputs())
def test_attention_with_every_key_masked_averages_the_values(case) -> None:
    q, k, v, _ = case
    mask = np.zeros((q.shape[-2], k.shape[-2]), dtype=bool)
    out = scaled_dot_product_attention(*(Tensor(a, dtype=np.float64) for a in (q, k, v)), mask)
    expected = np.broadcast_to(v.mean(axis=-2, keepdims=True), out.shape)
    check_values("attention", out, expected)


@given(case=attention_inputs(), extra=st.integers(1, 2))
def test_attention_refuses_queries_and_keys_of_different_widths(case, extra) -> None:
    q, k, v, mask = case
    k = np.ones((*k.shape[:-1], k.shape[-1] + extra))
    with pytest.raises(ValueError, match=re.escape("scaled_dot_product_attention")):
        scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask)


# ========================================================================== Module 13 · LayerNorm

LAYER_NORMS = {
    "affine": op_case("LayerNorm with weight and bias"),
    "plain": op_case("LayerNorm without weight and bias"),
}


@st.composite
def layer_norm_inputs(draw, domain=REAL, affine: bool | None = None):
    """(x, weight, bias) or (x,) (drawn unless ``affine`` says): normalized over the last
    1..ndim axes (sides >= 1)."""
    normalized = draw(shapes(min_dims=1, min_side=1))
    batch = draw(shapes(max_dims=2))
    x = draw(arrays_in(domain, (*batch, *normalized)))
    if affine is False or (affine is None and draw(st.booleans())):
        return (x,) if len(normalized) == 1 else draw(layer_norm_inputs(domain, affine))
    return x, draw(arrays_in(REAL, normalized)), draw(arrays_in(REAL, normalized))


def layer_norm(*tensors: Tensor) -> Tensor:
    return LAYER_NORMS["affine" if len(tensors) == 3 else "plain"](*tensors)


@properties.of(LayerNorm.forward)
@given(arrays=layer_norm_inputs(DISTINCT), dtype=float_dtypes)
def test_layer_norm_matches_numpy_over_the_last_axes(arrays, dtype) -> None:
    # distinct values: a nearly constant row would compare float32 rounding, not LayerNorm
    out = layer_norm(*(Tensor(a, dtype=dtype) for a in arrays))
    check_values("LayerNorm", out, np_layer_norm(*arrays), dtype)


@given(arrays=layer_norm_inputs())
def test_layer_norm_gradient_matches_finite_differences(arrays) -> None:
    check_gradients(layer_norm, *arrays)


@given(arrays=layer_norm_inputs(affine=True), extra=st.integers(1, 2))
def test_layer_norm_refuses_an_input_that_does_not_end_with_its_shape(arrays, extra) -> None:
    x, weight, _ = arrays
    layer = LayerNorm((*weight.shape[:-1], weight.shape[-1] + extra))
    with pytest.raises(ValueError, match=re.escape("LayerNorm.forward") + f".*{x.shape}"):
        layer(Tensor(x))


# ========================================================================== coverage


def test_every_public_op_of_modules_08_to_13_has_properties() -> None:
    assert properties.missing(op_cases(range(8, 14))) == []
