"""Module 15 · Quantization — the specification, as tests.

Small hand-sized cases pin down the arithmetic (scale, zero-point, rounding, saturation,
per-channel parameters, calibration, integer accumulation); the bars of the module are
checked on real models trained here in a few seconds with fixed seeds: the M3 MLP
(64 → 256 → 10 on TinyDigits) and a small CNN built from the architecture tier's Conv2d.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core import Tensor, manual_seed, no_grad
from tinytorch.datasets import load_tinydigits
from tinytorch.nn import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from tinytorch.optim import AdamW, CosineAnnealingLR
from tinytorch.perf.profiling import count_flops
from tinytorch.perf.quantization import (
    INT8_MAX,
    INT8_MIN,
    Calibrator,
    MinMaxObserver,
    PercentileObserver,
    QuantizedConv2d,
    QuantizedLinear,
    QuantizedTensor,
    channel_range,
    compute_qparams,
    dequantize,
    int_matmul,
    model_size_bytes,
    quantize,
    quantize_model,
    quantize_tensor,
    size_report,
)
from tinytorch.training import Trainer, accuracy
from tinytorch.vision.spatial import Conv2d, Flatten, MaxPool2d, conv2d

# ============================================================================= models


def train(model: Sequential, x: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> Sequential:
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    trainer = Trainer(
        model,
        optimizer,
        CrossEntropyLoss(),
        scheduler=CosineAnnealingLR(optimizer, epochs),
        progress=False,
    )
    trainer.fit(x, y, epochs=epochs, batch_size=64, seed=0)
    return model.eval()


def accuracy_on(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with no_grad():
        return accuracy(model(Tensor(x)).data, y)


@pytest.fixture(scope="module")
def cnn() -> tuple[Sequential, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Conv2d(1 -> 8, 3x3, padding 1) · ReLU · MaxPool · Linear on 8x8 digits in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = (load_tinydigits(s) for s in ("train", "test"))
    x_train, x_test = x_train[:, None], x_test[:, None]
    manual_seed(0)
    model = Sequential(Conv2d(1, 8, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(128, 10))
    return train(model, x_train, y_train, epochs=6, lr=1e-2), x_train, y_train, x_test, y_test


# ============================================================================= parameters


def test_affine_parameters_spread_256_levels_over_the_range() -> None:
    scale, zero_point = compute_qparams(-1.0, 3.0)
    assert scale.dtype == np.float32 and zero_point.dtype == np.int32
    assert scale == pytest.approx(4.0 / 255)
    assert zero_point == round(-128 + 1.0 / (4.0 / 255)) == -64
    ends = dequantize(np.array([INT8_MIN, INT8_MAX], dtype=np.int8), scale, zero_point)
    np.testing.assert_allclose(ends, [-1.0, 3.0], atol=float(scale) / 2)


def test_range_is_widened_to_include_zero() -> None:
    assert compute_qparams(2.0, 5.0) == compute_qparams(0.0, 5.0)
    assert compute_qparams(-5.0, -2.0) == compute_qparams(-5.0, 0.0)
    assert compute_qparams(0.0, 5.0)[1] == INT8_MIN  # one-sided data uses every level


def test_symmetric_parameters_have_zero_point_zero_and_scale_amax_over_127() -> None:
    scale, zero_point = compute_qparams(-0.5, 2.54, symmetric=True)
    assert zero_point == 0
    assert scale == pytest.approx(2.54 / 127)
    assert quantize(-2.54, scale, zero_point) == -127  # +-amax map to +-127


def test_asymmetric_is_twice_as_fine_as_symmetric_on_one_sided_data(rng) -> None:
    relu_out = rng.uniform(0.0, 6.0, size=1000).astype(np.float32)
    errors = {}
    for symmetric in (False, True):
        scale, zero_point = compute_qparams(0.0, 6.0, symmetric)
        restored = dequantize(quantize(relu_out, scale, zero_point), scale, zero_point)
        errors[symmetric] = np.abs(restored - relu_out).max()
    # Symmetric spends half of its 255 levels on negative values that never occur.
    assert errors[True] / errors[False] == pytest.approx(2.0, rel=0.1)


def test_per_channel_parameters_come_as_arrays() -> None:
    scale, zero_point = compute_qparams(np.array([-1.0, 0.0, -4.0]), np.array([1.0, 2.0, 4.0]))
    assert scale.shape == zero_point.shape == (3,)
    np.testing.assert_allclose(scale, np.array([2.0, 2.0, 8.0]) / 255)


def test_an_all_zero_range_still_gets_a_positive_scale() -> None:
    for symmetric in (False, True):
        scale, zero_point = compute_qparams(0.0, 0.0, symmetric)
        assert scale > 0
        assert dequantize(quantize(0.0, scale, zero_point), scale, zero_point) == 0.0


@pytest.mark.ungraded
def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="above"):
        compute_qparams(1.0, -1.0)
    with pytest.raises(ValueError, match="finite"):
        compute_qparams(0.0, np.inf)


@pytest.mark.parametrize(
    ("call", "op"),
    [
        (lambda: quantize_tensor("weights"), "channel_range"),
        (lambda: quantize(np.array(["1"]), 0.1, 0), "quantize"),
        (lambda: dequantize([None], 0.1, 0), "dequantize"),
    ],
)
@pytest.mark.ungraded
def test_what_is_not_numbers_is_refused_naming_the_op(call, op) -> None:
    with pytest.raises(TypeError, match=f"{op}: expected numbers .*got "):
        call()


# ============================================================================= quantize, dequantize

ranges = st.tuples(st.floats(-1e3, 1e3, width=32), st.floats(-1e3, 1e3, width=32)).map(sorted)


@settings(max_examples=60, deadline=None, database=None)
@given(bounds=ranges, symmetric=st.booleans(), seed=st.integers(0, 2**16))
def test_round_trip_error_is_at_most_half_a_step(bounds, symmetric, seed) -> None:
    low, high = bounds
    x = (low + (high - low) * np.random.default_rng(seed).random(200)).astype(np.float32)
    scale, zero_point = compute_qparams(low, high, symmetric)
    restored = dequantize(quantize(x, scale, zero_point), scale, zero_point)
    # float32 rounding adds a few ulps of the largest value on top of scale/2
    slack = 4 * np.finfo(np.float32).eps * max(abs(low), abs(high), 1.0)
    assert np.abs(restored - x).max() <= float(scale) / 2 + slack


@settings(max_examples=60, deadline=None, database=None)
@given(bounds=ranges, symmetric=st.booleans())
def test_zero_is_represented_exactly(bounds, symmetric) -> None:
    scale, zero_point = compute_qparams(*bounds, symmetric)
    q = quantize(np.zeros(3, dtype=np.float32), scale, zero_point)
    assert np.all(q == zero_point)
    assert np.all(dequantize(q, scale, zero_point) == 0.0)


def test_quantize_stores_one_byte_per_value_and_accepts_tensors() -> None:
    x = Tensor(np.linspace(-1, 1, 12).reshape(3, 4))
    q = quantize(x, *compute_qparams(-1.0, 1.0))
    assert q.dtype == np.int8 and q.shape == (3, 4)
    assert q.nbytes == x.memory_footprint() // 4


def test_values_outside_the_range_saturate_instead_of_wrapping() -> None:
    scale, zero_point = compute_qparams(-1.0, 1.0)
    q = quantize(np.array([-1000.0, -1.5, 1.5, 1000.0]), scale, zero_point)
    np.testing.assert_array_equal(q, [INT8_MIN, INT8_MIN, INT8_MAX, INT8_MAX])
    np.testing.assert_allclose(dequantize(q, scale, zero_point), [-1, -1, 1, 1], atol=scale)


def test_dequantize_subtracts_in_int32() -> None:
    # q - z = -128 - 127 = -255 does not fit in int8; it must not wrap around.
    out = dequantize(np.array([INT8_MIN], dtype=np.int8), np.float32(0.5), 127)
    assert out.dtype == np.float32 and out[0] == -127.5


@pytest.mark.ungraded
def test_bad_parameters_name_the_op_and_shapes() -> None:
    x = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"quantize: per-channel scale has shape \(2,\).*\(2, 3\)"):
        quantize(x, np.ones(2), np.zeros(2, dtype=np.int32), axis=1)
    with pytest.raises(ValueError, match="pass axis="):
        quantize(x, np.ones(3), np.zeros(3, dtype=np.int32))
    with pytest.raises(TypeError, match="zero_point must be integer"):
        quantize(x, 0.1, 0.5)
    with pytest.raises(ValueError, match="positive"):
        dequantize(x.astype(np.int8), 0.0, 0)


# ============================================================================= per channel


def test_channel_range_reduces_over_every_other_axis(rng) -> None:
    w = rng.standard_normal((4, 3, 2, 2))
    low, high = channel_range(w, axis=0)
    np.testing.assert_array_equal(low, w.reshape(4, -1).min(axis=1))
    np.testing.assert_array_equal(high, w.reshape(4, -1).max(axis=1))
    assert channel_range(w) == (w.min(), w.max())
    np.testing.assert_array_equal(channel_range(w, axis=-1)[1], w.max(axis=(0, 1, 2)))


def test_per_channel_beats_per_tensor_when_channels_differ_in_range(rng) -> None:
    # A Linear weight (in, out) whose four output neurons live on scales 0.01 .. 10.
    w = (rng.standard_normal((64, 4)) * np.array([0.01, 0.1, 1.0, 10.0])).astype(np.float32)
    per_tensor = quantize_tensor(w, symmetric=True)
    per_channel = quantize_tensor(w, axis=1, symmetric=True)
    assert per_channel.scale.shape == (4,) and per_tensor.scale.shape == ()
    err_tensor = np.abs(per_tensor.dequantize() - w).max(axis=0)
    err_channel = np.abs(per_channel.dequantize() - w).max(axis=0)
    assert np.all(err_channel <= err_tensor + 1e-7)
    # The small channel is rounded to nothing per tensor, but kept to <1% per channel.
    assert np.all(per_tensor.data[:, 0] == 0)
    assert err_channel[0] < 0.01 * np.abs(w[:, 0]).max()


def test_quantized_tensor_round_trip_and_bytes(rng) -> None:
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    q = quantize_tensor(w, axis=0)
    assert isinstance(q, QuantizedTensor) and q.data.dtype == np.int8
    step = q.scale.reshape(-1, 1, 1, 1)
    assert np.all(np.abs(q.dequantize() - w) <= step / 2 + 1e-6)
    assert q.nbytes == w.size + 5 * 4 + 5 * 4  # values, scales, zero-points
    assert quantize_tensor(w, axis=0, symmetric=True).nbytes == w.size + 5 * 4


# ============================================================================= calibration


def test_minmax_observer_tracks_the_extremes_over_batches() -> None:
    observer = MinMaxObserver()
    with pytest.raises(RuntimeError, match="nothing observed"):
        observer.range()
    observer.observe(np.array([0.5, 2.0]))
    observer.observe(Tensor([-1.0, 1.0]))
    assert observer.range() == (-1.0, 2.0) and observer.batches == 2
    assert observer.qparams() == compute_qparams(-1.0, 2.0)


def test_percentile_observer_ignores_rare_outliers(rng) -> None:
    batches = [rng.standard_normal(5000).astype(np.float32) for _ in range(4)]
    batches[2][7] = 1000.0
    minmax, clipped, everything = (
        MinMaxObserver(),
        PercentileObserver(99.9),
        PercentileObserver(100),
    )
    for batch in batches:
        for observer in (minmax, clipped, everything):
            observer.observe(batch)
    assert minmax.range()[1] == 1000.0
    assert 2.0 < clipped.range()[1] < 5.0
    assert everything.range() == pytest.approx(minmax.range())
    with pytest.raises(ValueError, match="percentile"):
        PercentileObserver(40)


def test_calibrator_observes_the_input_of_every_layer(rng) -> None:
    model = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    x = rng.standard_normal((20, 4)).astype(np.float32)
    hidden = np.maximum(x @ model[0].weight.data + model[0].bias.data, 0)
    calibrator = Calibrator(model).collect(x, batch_size=6)
    assert list(calibrator.layers) == ["0", "2"]
    assert calibrator.observers["0"].range() == pytest.approx((x.min(), x.max()))
    assert calibrator.observers["2"].range() == pytest.approx((hidden.min(), hidden.max()))
    assert calibrator.observers["0"].batches == 4  # 20 rows in batches of 6
    assert calibrator.qparams("2") == compute_qparams(hidden.min(), hidden.max())
    # The hooks are gone and the model is back in training mode.
    assert "forward" not in vars(model[0]) and model.training


def test_calibration_data_may_be_an_iterable_of_batches(rng) -> None:
    model = Sequential(Linear(4, 2))
    x = rng.standard_normal((10, 4)).astype(np.float32)
    as_array = Calibrator(model).collect(x).observers["0"].range()
    loader = [(Tensor(x[:5]), np.zeros(5)), (Tensor(x[5:]), np.zeros(5))]  # (input, label)
    assert Calibrator(model).collect(loader).observers["0"].range() == as_array
    assert Calibrator(model, "percentile", 100).collect(Tensor(x)).observers["0"].range() == (
        pytest.approx(as_array)
    )


@pytest.mark.ungraded
def test_calibrator_refuses_what_it_cannot_calibrate() -> None:
    with pytest.raises(ValueError, match="no Linear or Conv2d"):
        Calibrator(Sequential(ReLU()))
    with pytest.raises(ValueError, match="method"):
        Calibrator(Sequential(Linear(2, 2)), method="mse")
    with pytest.raises(KeyError, match="no layer"):
        Calibrator(Sequential(Linear(2, 2))).qparams("7")


# ============================================================================= integer GEMM


@pytest.mark.parametrize("k", [64, 2000], ids=["float32-exact", "float64-exact"])
def test_int_matmul_returns_exactly_the_integer_sums(rng, k) -> None:
    a = rng.integers(-255, 256, size=(3, 7, k))  # zero-point-shifted activations, batched
    b = rng.integers(-128, 128, size=(k, 5)).astype(np.int8)
    a[0, 0, :] = 255  # the largest sums there can be ...
    b[:, 0] = 127
    b[0, 0] = 126  # ... made odd: above 2^24, float32 could not hold them
    out = int_matmul(a.astype(np.int32), b)
    assert out.dtype == np.int32 and out.shape == (3, 7, 5)
    np.testing.assert_array_equal(out, a @ b.astype(np.int64))


@pytest.mark.ungraded
def test_int_matmul_refuses_what_an_int32_accumulator_cannot_hold() -> None:
    big = np.full((1, 70_000), 255, dtype=np.int32)
    with pytest.raises(OverflowError, match=r"int_matmul: .* overflow an int32 accumulator"):
        int_matmul(big, np.full((70_000, 1), 127, dtype=np.int8))
    with pytest.raises(ValueError, match=r"int_matmul: shapes \(2, 3\) and \(4, 5\)"):
        int_matmul(np.zeros((2, 3), np.int32), np.zeros((4, 5), np.int8))


# ============================================================================= QuantizedLinear


@pytest.fixture
def linear_and_input(rng) -> tuple[Linear, np.ndarray]:
    layer = Linear(32, 16)
    layer.bias.data[:] = rng.standard_normal(16).astype(np.float32)
    return layer, rng.uniform(-1.0, 3.0, size=(8, 32)).astype(np.float32)


def test_quantized_linear_holds_int8_weights_per_output_neuron(linear_and_input) -> None:
    layer, _ = linear_and_input
    q = QuantizedLinear.from_float(layer)
    assert q.weight.data.dtype == np.int8 and q.weight.shape == (32, 16)
    assert q.weight.scale.shape == (16,) and q.weight.symmetric
    assert q.parameters() == []  # inference only: nothing for an optimizer to touch
    assert QuantizedLinear.from_float(layer, per_channel=False).weight.scale.shape == ()


@pytest.mark.parametrize("compute", ["int8", "dequantize"])
def test_quantized_linear_output_is_close_to_the_float_layer(linear_and_input, compute) -> None:
    layer, x = linear_and_input
    expected = layer(Tensor(x)).data
    q = QuantizedLinear.from_float(layer, compute_qparams(x.min(), x.max()), compute=compute)
    out = q(Tensor(x))
    assert out.dtype == np.float32 and out.shape == (8, 16)
    assert np.abs(out.data - expected).max() < 0.02 * np.abs(expected).max()


def test_int8_path_accumulates_integer_products_exactly(linear_and_input) -> None:
    layer, x = linear_and_input
    s_x, z_x = compute_qparams(x.min(), x.max())
    q = QuantizedLinear.from_float(layer, (s_x, z_x))
    # The reference: exact integer arithmetic in int64, then one rescale per column.
    x_int = quantize(x, s_x, z_x).astype(np.int64) - z_x
    integer_sum = x_int @ q.weight.data.astype(np.int64)
    reference = integer_sum * (s_x * q.weight.scale) + layer.bias.data
    np.testing.assert_allclose(q(Tensor(x)).data, reference, rtol=1e-5, atol=1e-5)


def test_weight_only_path_multiplies_by_the_dequantized_weights(linear_and_input) -> None:
    layer, x = linear_and_input
    q = QuantizedLinear.from_float(layer, compute="dequantize")
    reference = x @ q.weight.dequantize() + layer.bias.data
    np.testing.assert_allclose(q(Tensor(x)).data, reference, rtol=1e-6, atol=1e-6)


def test_without_calibration_each_batch_uses_its_own_range(linear_and_input) -> None:
    layer, x = linear_and_input
    dynamic = QuantizedLinear.from_float(layer)
    static = QuantizedLinear.from_float(layer, compute_qparams(x.min(), x.max()))
    assert "dynamic" in repr(dynamic) and dynamic.input_scale is None
    np.testing.assert_allclose(dynamic(Tensor(x)).data, static(Tensor(x)).data, atol=1e-6)


def test_quantized_linear_rejects_bad_input(linear_and_input) -> None:
    layer, _ = linear_and_input
    q = QuantizedLinear.from_float(layer)
    with pytest.raises(ValueError, match=r"QuantizedLinear.forward: input shape \(2, 5\)"):
        q(Tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match="compute"):
        QuantizedLinear.from_float(layer, compute="int4")
    with pytest.raises(ValueError, match="symmetric int8"):
        QuantizedLinear(quantize_tensor(layer.weight, axis=1), None)


# ============================================================================= QuantizedConv2d


@pytest.fixture
def conv_and_input(rng) -> tuple[Conv2d, np.ndarray]:
    conv = Conv2d(3, 4, 3, stride=2, padding=1)
    conv.bias.data[:] = rng.standard_normal(4).astype(np.float32)
    # Inputs in [-1, 3]: the zero-point is -64, so padding with integer 0 would be wrong.
    return conv, rng.uniform(-1.0, 3.0, size=(2, 3, 7, 7)).astype(np.float32)


def test_quantized_conv_has_one_scale_per_filter(conv_and_input) -> None:
    conv, _ = conv_and_input
    q = QuantizedConv2d.from_float(conv)
    assert q.weight.data.dtype == np.int8 and q.weight.shape == (4, 3, 3, 3)
    assert q.weight.scale.shape == (4,)
    assert (q.stride, q.padding, q.kernel_size) == (conv.stride, conv.padding, conv.kernel_size)
    assert QuantizedConv2d.from_float(conv, per_channel=False).weight.scale.shape == ()


def test_int8_conv_equals_float_conv_of_the_quantized_values(conv_and_input) -> None:
    conv, x = conv_and_input
    s_x, z_x = compute_qparams(x.min(), x.max())
    assert z_x == -64
    for per_channel in (True, False):
        q = QuantizedConv2d.from_float(conv, (s_x, z_x), per_channel=per_channel)
        x_seen = dequantize(quantize(x, s_x, z_x), s_x, z_x)  # what the int8 layer sees
        reference = conv2d(Tensor(x_seen), Tensor(q.weight.dequantize()), conv.bias, 2, 1).data
        out = q(Tensor(x))
        assert out.shape == (2, 4, 4, 4)
        np.testing.assert_allclose(out.data, reference, rtol=1e-4, atol=1e-4)


def test_weight_only_conv_and_dynamic_conv_stay_close_to_float(conv_and_input) -> None:
    conv, x = conv_and_input
    expected = conv(Tensor(x)).data
    for q in (
        QuantizedConv2d.from_float(conv, compute="dequantize"),
        QuantizedConv2d.from_float(conv),
    ):
        assert np.abs(q(Tensor(x)).data - expected).max() < 0.02 * np.abs(expected).max()


def test_quantized_conv_rejects_wrong_channels(conv_and_input) -> None:
    conv, _ = conv_and_input
    with pytest.raises(ValueError, match=r"QuantizedConv2d.forward: expects \(batch, 3"):
        QuantizedConv2d.from_float(conv)(Tensor(np.zeros((1, 2, 5, 5))))


# ============================================================================= whole models


def test_quantize_model_leaves_the_original_untouched(m3, digits) -> None:
    before = m3.state_dict()
    logits = m3(Tensor(digits["x_test"])).data
    quantized = quantize_model(m3, digits["x_train"][:256])
    assert quantized is not m3
    assert [type(s) for s in m3.stages] == [Linear, ReLU, Dropout, Linear]
    for name, value in m3.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    np.testing.assert_array_equal(m3(Tensor(digits["x_test"])).data, logits)


def test_quantize_model_swaps_every_linear_and_keeps_the_rest(m3, digits) -> None:
    sample = digits["x_train"][:256]
    quantized = quantize_model(m3, sample)
    assert [type(s) for s in quantized.stages] == [QuantizedLinear, ReLU, Dropout, QuantizedLinear]
    assert not quantized.training
    calibrator = Calibrator(m3).collect(sample)
    assert quantized[3].input_scale == calibrator.qparams("3")[0]
    assert quantized[3].input_zero_point == calibrator.qparams("3")[1] == INT8_MIN  # after ReLU
    options = quantize_model(m3, sample, per_channel=False, compute="dequantize")
    assert options[0].weight.scale.shape == () and options[0].compute == "dequantize"


def test_a_single_layer_model_is_quantized_too(rng) -> None:
    layer = Linear(4, 3)
    quantized = quantize_model(layer, rng.standard_normal((8, 4)))
    assert isinstance(quantized, QuantizedLinear) and isinstance(layer, Linear)


def test_quantize_model_swaps_conv2d_for_quantized_conv2d(cnn) -> None:
    model, x_train, *_ = cnn
    quantized = quantize_model(model, x_train[:128])
    assert isinstance(quantized[0], QuantizedConv2d) and isinstance(quantized[4], QuantizedLinear)
    assert isinstance(model[0], Conv2d)


def test_profiles_count_the_same_work_for_quantized_layers(cnn) -> None:
    model, x_train, *_ = cnn
    quantized = quantize_model(model, x_train[:64])
    sample = Tensor(x_train[:4])
    assert count_flops(quantized, sample) == count_flops(model, sample)


# ============================================================================= size


def test_model_size_counts_every_stored_byte(m3, digits) -> None:
    weights = 64 * 256 + 256 * 10  # 18,944
    biases = 256 + 10
    assert model_size_bytes(m3, weights_only=True) == 4 * weights == 75_776
    assert model_size_bytes(m3) == 4 * (weights + biases) == 76_840
    quantized = quantize_model(m3, digits["x_train"][:256])
    assert model_size_bytes(quantized, weights_only=True) == weights
    scales, input_qparams = 4 * biases, 2 * (4 + 4)
    assert model_size_bytes(quantized) == weights + scales + 4 * biases + input_qparams


def test_tied_weights_are_counted_once() -> None:
    layer = Linear(8, 8)
    assert model_size_bytes(Sequential(layer, ReLU(), layer)) == model_size_bytes(layer)


def test_weights_are_four_times_smaller_and_the_whole_model_a_little_less(m3, digits) -> None:
    report = size_report(m3, quantize_model(m3, digits["x_train"][:256]))
    assert report.weight_ratio == 4.0
    assert 3.5 < report.total_ratio < 4.0  # scales and float32 biases cost a little
    assert "4.00x" in str(report)


# ============================================================================= the bars


@pytest.mark.parametrize(
    "options",
    [{}, {"compute": "dequantize"}, {"method": "percentile"}, {"per_channel": False}],
    ids=["int8", "weight-only", "percentile", "per-tensor"],
)
def test_int8_m3_loses_at_most_one_point_of_accuracy(m3, digits, options) -> None:
    float_accuracy = accuracy_on(m3, digits["x_test"], digits["y_test"])
    quantized = quantize_model(m3, digits["x_train"][:512], **options)
    int8_accuracy = accuracy_on(quantized, digits["x_test"], digits["y_test"])
    assert float_accuracy > 0.95
    assert int8_accuracy >= float_accuracy - 0.01


def test_int8_cnn_loses_at_most_one_point_of_accuracy(cnn) -> None:
    model, x_train, _, x_test, y_test = cnn
    float_accuracy = accuracy_on(model, x_test, y_test)
    int8_accuracy = accuracy_on(quantize_model(model, x_train[:512]), x_test, y_test)
    assert float_accuracy > 0.9
    assert int8_accuracy >= float_accuracy - 0.01
