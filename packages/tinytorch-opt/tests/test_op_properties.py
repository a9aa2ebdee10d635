"""Properties of every public op of Modules 14–20, for any shape, value and dtype.

The optimization tier's rows of the op table (``tinytorch.perf.op_cases``): the
distillation loss and the fused kernels that stand in for GELU and LayerNorm. Here
hypothesis draws batches, class counts, temperatures and weights, and tensors of any
shape: the forward matches NumPy (a fused kernel matches the op it replaces), the
gradient matches central finite differences in float64, and a bad combination raises an
error naming the op. The last test insists that every op of this tier's rows has a
property here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import activations
from tinytorch.perf.acceleration import FusedGELU, layer_norm
from tinytorch.perf.compression import distillation_loss
from tinytorch.perf.op_cases import np_distillation_loss
from tinytorch.testing import (
    ACTIVATION_REFERENCES,
    AWAY_FROM_ZERO,
    DISTINCT,
    REAL,
    check_gradients,
    check_values,
    op_cases,
)
from tinytorch.testing_strategies import FLOAT_DTYPES, OpProperties, arrays_in, int_arrays, shapes
from tinytorch.text.op_cases import np_layer_norm

properties = OpProperties()
float_dtypes = st.sampled_from(FLOAT_DTYPES)


@pytest.fixture(autouse=True)
def _autograd_on() -> None:
    enable_autograd()


# ========================================================================== Module 16 · Compression


@st.composite
def distillation_inputs(draw):
    """(student (N, C), teacher (N, C), targets (N,) or None, temperature, alpha)."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    student, teacher = draw(arrays_in(REAL, (n, c))), draw(arrays_in(REAL, (n, c))) * 2
    alpha = draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0))
    targets = draw(int_arrays((n,), 0, c - 1)) if alpha < 1 else None
    return student, teacher, targets, draw(st.floats(0.5, 5.0)), alpha


@properties.of(distillation_loss)
@given(case=distillation_inputs(), dtype=float_dtypes)
def test_distillation_loss_matches_numpy_for_any_temperature_and_weight(case, dtype) -> None:
    student, teacher, targets, temperature, alpha = case
    out = distillation_loss(Tensor(student, dtype=dtype), teacher, targets, temperature, alpha)
    expected = np_distillation_loss(student, teacher, targets, temperature, alpha)
    check_values("distillation_loss", out, expected, dtype)


@given(case=distillation_inputs())
def test_distillation_loss_gradient_matches_finite_differences(case) -> None:
    student, teacher, targets, temperature, alpha = case
    check_gradients(lambda s: distillation_loss(s, teacher, targets, temperature, alpha), student)


@given(case=distillation_inputs(), extra=st.integers(1, 2))
def test_distillation_loss_refuses_teacher_logits_of_another_shape(case, extra) -> None:
    student, teacher, targets, temperature, alpha = case
    teacher = np.ones((teacher.shape[0], teacher.shape[1] + extra))
    with pytest.raises(ValueError, match=re.escape("distillation_loss") + ".*teacher"):
        distillation_loss(Tensor(student), teacher, targets, temperature, alpha)


@given(case=distillation_inputs(), temperature=st.floats(max_value=0.0) | st.just(np.nan))
def test_distillation_loss_refuses_a_temperature_that_is_not_positive(case, temperature) -> None:
    student, teacher, targets, _, alpha = case
    with pytest.raises(ValueError, match=re.escape("distillation_loss: temperature")):
        distillation_loss(Tensor(student), teacher, targets, temperature, alpha)


# ======================================================================== Module 18 · Acceleration


@properties.of(FusedGELU.forward)
@given(data=st.data(), dtype=float_dtypes)
def test_fused_gelu_matches_gelu_and_its_gradient(data, dtype) -> None:
    x = data.draw(arrays_in(AWAY_FROM_ZERO, data.draw(shapes())))
    out = FusedGELU()(Tensor(x, dtype=dtype))
    assert out.dtype == dtype
    check_values("FusedGELU", out, ACTIVATION_REFERENCES["gelu"](x), dtype)
    check_values("FusedGELU", out, activations.gelu(Tensor(x, dtype=dtype)).data, dtype)
    check_gradients(FusedGELU(), x)


@st.composite
def layer_norm_inputs(draw, domain=REAL):
    """(x, weight or None, bias or None, n_axes): over the last 1..ndim axes (sides >= 1)."""
    normalized = draw(shapes(min_dims=1, min_side=1))
    x = draw(arrays_in(domain, (*draw(shapes(max_dims=2)), *normalized)))
    weight = draw(st.none() | arrays_in(REAL, normalized))
    bias = None if weight is None else draw(arrays_in(REAL, normalized))
    return x, weight, bias, len(normalized)


def fused(x, weight, bias, n_axes, dtype=np.float64):
    tensors = [None if a is None else Tensor(a, dtype=dtype) for a in (x, weight, bias)]
    return layer_norm(*tensors, n_axes=n_axes)


def reference(x, weight, bias, n_axes):
    if weight is None:  # np_layer_norm reads the normalized axes from the weight
        weight, bias = np.ones(x.shape[x.ndim - n_axes :]), np.zeros(x.shape[x.ndim - n_axes :])
    return np_layer_norm(x, weight, bias)


@properties.of(layer_norm)
@given(case=layer_norm_inputs(DISTINCT), dtype=float_dtypes)
def test_fused_layer_norm_matches_numpy_over_the_last_axes(case, dtype) -> None:
    # distinct values: a nearly constant row would compare float32 rounding, not LayerNorm
    check_values("layer_norm", fused(*case, dtype), reference(*case), dtype)


@given(case=layer_norm_inputs())
def test_fused_layer_norm_gradient_matches_finite_differences(case) -> None:
    x, weight, bias, n_axes = case
    arrays = [a for a in (x, weight, bias) if a is not None]
    check_gradients(lambda x, *wb: layer_norm(x, *(wb or (None, None)), n_axes=n_axes), *arrays)


@given(case=layer_norm_inputs(), extra=st.integers(1, 2))
def test_fused_layer_norm_refuses_a_weight_of_another_shape(case, extra) -> None:
    x, _, _, n_axes = case
    weight = np.ones((*x.shape[x.ndim - n_axes : -1], x.shape[-1] + extra))
    with pytest.raises(ValueError, match=re.escape(f"layer_norm: weight has shape {weight.shape}")):
        fused(x, weight, np.zeros(weight.shape), n_axes)


# ========================================================================== coverage


def test_every_public_op_of_modules_14_to_20_has_properties() -> None:
    assert properties.missing(op_cases(range(14, 21))) == []
