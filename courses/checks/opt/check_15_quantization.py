"""Graded checks of Module 15 · Quantization: int8 parameters, observers, quantized layers."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.perf import quantization
from tinytorch.vision import Conv2d

RNG = np.random.default_rng(1515)
W = RNG.standard_normal((6, 4)).astype(np.float32)
X = RNG.standard_normal((5, 6)).astype(np.float32)


def _model():
    model = Sequential(Linear(6, 8), ReLU(), Linear(8, 3))
    rng = np.random.default_rng(15)
    for _, p in model.named_parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32) * 0.5
    return model


def check_qparams_quantize_dequantize():
    """Affine and symmetric scales and zero-points; int8 values; values back."""
    scale, zero = quantization.compute_qparams(-1.0, 3.0)
    sym_scale, sym_zero = quantization.compute_qparams(
        np.array([-1.0, -0.5]), np.array([2.0, 0.25]), symmetric=True
    )
    q = quantization.quantize(W, scale, zero)
    per_channel = quantization.quantize(
        W, sym_scale[:1].repeat(4), np.zeros(4, dtype=np.int32), axis=1
    )
    return {
        "affine": [scale, zero],
        "symmetric": [sym_scale, sym_zero],
        "q": q,
        "q_dtype": str(q.dtype),
        "back": quantization.dequantize(q, scale, zero),
        "per_channel": per_channel,
        "range": [part for part in quantization.channel_range(W, axis=1)],
    }


def check_quantized_tensor_and_int_matmul():
    """A per-channel symmetric QuantizedTensor, its bytes and values; an exact integer product."""
    qt = quantization.quantize_tensor(W, axis=1, symmetric=True)
    a = RNG.integers(-128, 128, (3, 6)).astype(np.int8)
    b = RNG.integers(-128, 128, (6, 4)).astype(np.int8)
    return {
        "data": qt.data,
        "scale": qt.scale,
        "nbytes": qt.nbytes,
        "error_ok": bool(np.all(np.abs(qt.dequantize() - W) <= qt.scale / 2 + 1e-6)),
        "int_matmul": quantization.int_matmul(a, b),
    }


def check_observers():
    """Running min/max over batches, and a percentile range that ignores a rare outlier."""
    minmax, percentile = quantization.MinMaxObserver(), quantization.PercentileObserver(99.0)
    batches = [RNG.standard_normal(500), RNG.standard_normal(500) + 1, np.array([50.0])]
    for batch in batches:
        minmax.observe(batch)
        percentile.observe(batch)
    low, high = percentile.range()
    everything = np.concatenate(batches)
    return {
        "minmax": list(minmax.range()),
        "percentile": [low, high],
        "percentile_ok": bool(np.isclose(high, np.percentile(everything, 99.0), rtol=1e-3)),
    }


def check_quantized_linear():
    """A Linear quantized per output neuron: integer and float arithmetic, static and dynamic."""
    linear = _model()[0]
    x = Tensor(X)
    outputs = {}
    for compute in ("int8", "dequantize"):
        layer = quantization.QuantizedLinear.from_float(
            linear, input_qparams=quantization.compute_qparams(X.min(), X.max()), compute=compute
        )
        outputs[compute] = layer(x).data
    dynamic = quantization.QuantizedLinear.from_float(linear, per_channel=False)(x).data
    return {**outputs, "dynamic": dynamic}


def check_quantized_conv2d():
    """A Conv2d quantized per filter: output with integer and dequantized arithmetic."""
    conv = Conv2d(2, 3, 3, padding=1)
    rng = np.random.default_rng(16)
    for _, p in conv.named_parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    x = RNG.standard_normal((1, 2, 5, 5)).astype(np.float32)
    qparams = quantization.compute_qparams(x.min(), x.max())
    return {
        compute: quantization.QuantizedConv2d.from_float(
            conv, input_qparams=qparams, compute=compute
        )(Tensor(x)).data
        for compute in ("int8", "dequantize")
    }


def check_quantize_model_and_sizes():
    """A calibrated int8 copy of a model: its outputs, and bytes before and after."""
    model = _model()
    calibration = RNG.standard_normal((64, 6)).astype(np.float32)
    quantized = quantization.quantize_model(model, calibration)
    return {
        "out": quantized(Tensor(X)).data,
        "float_bytes": quantization.model_size_bytes(model),
        "int8_bytes": quantization.model_size_bytes(quantized),
        "weights_only": [
            quantization.model_size_bytes(model, weights_only=True),
            quantization.model_size_bytes(quantized, weights_only=True),
        ],
    }
