"""Module 18 · Acceleration — the specification, as tests.

Every faster kernel must compute what the obvious one computes (checked to float
rounding, gradients by finite differences); every lesson returns a measured record;
``accelerate`` keeps a swap only if the model's outputs and gradients do not change.
Nothing here asserts that anything is faster: that is what the benchmark reports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinytorch.core import Function, Tensor, gradcheck
from tinytorch.nn import GELU, Dropout, Linear, Module, Parameter, ReLU, Sequential
from tinytorch.nn.activations import gelu
from tinytorch.perf.acceleration import (
    AccelerationWarning,
    FusedGELU,
    FusedLayerNorm,
    Speedup,
    accelerate,
    blas_threads,
    contiguous_vs_strided,
    conv2d_windows,
    default_candidates,
    float32_vs_float64,
    fused_gelu,
    fused_layer_norm,
    gelu_fused,
    layer_norm,
    layer_norm_fused,
    loops_vs_vectorized,
    measure_speedup,
    run_lessons,
    speedup_table,
)
from tinytorch.testing import case_ids, check_op, op_cases
from tinytorch.text.transformers import GPT, LayerNorm, LayerNormFunction
from tinytorch.vision import conv2d_loops

# ============================================================================= vectorization


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 1)])
def test_windowed_convolution_equals_the_seven_loops(stride: int, padding: int, rng) -> None:
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    for bias in (b, None):
        expected = conv2d_loops(x, w, bias, stride, padding).data
        got = conv2d_windows(x, w, bias, stride, padding)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert got.flags.c_contiguous


@pytest.mark.ungraded
def test_windowed_convolution_names_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"conv2d_windows.*\(1, 2, 5, 5\).*\(4, 3, 3, 3\)"):
        conv2d_windows(np.zeros((1, 2, 5, 5)), np.zeros((4, 3, 3, 3)))


# ============================================================================= fused kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_gelu_matches_the_one_expression_gelu(dtype, rng) -> None:
    x = (3 * rng.standard_normal((5, 7))).astype(dtype)
    original = x.copy()
    expected = gelu(Tensor(x, dtype=dtype)).data
    got = gelu_fused(x)
    np.testing.assert_allclose(
        got, expected, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-7
    )
    assert got.dtype == dtype
    np.testing.assert_array_equal(x, original)  # the input is never overwritten


def test_fused_gelu_writes_into_the_buffer_it_is_given(rng) -> None:
    x = rng.standard_normal(10)
    out = np.empty_like(x)
    assert gelu_fused(x, out) is out
    np.testing.assert_allclose(out, gelu(Tensor(x, dtype=np.float64)).data, rtol=1e-13)


@pytest.mark.parametrize("n_axes", [1, 2])
@pytest.mark.parametrize("affine", [True, False])
def test_fused_layer_norm_matches_the_obvious_one(n_axes: int, affine: bool, rng) -> None:
    x = 2 + 3 * rng.standard_normal((2, 3, 4, 5))
    shape = x.shape[4 - n_axes :]
    w = rng.standard_normal(shape) if affine else None
    b = rng.standard_normal(shape) if affine else None
    out, mean, rstd = layer_norm_fused(x, w, b, eps=1e-5, n_axes=n_axes)
    module_13 = LayerNormFunction.apply(Tensor(x, dtype=np.float64), w, b, n_axes=n_axes, eps=1e-5)
    np.testing.assert_allclose(out, module_13.data, rtol=1e-12, atol=1e-12)
    rows = int(np.prod(x.shape[: 4 - n_axes]))
    assert mean.shape == rstd.shape == (rows, 1)


@pytest.mark.ungraded
def test_fused_layer_norm_refuses_to_normalize_nothing() -> None:
    with pytest.raises(ValueError, match="layer_norm_fused"):
        layer_norm_fused(np.zeros((3, 0)), None, None)


def test_layer_norm_gradients_match_finite_differences(rng) -> None:
    x = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, dtype=np.float64)
    w = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
    b = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x, w, b: layer_norm(x, w, b, n_axes=2), [x, w, b])
    x1 = Tensor(rng.standard_normal((4, 5)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: layer_norm(x, None, None), [x1])


def test_fused_gelu_gradients_match_finite_differences(rng) -> None:
    x = Tensor(3 * rng.standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: FusedGELU()(x), [x])
    assert type(FusedGELU()(x).grad_fn).__name__ == "GELUBackward"  # Module 05's rule


def test_fused_layer_norm_is_module_13s_node_with_a_fused_forward(rng) -> None:
    layer = LayerNorm(4)
    fused = FusedLayerNorm(4)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    out = fused(x)
    np.testing.assert_allclose(out.data, layer(x).data, rtol=1e-5, atol=1e-6)
    assert isinstance(out.grad_fn, type(layer(x).grad_fn))  # the same backward rule


# ============================================================================= measured lessons


def test_measure_speedup_compares_results_and_times_both() -> None:
    calls = {"slow": 0, "fast": 0}

    def slow() -> np.ndarray:
        calls["slow"] += 1
        return np.arange(4.0)

    def fast() -> np.ndarray:
        calls["fast"] += 1
        return np.arange(4.0) + 1e-9

    result = measure_speedup("demo", ("slow", slow), ("fast", fast), repeats=3)
    assert isinstance(result, Speedup)
    assert calls == {"slow": 4, "fast": 4}  # one call for the result, then 3 timed
    assert result.baseline_s > 0 and result.optimized_s > 0
    assert result.ratio == pytest.approx(result.baseline_s / result.optimized_s)
    assert result.max_abs_error == pytest.approx(1e-9)
    assert "demo" in str(result) and "x" in str(result)


def test_measure_speedup_refuses_two_different_computations() -> None:
    with pytest.raises(ValueError, match=r"demo.*shape \(3,\).*\(4,\)"):
        measure_speedup("demo", ("a", lambda: np.zeros(3)), ("b", lambda: np.zeros(4)))


@pytest.mark.parametrize(
    ("lesson", "tolerance"),
    [
        (lambda: loops_vs_vectorized(1, 2, 5, 2, repeats=1), 1e-10),
        (lambda: contiguous_vs_strided(n=256, stride=4, repeats=1), 0.0),
        (lambda: fused_gelu((4, 8), repeats=1), 1e-6),
        (lambda: fused_layer_norm((4, 8), repeats=1), 1e-5),
    ],
    ids=["loops", "strided", "gelu", "layernorm"],
)
def test_each_lesson_measures_the_same_result_two_ways(lesson, tolerance) -> None:
    result = lesson()
    assert isinstance(result, Speedup)
    assert result.baseline_s > 0 and result.optimized_s > 0
    assert result.max_abs_error <= tolerance


def test_float32_costs_a_little_accuracy() -> None:
    result = float32_vs_float64(n=32, repeats=1)
    assert 0 < result.max_abs_error < 1e-3
    assert result.baseline == "float64" and result.optimized == "float32"


def test_blas_threads_lesson_measures_one_thread_against_the_default() -> None:
    pytest.importorskip("threadpoolctl")
    result = blas_threads(n=32, repeats=1)
    assert result.baseline == "1 thread" and result.optimized.endswith("threads")
    assert result.baseline_s > 0 and result.optimized_s > 0
    assert result.max_abs_error < 1e-3


def test_the_lessons_make_one_table() -> None:
    results = run_lessons(quick=True)
    assert len(results) >= 5
    table = speedup_table(results)
    for result in results:
        assert result.lesson[:33] in table


# ============================================================================= accelerate()


def gelu_mlp() -> Sequential:
    return Sequential(Linear(6, 16), GELU(), Linear(16, 16), GELU(), Linear(16, 3))


def sample(rng, shape=(8, 6)) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def test_accelerate_swaps_gelu_in_place_and_keeps_the_outputs(rng) -> None:
    model = gelu_mlp()
    x = sample(rng)
    before = model(Tensor(x)).data.copy()
    state = model.state_dict()
    report = accelerate(model, x, repeats=1)
    assert [swap.original for swap in report.applied] == ["GELU"]
    assert report.applied[0].replacement == "FusedGELU"
    assert report.applied[0].layers == ("1", "3")
    assert report.rejected == []
    assert type(model[1]) is FusedGELU and isinstance(model[1], GELU)
    np.testing.assert_allclose(model(Tensor(x)).data, before, rtol=1e-5, atol=1e-6)
    assert report.max_abs_error < 1e-5
    assert report.max_grad_error is not None and report.max_grad_error < 1e-4
    assert model.state_dict().keys() == state.keys()
    assert report.time_before > 0 and report.time_after > 0 and report.speedup > 0
    assert "swapped GELU -> FusedGELU at 1, 3" in str(report)


def test_accelerated_models_still_train(rng) -> None:
    x = Tensor(sample(rng))
    reference, fused = gelu_mlp(), gelu_mlp()
    fused.load_state_dict(reference.state_dict())
    accelerate(fused, x, repeats=0)
    for model in (reference, fused):
        (model(x) * model(x)).sum().backward()
    for p, q in zip(reference.parameters(), fused.parameters()):
        np.testing.assert_allclose(q.grad.data, p.grad.data, rtol=1e-4, atol=1e-5)


class DoubledGELU(GELU):
    """A 'faster GELU' that is wrong: accelerate must refuse it."""

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x) * 2.0


class BrokenGELU(GELU):
    def forward(self, x: Tensor) -> Tensor:
        raise RuntimeError("kernel crashed")


def test_accelerate_refuses_and_reverts_a_swap_that_changes_results(rng) -> None:
    model = gelu_mlp()
    x = sample(rng)
    before = model(Tensor(x)).data.copy()
    with pytest.warns(AccelerationWarning, match="kept GELU at 1, 3: output differs"):
        report = accelerate(model, x, candidates={GELU: DoubledGELU}, repeats=0)
    assert report.applied == []
    (rejected,) = report.rejected
    assert rejected.replacement == "DoubledGELU" and "output differs" in rejected.reason
    assert type(model[1]) is GELU and type(model[3]) is GELU
    np.testing.assert_array_equal(model(Tensor(x)).data, before)
    assert "refused GELU -> DoubledGELU" in str(report)


def test_accelerate_refuses_a_swap_that_raises(rng) -> None:
    model = gelu_mlp()
    with pytest.warns(AccelerationWarning, match="RuntimeError: kernel crashed"):
        report = accelerate(model, sample(rng), candidates={GELU: BrokenGELU}, repeats=0)
    assert "raised RuntimeError" in report.rejected[0].reason
    assert type(model[1]) is GELU


class ZeroGradientGELUFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return gelu_fused(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * 0.0,)


class SameForwardWrongBackward(GELU):
    """Right outputs, wrong gradients: a model trained with it would not learn."""

    def forward(self, x: Tensor) -> Tensor:
        return ZeroGradientGELUFunction.apply(x)


def test_accelerate_checks_gradients_too(rng) -> None:
    model = gelu_mlp()
    with pytest.warns(AccelerationWarning, match="gradient of parameter"):
        report = accelerate(
            model, sample(rng), candidates={GELU: SameForwardWrongBackward}, repeats=0
        )
    assert report.applied == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = accelerate(
            model,
            sample(rng),
            candidates={GELU: SameForwardWrongBackward},
            check_gradients=False,
            repeats=0,
        )
    assert [s.replacement for s in report.applied] == ["SameForwardWrongBackward"]


@pytest.mark.ungraded
def test_float_tolerance_is_relative_to_the_scale_of_the_numbers() -> None:
    from tinytorch.perf.acceleration import _agree

    output = np.ones(3)
    big = np.array([500.0, -300.0])
    zero = np.zeros(2)  # a gradient that is 0 in exact arithmetic
    # Rounding noise of 1e-5 on a zero gradient, next to gradients of 500: not a change.
    assert _agree([output, big, zero], [output, big + 1e-3, zero + 1e-5], 1e-4, 1e-5) is None
    # The same relative noise on the big gradient alone is still within float32 rounding.
    assert _agree([output, big], [output, big * (1 + 5e-5)], 1e-4, 1e-5) is None
    # A real change, or NaN, is not.
    assert "gradient of parameter 1" in _agree(
        [output, big, zero], [output, big, zero + 1.0], 1e-4, 1e-5
    )
    assert "output" in _agree([output], [output * np.nan], 1e-4, 1e-5)
    assert "shape" in _agree([output], [np.ones(4)], 1e-4, 1e-5)


def test_accelerate_verifies_in_eval_mode_and_restores_the_mode(rng) -> None:
    model = Sequential(Linear(6, 8), GELU(), Dropout(0.5), Linear(8, 2))
    model.train()
    report = accelerate(model, sample(rng), repeats=0)
    assert [s.original for s in report.applied] == ["GELU"]
    assert model.training and model[2].training


def test_accelerate_says_when_there_is_nothing_to_swap(rng) -> None:
    model = Sequential(Linear(6, 4), ReLU())
    report = accelerate(model, sample(rng), repeats=0)
    assert report.applied == [] and report.rejected == []
    assert "nothing to swap" in str(report)
    with pytest.raises(ValueError, match="sample"):
        accelerate(model)


class TorchStyleLayerNorm(Module):
    """A LayerNorm with PyTorch's attribute names, written the obvious way."""

    def __init__(self, size: int) -> None:
        self.normalized_shape = (size,)
        self.eps = 1e-5
        self.weight = Parameter(np.linspace(0.5, 1.5, size))
        self.bias = Parameter(np.linspace(-0.2, 0.2, size))

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / (var + self.eps).sqrt() * self.weight + self.bias


class GammaBetaLayerNorm(TorchStyleLayerNorm):
    """Same maths, other attribute names: the fused forward cannot read it."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.gamma, self.beta = self.weight, self.bias
        del self.weight, self.bias

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / (var + self.eps).sqrt() * self.gamma + self.beta


def test_accelerate_fuses_a_layer_norm_that_uses_pytorch_names(rng) -> None:
    model = Sequential(Linear(6, 8), TorchStyleLayerNorm(8), Linear(8, 2))
    weight = model[1].weight
    report = accelerate(
        model, sample(rng), candidates={TorchStyleLayerNorm: FusedLayerNorm}, repeats=0
    )
    assert [s.replacement for s in report.applied] == ["FusedLayerNorm"]
    assert type(model[1]) is FusedLayerNorm and report.max_grad_error < 1e-4
    assert model[1].weight is weight  # the same Parameter, now in the fused layer
    with pytest.raises(ValueError, match=r"does not end with normalized_shape \(8,\)"):
        model[1](Tensor(np.zeros((2, 7))))


def test_accelerate_leaves_a_layer_norm_it_cannot_read(rng) -> None:
    model = Sequential(Linear(6, 8), GammaBetaLayerNorm(8))
    with pytest.warns(AccelerationWarning, match="AttributeError"):
        report = accelerate(
            model, sample(rng), candidates={GammaBetaLayerNorm: FusedLayerNorm}, repeats=0
        )
    assert report.applied == [] and type(model[1]) is GammaBetaLayerNorm


@pytest.mark.ungraded
def test_default_candidates_are_gelu_and_module_13s_layer_norm() -> None:
    assert default_candidates() == {GELU: FusedGELU, LayerNorm: FusedLayerNorm}


def test_accelerate_swaps_modules_in_their_parents_never_their_class(rng) -> None:
    """A module swap: new objects in the parents' attributes and lists, classes untouched."""
    model = GPT(vocab_size=20, d_model=16, n_heads=2, n_layers=2, max_len=8)
    originals = {name: layer for name, layer in model.named_modules() if type(layer) is LayerNorm}
    accelerate(model, rng.integers(0, 20, size=(2, 8)), repeats=0)
    for name, layer in originals.items():
        assert type(layer) is LayerNorm  # the old object is as it was
        swapped = model.get_submodule(name)
        assert type(swapped) is FusedLayerNorm and swapped is not layer
        assert swapped.weight is layer.weight
    assert type(model.blocks[0].mlp.act) is FusedGELU


def test_accelerate_a_gpt_keeps_its_logits_and_gradients(rng) -> None:
    model = GPT(vocab_size=20, d_model=16, n_heads=2, n_layers=2, max_len=8)
    ids = rng.integers(0, 20, size=(2, 8))
    before = model(ids).data.copy()
    state = model.state_dict()
    report = accelerate(model, ids, repeats=0)
    assert {s.original for s in report.applied} == {"LayerNorm", "GELU"}
    assert report.rejected == []
    layer_norms = next(s for s in report.applied if s.original == "LayerNorm").layers
    assert set(layer_norms) == {
        "blocks.0.ln1",
        "blocks.0.ln2",
        "blocks.1.ln1",
        "blocks.1.ln2",
        "ln_f",
    }
    np.testing.assert_allclose(model(ids).data, before, rtol=1e-4, atol=1e-5)
    assert model.state_dict().keys() == state.keys()


# ----------------------------------------------------------------------------- the op table

MODULE_18 = op_cases([18])


@pytest.mark.parametrize("case", MODULE_18, ids=case_ids(MODULE_18))
def test_every_op_of_this_module_keeps_its_row_of_the_op_table(case, rng) -> None:
    """From ``tinytorch.testing``: the NumPy forward, the gradient rule the op's own code
    names (and records), and that rule's gradient against finite differences."""
    check_op(case, rng)
